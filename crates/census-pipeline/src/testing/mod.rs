//! Span, metric and log capture for tests (feature `testing`): one in-memory
//! exporter per process and signal, given to the registry, with spans
//! looked up by trace and metric points by attributes, so that tests
//! running in parallel do not see each other's telemetry.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor};

pub use opentelemetry_sdk::trace::SpanData;

use crate::operation::OperationNameProcessor;
use crate::propagators::PropagatorName;
use census_core::registry::{Integration, set_tracer_provider};

mod logs;
mod metrics;

pub use logs::{LogCapture, log_attribute, log_body};
pub use metrics::{
    HistogramPoint, MetricCapture, SumPoint, get_route_attributes, http_attributes, metrics,
    sorted_counts,
};

/// The process's span capture.
#[derive(Debug)]
pub struct SpanCapture {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
}

/// Installs the capture on first use (registry provider, synchronous
/// export, operation names, census's default propagators) and enables
/// `integrations`.
pub fn capture(integrations: &[&'static Integration]) -> &'static SpanCapture {
    static CAPTURE: OnceLock<SpanCapture> = OnceLock::new();
    let capture = CAPTURE.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(OperationNameProcessor::new(SimpleSpanProcessor::new(
                exporter.clone(),
            )))
            .build();
        set_tracer_provider(provider.clone());
        // What a census tracer installs: tests see the headers
        // applications send.
        opentelemetry::global::set_text_map_propagator(PropagatorName::composite(
            &PropagatorName::DEFAULT,
        ));
        SpanCapture { exporter, provider }
    });
    for integration in integrations {
        integration.set_enabled(true);
    }
    capture
}

impl SpanCapture {
    /// A context holding a fresh test root span, so that everything run in
    /// it lands in a trace of its own; the trace id finds it again.
    pub fn root(&self, name: &'static str) -> (Context, TraceId) {
        let tracer = self.provider.tracer("census-test");
        let cx = Context::new().with_span(tracer.start_with_context(name, &Context::new()));
        let trace_id = cx.span().span_context().trace_id();
        (cx, trace_id)
    }

