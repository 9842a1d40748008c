//! census core: what every census integration builds on, and nothing
//! of the export pipeline.
//!
//! - [`model`]: the typed dependency model ([`model::DbSystem`],
//!   [`model::Target`], SQL, MongoDB and HTTP commands) and its mapping onto
//!   OpenTelemetry semantic-convention attributes;
//! - [`registry`]: each integration's switch and cached tracer, turned on
//!   by code or by the `CENSUS_INTEGRATIONS` /
//!   `CENSUS_DISABLED_INTEGRATIONS` variables, and the provider they
//!   record with;
//! - [`span`]: the one span lifecycle every integration uses;
//! - [`metrics`]: the duration metric of every traced call, sampled or
//!   not, and the meter provider integrations measure with;
//! - [`operation`]: the request every span belongs to;
//! - [`http`]: what HTTP integrations share (hooks, exclusions, request
//!   details);
//! - [`sanitize`]: SQL literal removal and URL redaction;
//! - [`propagation`]: W3C Trace Context (Level 2) and B3 as OpenTelemetry
//!   propagators, and the helpers every integration extracts and injects
//!   with through the global propagator;
//! - [`context`]: the parent a span starts under, and task spawning.
//!
//! Core depends on the OpenTelemetry API only: spans are recorded through
//! whatever `TracerProvider` [`registry::set_tracer_provider`] was given,
//! or OpenTelemetry's global one. Building a provider (samplers, batch
//! export, exporters, the environment) is the pipeline's job
//! (`census-pipeline`), and choosing a remote exporter the `census`
//! facade's.
//!
//! ```
//! use census_core::model::Outcome;
//! use census_core::registry::Integration;
//! use opentelemetry::trace::SpanKind;
//!
//! static JOBS: Integration = Integration::new("jobs", "my-jobs", "0.1.0");
//! let span = JOBS.start(SpanKind::Internal, "nightly", &census_core::context::current(), Vec::new);
//! span.finish(&Outcome::Ok);
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod context;
pub mod diagnostics;
pub mod http;
pub mod metrics;
pub mod model;
pub mod operation;
pub mod propagation;
pub mod registry;
mod ring;
/// SQL literal removal, URL redaction and quoted-value masking: the
/// [`census-sanitize`](census_sanitize) crate, which needs no
/// OpenTelemetry.
pub use census_sanitize as sanitize;
pub mod span;
