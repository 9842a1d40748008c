//! Batch export off the request path: OpenTelemetry's own
//! `BatchSpanProcessor`, sized by [`BatchConfig`] (the `OTEL_BSP_*`
//! variables, read once, with a warning for a value that is not a number).
//!
//! census had a batch processor of its own, which queued each span behind
//! one lock. In the same runs it did not beat the SDK's: 8 threads ending
//! spans at once took 1.026× the SDK's time (`batch_contention`), and
//! `scripts/load` put the two within its run-to-run noise, either side
//! ahead. So each exporter is fed by the SDK's processor, which exports
//! from a thread of its own with telemetry suppressed, and drops spans
//! rather than block when its queue is full (warning through `tracing`,
//! once when dropping starts and with the count at shutdown).

mod config;

pub use config::BatchConfig;
pub use opentelemetry_sdk::trace::BatchSpanProcessor;
use opentelemetry_sdk::trace::SpanExporter;

impl BatchConfig {
    /// The SDK's batch processor in front of `exporter`, with these sizes
    /// and this delay.
    ///
    /// ```
    /// use census_pipeline::batch::BatchConfig;
    /// use census_pipeline::export::ConsoleExporter;
    /// let processor = BatchConfig::from_env().processor(ConsoleExporter::new());
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
    ///     .with_span_processor(processor)
    ///     .build();
    /// # provider.shutdown().unwrap();
    /// ```
    pub fn processor(self, exporter: impl SpanExporter + 'static) -> BatchSpanProcessor {
        BatchSpanProcessor::builder(exporter)
            .with_batch_config(self.into())
            .build()
    }
}

impl From<BatchConfig> for opentelemetry_sdk::trace::BatchConfig {
    fn from(config: BatchConfig) -> Self {
        opentelemetry_sdk::trace::BatchConfigBuilder::default()
            .with_max_queue_size(config.queue_size())
            .with_max_export_batch_size(config.batch_size())
            .with_scheduled_delay(config.delay())
            .build()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};

    use super::*;

    #[test]
    fn spans_wait_for_a_full_batch_or_a_flush() {
        let exporter = InMemorySpanExporter::default();
        let processor = BatchConfig::default()
            .max_export_batch_size(2)
            .scheduled_delay(Duration::from_secs(60))
            .processor(exporter.clone());
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build();
        let tracer = provider.tracer("batch");
        tracer.start("one").end();
        std::thread::sleep(Duration::from_millis(100));
        assert!(exporter.get_finished_spans().unwrap().is_empty());
        tracer.start("two").end();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while exporter.get_finished_spans().unwrap().len() < 2 {
            assert!(std::time::Instant::now() < deadline, "a full batch leaves");
            std::thread::sleep(Duration::from_millis(10));
        }
        tracer.start("three").end();
        provider.force_flush().unwrap();
        let names: Vec<_> = exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["one", "two", "three"]);
    }
}
