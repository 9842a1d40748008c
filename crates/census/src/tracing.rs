//! One tree with `tracing` spans (feature `tracing`).
//!
//! Most Rust services already trace with `tracing` (`#[instrument]`), and
//! many send those spans to OpenTelemetry through `tracing-opentelemetry`.
//! There the current trace lives in the `tracing` span, so a census span
//! started inside `#[instrument]` code must take its parent from it, and
//! `tracing` spans entered inside census work must be children of the
//! census span. [`layer`] gives both: it records `tracing` spans on the
//! census tracer's provider, and by entering a `tracing` span it makes that
//! span's context the current OpenTelemetry context (tracing-opentelemetry's
//! context activation), which is where census looks for a parent.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt as _;
//! use census::{Tracer, export::ConsoleExporter};
//!
//! let tracer = Tracer::builder().exporter(ConsoleExporter::new()).build();
//! let subscriber = tracing_subscriber::registry().with(census::tracing::layer(&tracer));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _request = tracing::info_span!("handle order").entered();
//!     let _query = tracer.span("load order"); // a child of `handle order`
//! });
//! # tracer.shutdown(std::time::Duration::from_secs(5)).unwrap();
//! ```
//!
//! [`logs_layer`] writes `tracing` events as log records to the tracer's
//! logger provider, each with the trace and span current when it was
//! written (`TracerBuilder::log_exporter` adds the exporter).
//!
//! An application that builds its own `tracing_opentelemetry` layer keeps
//! context activation on (its default); if it turns it off, it calls
//! [`take_parents_from_tracing`] so that census still finds its parent.

mod logs;

pub use logs::{
    DEFAULT_LOG_FILTER, ENV_LOG_FILTER, LogFilterError, log_filter, log_filter_from_env, logs_layer,
};

use std::sync::atomic::Ordering;

use ::tracing::Subscriber;
use census_pipeline::Tracer;
use opentelemetry::Context;
use opentelemetry::trace::TracerProvider as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

/// The instrumentation scope of `tracing` spans recorded through [`layer`].
pub const SCOPE: &str = "tracing";

/// A `tracing` layer that records `tracing` spans with `tracer`'s provider,
/// so that they and census's spans form one tree; it also calls
/// [`take_parents_from_tracing`].
///
/// `tracing` events inside a span become events of that span, unless
/// [`logs_layer`] writes them as log records for this tracer (whichever
/// of the two layers is built first): then they are only log records, so
/// that Application Insights receives each once, as a message of its
/// operation, whatever the span's sampling. (Leaving them off the spans
/// also means an `error!` no longer sets the `tracing` span's status to
/// Error; the log record carries the error.)
pub fn layer<S>(tracer: &Tracer) -> impl Layer<S> + use<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    take_parents_from_tracing();
    let bridged = tracer.events_bridged_flag();
    tracing_opentelemetry::layer()
        .with_tracer(tracer.provider().tracer(SCOPE))
        .with_filter(filter_fn(move |metadata| {
            !(metadata.is_event() && bridged.load(Ordering::Relaxed))
        }))
}

/// Makes census take its parent from the current `tracing` span whenever
/// the current OpenTelemetry context holds no span, as it does under a
/// `tracing_opentelemetry` layer with context activation off. Returns
/// whether this call installed it (it stays for the process).
///
/// ```
/// census::tracing::take_parents_from_tracing();
/// ```
pub fn take_parents_from_tracing() -> bool {
    census_core::context::set_parent_source(current_tracing_context)
}

fn current_tracing_context() -> Context {
    ::tracing::Span::current().context()
}
