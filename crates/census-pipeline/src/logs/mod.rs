//! What stands between the log bridges and each log exporter.
//!
//! - [`RedactingLoggerProvider`]: the provider the bridges write to,
//!   which redacts secret fields and URLs as they are recorded, so that
//!   no exporter receives them;
//! - [`TraceBasedLogSampling`]: drops a record written inside an
//!   operation that sampling dropped;
//! - [`OperationNameLogProcessor`]: the name of the request a record was
//!   written in, for the exporters that map records onto operations.

mod operation;
mod redact;
mod sampling;

pub use operation::OperationNameLogProcessor;
pub use redact::{RedactingLogRecord, RedactingLogger, RedactingLoggerProvider, redact_attribute};
pub use sampling::TraceBasedLogSampling;
