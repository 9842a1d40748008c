//! The operation (incoming request) every span belongs to.
//!
//! Application Insights shows each item under its operation's name, the
//! name of the request that started it in this process. Children end
//! before their request and are often exported in an earlier batch, so
//! the name cannot be looked up at export time: it travels in the context
//! from the request's start, and [`OperationNameProcessor`] writes it onto
//! every span started inside as [`OPERATION_NAME_ATTRIBUTE`].

use std::time::Duration;

use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue, StringValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// Span attribute with the name of the request the span belongs to; the
/// Application Insights exporter sends it as `ai.operation.name` and keeps
/// it out of the custom properties.
pub const OPERATION_NAME_ATTRIBUTE: &str = "census.operation.name";

/// The name of the request a context belongs to.
#[derive(Debug, Clone)]
struct OperationName(StringValue);

/// `cx` marked as belonging to the request `name`, for the spans started
/// inside it. Census's lifecycle does this when a Server or Consumer span
/// starts; a hand-written server integration can do the same.
///
/// ```
/// let cx = census_core::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
/// ```
pub fn within(cx: Context, name: impl Into<StringValue>) -> Context {
    cx.with_value(OperationName(name.into()))
}

/// Writes the operation name of the parent context onto each span it
/// starts, then hands every span on to `P`, the processor it wraps.
/// [`TracerBuilder`](crate::TracerBuilder) wraps its first processor;
/// wrap yours in a provider you build without census.
///
/// A wrapper, not a processor of its own: with more than one processor
/// the SDK copies every finished span once per processor.
///
/// ```
/// use census_core::operation::OperationNameProcessor;
/// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};
/// let processor = SimpleSpanProcessor::new(InMemorySpanExporter::default());
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(OperationNameProcessor::new(processor))
///     .build();
/// ```
#[derive(Debug, Clone, Default)]
pub struct OperationNameProcessor<P> {
    inner: P,
}

impl<P> OperationNameProcessor<P> {
    /// Wraps `inner`.
    pub fn new(inner: P) -> Self {
        Self { inner }
    }
}

impl<P: SpanProcessor> SpanProcessor for OperationNameProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(OperationName(name)) = cx.get::<OperationName>() {
            span.set_attribute(KeyValue::new(OPERATION_NAME_ATTRIBUTE, name.clone()));
        }
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
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
