//! The metric exporter that sends beside an [`AzureExporter`].

use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use crate::envelope::serialize;
use crate::exporter::AzureExporter;
use crate::mapping::Identity;
use crate::metrics::metric_envelopes;
use crate::sender::Handle;
use crate::transport::gzip_array;

/// Exports metrics to Application Insights as `MetricData` items: the
/// call-duration metrics of census's integrations as the standard metrics
/// `requests/duration` and `dependencies/duration`, every other instrument
/// as a custom metric. Made by [`AzureExporter::metric_exporter`], it
/// sends through the span exporter's delivery thread: the same retries
/// and local storage, flushed when the last of the two shuts down.
///
/// Counters and histograms are exported as deltas, up-down counters and
/// gauges as they stand (the temporality Application Insights expects).
///
/// ```
/// use census_azure::AzureExporter;
/// let mut spans = AzureExporter::builder()
///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
///     .disable_storage()
///     .build()?;
/// let metrics = spans.metric_exporter();
/// let tracer = census_pipeline::Tracer::builder()
///     .exporter_with_operation_names(spans)
///     .metric_exporter(metrics)
///     .install(false)
///     .build();
/// # tracer.shutdown(std::time::Duration::from_secs(1))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AzureMetricExporter {
    identity: Identity,
    handle: Handle,
    export_wait: Duration,
}

impl AzureMetricExporter {
    pub(crate) fn new(identity: Identity, handle: Handle, export_wait: Duration) -> Self {
        Self {
            identity,
            handle,
            export_wait,
        }
    }

    /// The gzip-compressed request body `metrics` would be sent as (what
    /// `scripts/parity` compares with Microsoft's exporter).
    ///
    /// ```
    /// use opentelemetry::metrics::MeterProvider as _;
    /// use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};
    /// let memory = InMemoryMetricExporter::default();
    /// let provider = SdkMeterProvider::builder().with_periodic_exporter(memory.clone()).build();
    /// provider.meter("shop").u64_counter("orders.placed").build().add(1, &[]);
    /// provider.force_flush()?;
    /// let exporter = census_azure::AzureExporter::builder()
    ///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
    ///     .disable_storage()
    ///     .build()?
    ///     .metric_exporter();
    /// let body = exporter.encode(&memory.get_finished_metrics()?[0])?;
    /// assert_eq!(&body[..2], [0x1f, 0x8b]); // gzip
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode(&self, metrics: &ResourceMetrics) -> std::io::Result<Vec<u8>> {
        gzip_array(&self.serialize(metrics))
    }

    /// Serialized envelopes of `metrics`, one per point.
    fn serialize(&self, metrics: &ResourceMetrics) -> Vec<String> {
        let mut identity = self.identity.clone();
        identity.set_resource(metrics.resource());
        serialize(&metric_envelopes(&identity, metrics))
    }
}

impl PushMetricExporter for AzureMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let items = self.serialize(metrics);
        self.handle.sender.delivery.export(items, self.export_wait);
        // As for spans: failures are stored for retry or counted as dropped.
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Each export hands its items over; nothing is held here.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.handle.shutdown(timeout)
    }

    fn temporality(&self) -> Temporality {
        // Delta for counters and histograms, cumulative for up-down
        // counters and gauges: Microsoft's exporters' choice.
        Temporality::LowMemory
    }
}

impl AzureExporter {
    /// A metric exporter to the same resource, sharing this exporter's
    /// delivery thread, retries and storage. From then on, the requests
    /// and dependencies census's integrations measured are marked
    /// `_MS.ProcessedByMetricExtractors`: the portal takes their counts and
    /// durations from the standard metrics, which stay exact whatever the
    /// trace sampling, instead of counting the sampled items. So install
    /// the metric exporter wherever this exporter is installed.
    pub fn metric_exporter(&mut self) -> AzureMetricExporter {
        self.identity.standard_metrics = true;
        AzureMetricExporter::new(self.identity.clone(), self.handle.share(), self.export_wait)
    }
}
