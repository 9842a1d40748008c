//! census pipeline: the OpenTelemetry SDK provider census integrations
//! record with, and what feeds its exporters.
//!
//! - [`Tracer`]: OpenCensus's `Tracer(exporter=..., sampler=...)` over the
//!   OpenTelemetry SDK — exporters, sampler, in-process spans, flush on
//!   shutdown — installed as the provider of census's integrations
//!   ([`census_core::registry`]) and OpenTelemetry's global provider;
//! - [`sampling`]: Application Insights compatible probability sampling,
//!   as an SDK `ShouldSample` that census also applies before a span is
//!   built;
//! - [`batch`]: the batch processor that feeds each exporter;
//! - [`metrics`]: the meter provider built beside the tracer provider,
//!   which census's integrations measure every call with;
//! - [`export`]: console tree and JSON-lines exporters;
//! - [`propagators`]: `OTEL_PROPAGATORS` names and the global propagator
//!   the builder installs;
//! - [`operation`]: operation names on exported spans;
//! - [`logs`]: redaction, trace-based sampling and operation names of log
//!   records.
//!
//! Integrations never depend on this crate: they record through
//! `census-core`, with whatever provider the application installed.
//! Remote exporters (Application Insights, OTLP) are chosen in the
//! `census` facade.
//!
//! # Features
//!
//! - `testing`: [`testing`], in-memory span capture for integration tests.
//!
//! ```
//! use census_pipeline::{Tracer, export::ConsoleExporter, sampling::ProbabilitySampler};
//! let tracer = Tracer::builder()
//!     .exporter(ConsoleExporter::new())
//!     .sampler(ProbabilitySampler::new(0.5)?)
//!     .build();
//! {
//!     let _span = tracer.span("foo"); // an in-process dependency
//! }
//! tracer.shutdown(std::time::Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
mod env;
pub mod export;
pub mod logs;
pub mod metrics;
pub mod operation;
mod presample;
pub mod propagators;
pub mod sampling;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tracer;

pub use tracer::{ENV_EXPORT_JSONL, Tracer, TracerBuilder, TracerError};
