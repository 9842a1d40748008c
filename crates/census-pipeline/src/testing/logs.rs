//! A tracer whose spans and log records a test reads, for the log
//! bridges' tests.

use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor, SpanData};

use crate::{Tracer, TracerBuilder};

/// A tracer of its own (not installed) that keeps its spans as they end
/// and its log records once flushed.
///
/// ```
/// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
/// let capture = census_pipeline::testing::LogCapture::new();
/// let logger = capture.tracer.logger_provider().unwrap().logger("test");
/// let mut record = logger.create_log_record();
/// record.set_body("hello".into());
/// logger.emit(record);
/// let records = capture.records();
/// assert_eq!(census_pipeline::testing::log_body(&records[0]), "hello");
/// ```
#[derive(Debug)]
pub struct LogCapture {
    /// The tracer, with a log exporter.
    pub tracer: Tracer,
    spans: InMemorySpanExporter,
    logs: InMemoryLogExporter,
}

impl LogCapture {
    /// A tracer with a span processor and a log exporter that keep what
    /// they receive; the exporter is given operation names, as
    /// Application Insights' is.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self::configured(|builder| builder)
    }

    /// [`new`](Self::new), with the builder changed by `configure` (a
    /// sampler, trace-based log sampling off) before it is built.
    ///
    /// ```
    /// let capture = census_pipeline::testing::LogCapture::configured(|b| b.trace_based_log_sampling(false));
    /// ```
    pub fn configured(configure: impl FnOnce(TracerBuilder) -> TracerBuilder) -> Self {
        let (spans, logs) = (
            InMemorySpanExporter::default(),
            InMemoryLogExporter::default(),
        );
        let builder = Tracer::builder()
            .span_processor(SimpleSpanProcessor::new(spans.clone()))
            .log_exporter_with_operation_names(logs.clone())
            .install(false);
        let tracer = configure(builder).build();
        Self {
            tracer,
            spans,
            logs,
        }
    }

    /// The spans ended so far.
    pub fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().expect("in-memory spans")
    }

    /// The log records written so far, flushed first.
    pub fn records(&self) -> Vec<SdkLogRecord> {
        if let Some(provider) = self.tracer.logger_provider() {
            provider.force_flush().expect("log records flushed");
        }
        self.logs
            .get_emitted_logs()
            .expect("in-memory log records")
            .into_iter()
            .map(|log| log.record)
            .collect()
    }
}

/// A record's text body; panics on another.
pub fn log_body(record: &SdkLogRecord) -> String {
    match record.body() {
        Some(AnyValue::String(text)) => text.to_string(),
        other => panic!("no text body: {other:?}"),
    }
}

/// The value of a record's attribute `key`, if it has one.
pub fn log_attribute(record: &SdkLogRecord, key: &str) -> Option<AnyValue> {
    record
        .attributes_iter()
        .find(|(known, _)| known.as_str() == key)
        .map(|(_, value)| value.clone())
}
