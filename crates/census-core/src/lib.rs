//! census core: what every census integration shares.
//!
//! - [`model`]: the typed dependency model ([`model::DbSystem`],
//!   [`model::Target`], SQL, MongoDB and HTTP commands) and its mapping onto
//!   OpenTelemetry semantic-convention attributes;
//! - [`registry`]: each integration's switch and cached tracer, turned on
//!   by code or by the `CENSUS_INTEGRATIONS` /
//!   `CENSUS_DISABLED_INTEGRATIONS` variables;
//! - [`span`]: the one span lifecycle every integration uses;
//! - [`operation`]: the request every span belongs to;
//! - [`Tracer`]: exporters, sampler, in-process spans, flush on shutdown;
//! - [`sampling`]: Application Insights compatible probability sampling;
//! - [`sanitize`]: SQL literal removal and URL redaction;
//! - [`propagation`]: W3C Trace Context (Level 2) and B3 as OpenTelemetry
//!   propagators, and the helpers every integration extracts and injects
//!   with through the global propagator;
//! - [`context`]: the parent a span starts under, and task spawning;
//! - [`export`]: console tree and JSON-lines exporters;
//! - [`batch`]: the batch processor that feeds each exporter.
//!
//! # Features
//!
//! - `testing`: [`testing`], in-memory span capture for integration tests.
//!
//! Core depends on no remote exporter: choosing one from the environment
//! (Application Insights, OTLP) is the `census` facade's job.
//!
//! ```
//! use census_core::{Tracer, export::ConsoleExporter, sampling::ProbabilitySampler};
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
pub mod context;
pub mod diagnostics;
pub mod export;
pub mod http;
pub mod model;
pub mod operation;
pub mod propagation;
pub mod registry;
mod ring;
pub mod sampling;
/// SQL literal removal, URL redaction and quoted-value masking: the
/// [`census-sanitize`](census_sanitize) crate, which needs no
/// OpenTelemetry.
pub use census_sanitize as sanitize;
pub mod span;
#[cfg(test)]
mod test_support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod tracer;

pub use tracer::{ENV_EXPORT_JSONL, Tracer, TracerBuilder, TracerError};
