//! `tracing` events as log records, through OpenTelemetry's
//! `opentelemetry-appender-tracing` bridge.

use ::tracing::Subscriber;
use census_pipeline::Tracer;
use census_pipeline::logs::RedactingLoggerProvider;

use crate::log_filter::feeds_back;
pub use crate::log_filter::{DEFAULT_LOG_FILTER, ENV_LOG_FILTER};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt as _, ParseError, filter_fn};
use tracing_subscriber::registry::LookupSpan;

/// Why the log filter could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogFilterError {
    /// The variable holds no filter in `RUST_LOG`'s syntax.
    #[error(
        "the log filter {value:?} is not in RUST_LOG's syntax ({source}); write e.g. `info` or `warn,shop=debug` (in code or in {ENV_LOG_FILTER})"
    )]
    Invalid {
        /// What the variable holds.
        value: String,
        /// What the parser said.
        source: ParseError,
    },
}

/// The log filter [`ENV_LOG_FILTER`] sets, [`DEFAULT_LOG_FILTER`] when
/// unset.
///
/// ```
/// // Unset here: `info`.
/// let filter = census::tracing::log_filter_from_env()?;
/// assert_eq!(filter.to_string(), "info");
/// # Ok::<(), census::tracing::LogFilterError>(())
/// ```
///
/// # Errors
/// When the variable holds no filter in `RUST_LOG`'s syntax.
pub fn log_filter_from_env() -> Result<EnvFilter, LogFilterError> {
    log_filter(&crate::log_filter::from_env())
}

/// The log filter `value` writes in `RUST_LOG`'s syntax, as
/// [`ENV_LOG_FILTER`] would hold it.
///
/// ```
/// assert!(census::tracing::log_filter("warn,shop=debug").is_ok());
/// let err = census::tracing::log_filter("info,shop=loud").unwrap_err();
/// assert!(err.to_string().starts_with(r#"the log filter "info,shop=loud" is not in RUST_LOG's syntax"#));
/// ```
///
/// # Errors
/// When `value` is no filter in `RUST_LOG`'s syntax.
pub fn log_filter(value: &str) -> Result<EnvFilter, LogFilterError> {
    EnvFilter::try_new(value).map_err(|source| LogFilterError::Invalid {
        value: value.to_owned(),
        source,
    })
}

/// A `tracing` layer that writes `tracing` events to `tracer`'s logger
/// provider as log records, at the levels `filter` lets through; `None`
/// when the tracer has none (no log exporter was added).
///
/// A record carries the trace and span current when it was written: a
/// census span, or a `tracing` span that [`layer`](super::layer) joined to
/// census's trace. Events of census itself, of OpenTelemetry and of the
/// HTTP clients exporters send with (`ureq`, `hyper`, `h2`, `tonic`,
/// `reqwest`, `rustls`) are never written, whatever `filter` says: they
/// would feed the pipeline they report on. Fields that look secret and
/// URLs' credentials are redacted as they are recorded
/// ([`RedactingLoggerProvider`]).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt as _;
/// let logs = opentelemetry_sdk::logs::InMemoryLogExporter::default();
/// let tracer = census::Tracer::builder().log_exporter(logs.clone()).install(false).build();
/// let filter = census::tracing::log_filter_from_env()?;
/// let subscriber = tracing_subscriber::registry()
///     .with(census::tracing::layer(&tracer))
///     .with(census::tracing::logs_layer(&tracer, filter));
/// tracing::subscriber::with_default(subscriber, || tracing::info!("service started"));
/// tracer.logger_provider().expect("built").force_flush()?;
/// assert_eq!(logs.get_emitted_logs()?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn logs_layer<S>(tracer: &Tracer, filter: EnvFilter) -> Option<impl Layer<S> + use<S>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let provider = RedactingLoggerProvider::new(tracer.logger_provider()?.clone());
    // `layer` leaves the events off the spans from now on.
    tracer.bridge_events();
    let own = filter_fn(|metadata| !feeds_back(metadata.target()));
    Some(OpenTelemetryTracingBridge::new(&provider).with_filter(filter.and(own)))
}
