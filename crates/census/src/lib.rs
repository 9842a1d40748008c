//! census: track what an application does — incoming requests and
//! outgoing dependencies — as OpenTelemetry spans, for Application Insights
//! or any OpenTelemetry backend.
//!
//! Enable the integrations you use as cargo features, build a
//! [`Tracer`] (or let the environment choose its exporters with
//! [`Tracer::from_env()`](TracerFromEnv::from_env)), and switch the
//! integrations on at start-up:
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
//! - `actix`: [`actix`] (`census-actix`), server middleware for
//!   actix-web;
//! - `reqwest`: [`reqwest`] (`census-reqwest`), outgoing HTTP calls;
//! - `hyper`: [`hyper`] (`census-hyper`), outgoing HTTP calls through
//!   hyper-util's client or any tower HTTP client service;
//! - `sqlx`: [`sqlx`] (`census-sqlx`), database calls through sqlx, with
//!   `sqlx-sqlite`, `sqlx-postgres` and `sqlx-mysql` for each database;
//! - `postgres`: [`postgres`] (`census-postgres`), tokio-postgres
//!   statements;
//! - `mysql`: [`mysql`] (`census-mysql`), mysql_async statements, on MySQL
//!   and MariaDB;
//! - `mongodb`: [`mongodb`] (`census-mongodb`), MongoDB driver commands;
//! - `diesel`: [`diesel`] (`census-diesel`), diesel queries on PostgreSQL,
//!   MySQL and SQLite: switching the `diesel` integration on makes census
//!   diesel's default instrumentation, so connections need no change;
//! - `azure`: [`azure`] (`census-azure`), the Application Insights
//!   exporter, also used by `Tracer::from_env()` when
//!   `APPLICATIONINSIGHTS_CONNECTION_STRING` is set;
//! - `otlp`: [`otlp`] (`opentelemetry-otlp`), OTLP over HTTP/protobuf to a
//!   collector or any OTLP backend, used by `Tracer::from_env()` when
//!   `OTEL_TRACES_EXPORTER=otlp` or an `OTEL_EXPORTER_OTLP_*ENDPOINT` is set;
//! - `otlp-grpc`: OTLP over gRPC as well
//!   (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`);
//! - `tracing`: [`tracing`](mod@tracing), one tree with `tracing` spans
//!   (`#[instrument]`) through `tracing-opentelemetry`.
//!
//! [`TracerFromEnv`] lists the environment variables and their precedence.

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config_integration;
mod from_env;
#[cfg(feature = "log")]
pub mod log;
#[cfg(any(feature = "tracing", feature = "log"))]
mod log_filter;
#[cfg(feature = "otlp")]
mod otlp_env;
pub mod settings;
#[cfg(feature = "tracing")]
pub mod tracing;

pub use census_core::{context, http, model, registry, sanitize, span};
pub use census_pipeline::{
    ENV_EXPORT_JSONL, Tracer, TracerBuilder, TracerError, batch, export, sampling,
};

/// Trace context over `http` headers through OpenTelemetry's global
/// propagator ([`census_core::propagation`]), and the `OTEL_PROPAGATORS`
/// names the tracer installs it from
/// ([`census_pipeline::propagators`]).
///
/// ```
/// use census::propagation::{PropagatorName, TraceContextPropagator};
/// assert_eq!(PropagatorName::parse_list("tracecontext,baggage")?, PropagatorName::DEFAULT);
/// let _w3c = TraceContextPropagator::new();
/// # Ok::<(), census::propagation::PropagatorListError>(())
/// ```
pub mod propagation {
    pub use census_core::propagation::*;
    pub use census_pipeline::propagators::*;
}

/// The request every span belongs to ([`census_core::operation`]), and
/// the operation names on exported spans
/// ([`census_pipeline::operation`]).
///
/// ```
/// let cx = census::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
/// assert!(census::operation::name(&cx).is_some());
/// ```
pub mod operation {
    pub use census_core::operation::*;
    pub use census_pipeline::operation::*;
}

pub use from_env::{
    ENV_LOGS_EXPORTER, ENV_METRICS_EXPORTER, ENV_TRACES_EXPORTER, FromEnvError, TracerFromEnv,
};

/// What most programs need in scope: the tracer, its builder, and
/// [`TracerFromEnv`] so that `Tracer::from_env()` resolves.
///
/// ```
/// use census::prelude::*;
/// # fn main() -> Result<(), census::settings::SettingsError> {
/// let tracer = Tracer::from_env()?;
/// # let _ = tracer.shutdown(std::time::Duration::from_secs(5));
/// # Ok(())
/// # }
/// ```
pub mod prelude {
    pub use crate::{Tracer, TracerBuilder, TracerFromEnv};
}

#[cfg(feature = "actix")]
pub use census_actix as actix;
#[cfg(feature = "azure")]
pub use census_azure as azure;
#[cfg(feature = "diesel")]
pub use census_diesel as diesel;
#[cfg(feature = "hyper")]
pub use census_hyper as hyper;
#[cfg(feature = "mongodb")]
pub use census_mongodb as mongodb;
#[cfg(feature = "mysql")]
pub use census_mysql as mysql;
#[cfg(feature = "postgres")]
pub use census_postgres as postgres;
#[cfg(feature = "reqwest")]
pub use census_reqwest as reqwest;
#[cfg(feature = "sqlx")]
pub use census_sqlx as sqlx;
#[cfg(feature = "tower")]
pub use census_tower as tower;
#[cfg(feature = "otlp")]
pub use opentelemetry_otlp as otlp;
