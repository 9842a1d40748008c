//! The log exporter that sends beside an [`AzureExporter`].

use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};

use crate::envelope::serialize;
use crate::exporter::AzureExporter;
use crate::log_mapping::log_envelope;
use crate::mapping::Identity;
use crate::sender::Handle;
use crate::transport::gzip_array;

/// Exports log records to Application Insights, as Microsoft's log
/// exporter maps them: `ExceptionData` (`exceptions`) for a record with
/// `exception.type`, `exception.message` or an `error` field, `EventData`
/// (`customEvents`) for one with `microsoft.custom_event.name`,
/// `MessageData` (`traces`) for the rest, each with the severity level of
/// its severity number and its attributes as properties. A record written
/// inside a span carries that span's operation; one written outside any
/// trace carries none.
///
/// Made by [`AzureExporter::log_exporter`], it sends through the span
/// exporter's delivery thread: the same retries and local storage.
///
/// ```
/// use census_azure::AzureExporter;
/// let mut spans = AzureExporter::builder()
///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
///     .disable_storage()
///     .build()?;
/// let logs = spans.log_exporter();
/// let tracer = census_pipeline::Tracer::builder()
///     .exporter_with_operation_names(spans)
///     .log_exporter_with_operation_names(logs)
///     .install(false)
///     .build();
/// # tracer.shutdown(std::time::Duration::from_secs(1))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AzureLogExporter {
    identity: Identity,
    handle: Handle,
    export_wait: Duration,
}

impl AzureLogExporter {
    /// The gzip-compressed request body `batch` would be sent as (what
    /// `scripts/parity` compares with Microsoft's exporter).
    ///
    /// ```
    /// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
    /// use opentelemetry_sdk::logs::{InMemoryLogExporter, LogBatch, SdkLoggerProvider};
    /// let memory = InMemoryLogExporter::default();
    /// let provider = SdkLoggerProvider::builder().with_simple_exporter(memory.clone()).build();
    /// let logger = provider.logger("shop");
    /// let mut record = logger.create_log_record();
    /// record.set_body("order placed".into());
    /// logger.emit(record);
    /// let logs = memory.get_emitted_logs()?;
    /// let exporter = census_azure::AzureExporter::builder()
    ///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
    ///     .disable_storage()
    ///     .build()?
    ///     .log_exporter();
    /// let body = exporter.encode(&LogBatch::new(&[(&logs[0].record, &logs[0].instrumentation)]))?;
    /// assert_eq!(&body[..2], [0x1f, 0x8b]); // gzip
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode(&self, batch: &LogBatch<'_>) -> std::io::Result<Vec<u8>> {
        gzip_array(&self.serialize(batch))
    }

    fn serialize(&self, batch: &LogBatch<'_>) -> Vec<String> {
        let envelopes: Vec<_> = batch
            .iter()
            .map(|(record, scope)| log_envelope(&self.identity, record, scope))
            .collect();
        serialize(&envelopes)
    }
}

impl LogExporter for AzureLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let items = self.serialize(&batch);
        self.handle.sender.delivery.export(items, self.export_wait);
        // As for spans: failures are stored for retry or counted as dropped.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.handle.shutdown(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.identity.set_resource(resource);
    }
}

impl AzureExporter {
    /// A log exporter to the same resource, sharing this exporter's
    /// delivery thread, retries and storage.
    pub fn log_exporter(&self) -> AzureLogExporter {
        AzureLogExporter {
            identity: self.identity.clone(),
            handle: self.handle.share(),
            export_wait: self.export_wait,
        }
    }
}
