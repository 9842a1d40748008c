//! Operation names for the exporters that map spans onto operations.
//!
//! Application Insights shows every item under the name of the request
//! it belongs to (`ai.operation.name`). A child span ends before its
//! request, often in an earlier batch, so the name cannot be looked up at
//! export time: [`OperationNameProcessor`] reads it from the context each
//! span starts in ([`census_core::operation::name`]) and writes it onto
//! the finished span as [`OPERATION_NAME_ATTRIBUTE`] — on the copy its own
//! exporter receives only. OTLP and every other exporter never see it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::trace::{Span as _, SpanId};
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// Span attribute with the name of the request the span belongs to, on
/// the spans an [`OperationNameProcessor`] hands to its exporter; the
/// Application Insights exporter sends it as `ai.operation.name` and keeps
/// it out of the custom properties.
pub const OPERATION_NAME_ATTRIBUTE: &str = "census.operation.name";

/// Shards of the names of started spans, so that threads ending spans at
/// once rarely wait for each other.
const SHARDS: usize = 16;

/// Hands the spans it is given on to `P`, each with
/// [`OPERATION_NAME_ATTRIBUTE`] when it was started inside an operation.
///
/// The name is kept beside the span between its start and its end, and
/// written only onto the finished copy `P` receives: with more than one
/// processor, the SDK gives each its own copy, so the others (OTLP, the
/// console) get the span as the application recorded it.
/// [`TracerBuilder::exporter_with_operation_names`](crate::TracerBuilder::exporter_with_operation_names)
/// wraps an exporter's batch processor in one.
///
/// ```
/// use census_pipeline::operation::{OPERATION_NAME_ATTRIBUTE, OperationNameProcessor};
/// use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
///
/// let named = InMemorySpanExporter::default();
/// let plain = InMemorySpanExporter::default();
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(OperationNameProcessor::new(SimpleSpanProcessor::new(named.clone())))
///     .with_simple_exporter(plain.clone())
///     .build();
/// let request = census_core::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
/// provider.tracer("app").start_with_context("SELECT orders", &request).end();
///
/// let named = &named.get_finished_spans()?[0];
/// assert_eq!(named.attributes[0].key.as_str(), OPERATION_NAME_ATTRIBUTE);
/// assert_eq!(named.attributes[0].value.as_str(), "GET /orders/{id}");
/// assert!(plain.get_finished_spans()?[0].attributes.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OperationNameProcessor<P> {
    inner: P,
    started: [Mutex<HashMap<SpanId, StringValue>>; SHARDS],
}

impl<P> OperationNameProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            started: std::array::from_fn(|_| Mutex::default()),
        }
    }

    fn shard(&self, span: SpanId) -> &Mutex<HashMap<SpanId, StringValue>> {
        // Span ids are random: their last byte spreads spans evenly.
        let last = span.to_bytes()[7];
        &self.started[usize::from(last) % SHARDS]
    }
}

impl<P: SpanProcessor> SpanProcessor for OperationNameProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        // The SDK starts processors on recording spans only.
        if let Some(name) = census_core::operation::name(cx) {
            let id = span.span_context().span_id();
            self.shard(id)
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id, name.clone());
        }
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        let id = span.span_context.span_id();
        let name = self
            .shard(id)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(name) = name {
            span.attributes
                .push(KeyValue::new(OPERATION_NAME_ATTRIBUTE, name));
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
