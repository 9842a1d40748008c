//! Trace-based log sampling: a dropped operation's records are dropped
//! with it.

use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::Severity;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};

/// Hands `P` every record but those written inside a trace that sampling
/// dropped (valid trace and span ids, sampled flag off), as Microsoft's
/// exporters do with trace-based sampling for logs: a kept operation comes
/// with all its records, a dropped one costs no log export. Records
/// written outside any trace are always kept.
///
/// [`TracerBuilder::log_exporter`](crate::TracerBuilder::log_exporter)
/// puts one in front of each exporter unless
/// [`trace_based_log_sampling`](crate::TracerBuilder::trace_based_log_sampling)
/// turns it off.
///
/// ```
/// use census_pipeline::logs::TraceBasedLogSampling;
/// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
/// use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
/// use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider, SimpleLogProcessor};
///
/// let memory = InMemoryLogExporter::default();
/// let provider = SdkLoggerProvider::builder()
///     .with_log_processor(TraceBasedLogSampling::new(SimpleLogProcessor::new(memory.clone())))
///     .build();
/// let logger = provider.logger("shop");
/// for (body, flags) in [("kept", TraceFlags::SAMPLED), ("dropped", TraceFlags::NOT_SAMPLED)] {
///     let mut record = logger.create_log_record();
///     record.set_body(body.into());
///     record.set_trace_context(TraceId::from(7), SpanId::from(9), Some(flags));
///     logger.emit(record);
/// }
/// let mut outside = logger.create_log_record();
/// outside.set_body("outside".into());
/// logger.emit(outside);
/// let bodies: Vec<_> = memory.get_emitted_logs()?.iter().map(|l| l.record.body().cloned()).collect();
/// assert_eq!(bodies, [Some("kept".into()), Some("outside".into())]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TraceBasedLogSampling<P> {
    inner: P,
}

impl<P> TraceBasedLogSampling<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

/// Whether `record` was written inside a trace that sampling dropped.
fn in_dropped_trace(record: &SdkLogRecord) -> bool {
    record.trace_context().is_some_and(|trace| {
        trace.trace_id != TraceId::INVALID
            && trace.span_id != SpanId::INVALID
            && trace.trace_flags.is_some_and(|flags| !flags.is_sampled())
    })
}

impl<P: LogProcessor> LogProcessor for TraceBasedLogSampling<P> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        if !in_dropped_trace(record) {
            self.inner.emit(record, scope);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
