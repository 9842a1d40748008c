//! Operation names on the records of exporters that map records onto
//! operations.

use std::time::Duration;

use opentelemetry::logs::{LogRecord as _, Severity};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};

use crate::operation::OPERATION_NAME_ATTRIBUTE;

/// Hands `P` each record with [`OPERATION_NAME_ATTRIBUTE`] when it was
/// written inside an operation (a request census's integrations serve),
/// as [`OperationNameProcessor`](crate::operation::OperationNameProcessor)
/// does for spans: Application Insights shows a log line under its
/// request's name (`ai.operation.name`). Only `P` receives the attribute,
/// on a copy; the processors after it get the record as written.
///
/// ```
/// use census_pipeline::logs::OperationNameLogProcessor;
/// use census_pipeline::operation::OPERATION_NAME_ATTRIBUTE;
/// use opentelemetry::logs::{Logger as _, LoggerProvider as _};
/// use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider, SimpleLogProcessor};
///
/// let named = InMemoryLogExporter::default();
/// let plain = InMemoryLogExporter::default();
/// let provider = SdkLoggerProvider::builder()
///     .with_log_processor(OperationNameLogProcessor::new(SimpleLogProcessor::new(named.clone())))
///     .with_simple_exporter(plain.clone())
///     .build();
/// let logger = provider.logger("shop");
/// let request = census_core::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
/// {
///     let _in_request = request.attach();
///     logger.emit(logger.create_log_record());
/// }
/// let named = &named.get_emitted_logs()?[0].record;
/// let (key, value) = named.attributes_iter().next().unwrap();
/// assert_eq!((key.as_str(), value), (OPERATION_NAME_ATTRIBUTE, &"GET /orders/{id}".into()));
/// assert_eq!(plain.get_emitted_logs()?[0].record.attributes_iter().count(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OperationNameLogProcessor<P> {
    inner: P,
}

impl<P> OperationNameLogProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

impl<P: LogProcessor> LogProcessor for OperationNameLogProcessor<P> {
    fn emit(&self, record: &mut SdkLogRecord, scope: &InstrumentationScope) {
        // Processors run on the thread that writes the record, inside its
        // context.
        let cx = Context::current();
        match census_core::operation::name(&cx) {
            Some(name) => {
                let mut named = record.clone();
                named.add_attribute(OPERATION_NAME_ATTRIBUTE, name.clone());
                self.inner.emit(&mut named, scope);
            }
            None => self.inner.emit(record, scope),
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
