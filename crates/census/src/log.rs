//! `log` records as log records (feature `log`), through OpenTelemetry's
//! `opentelemetry-appender-log` bridge.
//!
//! Many libraries still log with the `log` crate. [`install`] makes
//! census's bridge the process's `log` logger: each record at the levels
//! the filter lets through becomes a log record of the tracer's logger
//! provider, with the trace and span current when it was written.
//!
//! ```
//! let logs = opentelemetry_sdk::logs::InMemoryLogExporter::default();
//! let tracer = census::Tracer::builder().log_exporter(logs.clone()).install(false).build();
//! census::log::install(&tracer, "info")?;
//! log::info!("service started");
//! log::debug!("not exported at `info`");
//! tracer.logger_provider().expect("built").force_flush()?;
//! assert_eq!(logs.get_emitted_logs()?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use census_pipeline::Tracer;
use census_pipeline::logs::{RedactingLogger, RedactingLoggerProvider};
use log::{Log, Metadata, Record};
use opentelemetry_appender_log::OpenTelemetryLogBridge;

use crate::log_filter::feeds_back;
pub use crate::log_filter::{DEFAULT_LOG_FILTER, ENV_LOG_FILTER};

/// Why census's `log` bridge could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogBridgeError {
    /// The tracer was built without a log exporter.
    #[error(
        "the tracer has no logger provider: build it with `Tracer::builder().log_exporter(..)`"
    )]
    NoLoggerProvider,
    /// The filter is not in `RUST_LOG`'s syntax.
    #[error(
        "the log filter {value:?} is not in RUST_LOG's syntax ({reason}); write e.g. `info` or `warn,shop=debug` (in code or in {ENV_LOG_FILTER})"
    )]
    InvalidFilter {
        /// The filter given.
        value: String,
        /// What the parser said.
        reason: String,
    },
    /// Another `log` logger was installed first: a process has one.
    #[error(
        "another `log` logger is installed already, and a process has only one; install census's instead ({source})"
    )]
    AlreadyInstalled {
        /// What `log` said.
        source: log::SetLoggerError,
    },
}

/// Makes `log` records at the levels `filter` (in `RUST_LOG`'s syntax)
/// lets through log records of `tracer`'s logger provider, for the life
/// of the process. Records of census itself, of OpenTelemetry and of the
/// exporters' HTTP clients are never exported: they would feed the
/// pipeline they report on. Key-values that look secret and URLs'
/// credentials are redacted as they are recorded
/// ([`RedactingLoggerProvider`]).
///
/// # Errors
/// When the tracer has no logger provider, `filter` is not in
/// `RUST_LOG`'s syntax, or another `log` logger is installed.
pub fn install(tracer: &Tracer, filter: &str) -> Result<(), LogBridgeError> {
    let provider = tracer
        .logger_provider()
        .ok_or(LogBridgeError::NoLoggerProvider)?;
    let filter = env_filter::Builder::new()
        .try_parse(filter)
        .map_err(|reason| LogBridgeError::InvalidFilter {
            value: filter.to_owned(),
            reason: reason.to_string(),
        })?
        .build();
    let max_level = filter.filter();
    let logger = CensusLogger {
        bridge: OpenTelemetryLogBridge::new(&RedactingLoggerProvider::new(provider.clone())),
        filter,
    };
    log::set_boxed_logger(Box::new(logger))
        .map_err(|source| LogBridgeError::AlreadyInstalled { source })?;
    log::set_max_level(max_level);
    Ok(())
}

/// [`install`] with the filter [`ENV_LOG_FILTER`] sets
/// ([`DEFAULT_LOG_FILTER`] when unset).
///
/// # Errors
/// As [`install`]'s.
pub fn install_from_env(tracer: &Tracer) -> Result<(), LogBridgeError> {
    install(tracer, &crate::log_filter::from_env())
}

/// The bridge, behind the filter and the feedback guard.
struct CensusLogger {
    bridge: OpenTelemetryLogBridge<RedactingLoggerProvider, RedactingLogger>,
    filter: env_filter::Filter,
}

impl Log for CensusLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter.enabled(metadata)
            && !feeds_back(metadata.target())
            && self.bridge.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if self.filter.matches(record) && !feeds_back(record.target()) {
            self.bridge.log(record);
        }
    }

    fn flush(&self) {
        self.bridge.flush();
    }
}
