//! census: track what an application does — incoming requests and
//! outgoing dependencies — as OpenTelemetry spans, for Application Insights
//! or any OpenTelemetry backend.
//!
//! Enable the integrations you use as cargo features, build a
//! [`Tracer`], and switch the integrations on at start-up:
//!
//! ```
//! use census::{Tracer, export::ConsoleExporter, sampling::ProbabilitySampler};
//!
//! let tracer = Tracer::builder()
//!     .exporter(ConsoleExporter::new())
//!     .sampler(ProbabilitySampler::new(1.0)?)
//!     .build();
//! census::config_integration::trace_integrations(&["sqlx", "reqwest", "axum"]);
//! {
//!     let _span = tracer.span("foo"); // an in-process dependency
//! }
//! tracer.shutdown(std::time::Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! Each feature compiles one integration in and re-exports its crate:
//!
//! - `tower`: [`tower`] (`census-tower`), server middleware for tower
//!   services; `axum` adds axum's route templates (alias of the `tower`
//!   integration name);
//! - `reqwest`: [`reqwest`] (`census-reqwest`), outgoing HTTP calls;
//! - `sqlx`: [`sqlx`] (`census-sqlx`), database calls through sqlx, with
//!   `sqlx-sqlite`, `sqlx-postgres` and `sqlx-mysql` for each database;
//! - `azure`: [`azure`] (`census-azure`), the Application Insights
//!   exporter, also used by `Tracer::from_env()` when
//!   `APPLICATIONINSIGHTS_CONNECTION_STRING` is set.

pub mod config_integration;

pub use census_core::{
    ENV_EXPORT_JSONL, Tracer, TracerBuilder, TracerError, context, export, model, operation,
    propagation, registry, sampling, sanitize, span,
};

#[cfg(feature = "azure")]
pub use census_azure as azure;
#[cfg(feature = "reqwest")]
pub use census_reqwest as reqwest;
#[cfg(feature = "sqlx")]
pub use census_sqlx as sqlx;
#[cfg(feature = "tower")]
pub use census_tower as tower;