    /// The finished spans of `trace_id`, in start order.
    pub fn spans(&self, trace_id: TraceId) -> Vec<SpanData> {
        let mut spans: Vec<SpanData> = self
            .exporter
            .get_finished_spans()
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace_id)
            .collect();
        spans.sort_by_key(|s| s.start_time);
        spans
    }

    /// Runs `work` under a fresh root span named `test`, ends the root,
    /// and returns the root, the other spans of its trace (in start order)
    /// and the work's output.
    pub async fn traced<F: Future>(&self, work: F) -> (SpanData, Vec<SpanData>, F::Output) {
        let (cx, trace_id) = self.root("test");
        let output = work.with_context(cx.clone()).await;
        self.end_root(&cx, trace_id, output)
    }

    /// [`traced`](Self::traced) for synchronous work: `work` runs on this
    /// thread with the root span's context attached.
    pub fn traced_blocking<R>(&self, work: impl FnOnce() -> R) -> (SpanData, Vec<SpanData>, R) {
        let (cx, trace_id) = self.root("test");
        let output = {
            let _attached = cx.clone().attach();
            work()
        };
        self.end_root(&cx, trace_id, output)
    }

    fn end_root<R>(
        &self,
        cx: &Context,
        trace_id: TraceId,
        output: R,
    ) -> (SpanData, Vec<SpanData>, R) {
        cx.span().end();
        let mut all = self.spans(trace_id);
        let root = all
            .iter()
            .position(|s| s.name == "test" && s.parent_span_id == SpanId::INVALID)
            .map(|at| all.remove(at))
            .expect("the root span was exported when it ended");
        (root, all, output)
    }

    /// The spans of `trace_id` once there are at least `count` of them,
    /// waiting up to five seconds for spans ended on other threads.
    pub fn wait_for(&self, trace_id: TraceId, count: usize) -> Vec<SpanData> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let spans = self.spans(trace_id);
            if spans.len() >= count || Instant::now() > deadline {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A trace id no other test uses, for a request sent with its own
/// `traceparent`.
pub fn random_trace_id() -> TraceId {
    use std::hash::{BuildHasher, RandomState};
    let state = RandomState::new();
    TraceId::from((u128::from(state.hash_one(1)) << 64) | u128::from(state.hash_one(2)))
}

/// A remote caller that did not sample its trace, in a trace of its own,
/// and the `traceparent` it sends.
pub fn unsampled_caller() -> (SpanContext, String) {
    let caller = SpanContext::new(
        random_trace_id(),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::NOT_SAMPLED,
        true,
        TraceState::default(),
    );
    let traceparent = format!("00-{}-{}-00", caller.trace_id(), caller.span_id());
    (caller, traceparent)
}

/// The current context as `{trace id}-{span id}-{sampled}`: what a handler
/// under test answers to show the context it runs in.
pub fn current_ids() -> String {
    let cx = Context::current();
    let span = cx.span();
    let of = span.span_context();
    format!("{}-{}-{}", of.trace_id(), of.span_id(), of.is_sampled())
}

/// Checks that a handler that answered [`current_ids`] for `caller`, who
/// did not sample, ran in an unsampled child of the caller's span, and
/// that no span of the caller's trace was recorded.
///
/// # Panics
/// When any of this does not hold.
pub fn assert_unsampled_child(capture: &SpanCapture, caller: &SpanContext, answered: &str) {
    let [trace_id, span_id, sampled] = answered.split('-').collect::<Vec<_>>()[..] else {
        panic!("not an answer of `current_ids`: {answered}")
    };
    assert_eq!(trace_id, caller.trace_id().to_string());
    assert_ne!(span_id, caller.span_id().to_string());
    assert_ne!(span_id, SpanId::INVALID.to_string());
    assert_eq!(sampled, "false");
    assert_eq!(capture.spans(caller.trace_id()), Vec::<SpanData>::new());
}

/// A tracer for overhead benches, built and installed as applications do
/// it: a batch processor in front of an exporter that drops what it
/// receives, and census's
/// [`ProbabilitySampler`](crate::sampling::ProbabilitySampler) at `rate`
/// (the SDK's default sampler without one).
///
/// # Panics
/// When `rate` is outside 0.0..=1.0.
pub fn discarding_tracer(rate: Option<f64>) -> crate::Tracer {
    let builder = crate::Tracer::builder().exporter(Discard);
    match rate {
        Some(rate) => builder
            .sampler(crate::sampling::ProbabilitySampler::new(rate).expect("a rate in 0..=1"))
            .build(),
        None => builder.build(),
    }
}

/// A meter provider for overhead benches, installed for census's
/// integrations as the pipeline installs its own (bound instruments), whose
/// reader exports once an hour: what a bench measures is recording.
///
/// ```
/// let meters = census_pipeline::testing::recording_meter_provider();
/// assert!(census_core::metrics::is_measuring());
/// # meters.shutdown()?;
/// # Ok::<(), opentelemetry_sdk::error::OTelSdkError>(())
/// ```
pub fn recording_meter_provider() -> opentelemetry_sdk::metrics::SdkMeterProvider {
    let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(
        opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
    )
    .with_interval(std::time::Duration::from_secs(3600))
    .build();
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_reader(reader)
        .build();
    census_core::metrics::set_meter_provider_binding(provider.clone());
    provider
}

/// Installs `tracer` again as the provider census integrations record
/// with, with its sampler's rule, after a bench installed the same
/// provider without it (`registry::set_tracer_provider`) to measure what
/// census's decision before the SDK saves.
pub fn install_presampled(tracer: &crate::Tracer) {
    tracer.install_for_integrations();
}

/// An exporter that receives every exported batch and drops it, for
/// benches that measure the pipeline in front of it.
///
/// ```
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
///     .with_simple_exporter(census_pipeline::testing::Discard)
///     .build();
/// # drop(provider);
/// ```
#[derive(Debug)]
pub struct Discard;

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> opentelemetry_sdk::error::OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

/// A writer whose output tests can read back while the writer lives on in
/// an exporter or a log subscriber.
///
/// ```
/// use std::io::Write as _;
/// let buffer = census_pipeline::testing::SharedBuffer::default();
/// let mut writer = buffer.clone();
/// writer.write_all(b"census")?;
/// assert_eq!(buffer.text(), "census");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// What was written so far, as text.
    ///
    /// # Panics
    /// When a writer panicked while writing, or what was written is not
    /// UTF-8.
    pub fn text(&self) -> String {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        String::from_utf8(bytes.clone()).expect("UTF-8 output")
    }
}

impl std::io::Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The spans' names, in order, for exact comparisons.
pub fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_ref()).collect()
}

/// A span's attributes by key, for exact comparisons.
pub fn attributes(span: &SpanData) -> BTreeMap<String, Value> {
    attribute_map(span.attributes.iter().cloned())
}

/// Attributes by key, for comparing with [`attributes`].
pub fn attribute_map(pairs: impl IntoIterator<Item = KeyValue>) -> BTreeMap<String, Value> {
    pairs
        .into_iter()
        .map(|kv| (kv.key.to_string(), kv.value))
        .collect()
}
