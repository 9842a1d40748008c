//! census spans and `tracing` spans in one tree, both ways, through
//! `census::tracing::layer`.

use census::Tracer;
use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor, SpanData};
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

fn capture() -> (Tracer, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let tracer = Tracer::builder()
        .span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .install(false)
        .build();
    (tracer, exporter)
}

fn finished(exporter: &InMemorySpanExporter) -> Vec<SpanData> {
    exporter.get_finished_spans().expect("in-memory exporter")
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span `{name}` in {:?}", names(spans)))
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_ref()).collect()
}

fn assert_child(child: &SpanData, parent: &SpanData) {
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id(),
        "`{}` is not in the trace of `{}`",
        child.name,
        parent.name
    );
    assert_eq!(
        child.parent_span_id,
        parent.span_context.span_id(),
        "`{}` is not a child of `{}`",
        child.name,
        parent.name
    );
}

#[test]
fn a_census_span_inside_a_tracing_span_is_its_child() {
    let (tracer, exporter) = capture();
    let subscriber = tracing_subscriber::registry().with(census::tracing::layer(&tracer));
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("handle order").entered();
        let _query = tracer.span("load order");
    });
    let spans = finished(&exporter);
    assert_eq!(spans.len(), 2, "{:?}", names(&spans));
    let request = named(&spans, "handle order");
    assert_eq!(request.parent_span_id, SpanId::INVALID);
    assert_eq!(request.instrumentation_scope.name(), census::tracing::SCOPE);
    assert_child(named(&spans, "load order"), request);
}

#[test]
fn a_tracing_span_inside_a_census_span_is_its_child() {
    let (tracer, exporter) = capture();
    let subscriber = tracing_subscriber::registry().with(census::tracing::layer(&tracer));
    tracing::subscriber::with_default(subscriber, || {
        let _job = tracer.span("nightly job");
        tracing::info_span!("step").in_scope(|| {});
    });
    let spans = finished(&exporter);
    assert_eq!(spans.len(), 2, "{:?}", names(&spans));
    let job = named(&spans, "nightly job");
    assert_eq!(job.parent_span_id, SpanId::INVALID);
    assert_child(named(&spans, "step"), job);
}

#[tokio::test(flavor = "current_thread")]
async fn async_work_alternating_tracing_and_census_spans_forms_one_chain() {
    let (tracer, exporter) = capture();
    let subscriber = tracing_subscriber::registry().with(census::tracing::layer(&tracer));
    let _default = tracing::subscriber::set_default(subscriber);
    async {
        tracer
            .in_span("query", async {
                // Polled again after the yield: the chain must survive it.
                tokio::task::yield_now().await;
                async { tokio::task::yield_now().await }
                    .instrument(tracing::info_span!("decode"))
                    .await;
            })
            .await;
    }
    .instrument(tracing::info_span!("handler"))
    .await;
    let spans = finished(&exporter);
    assert_eq!(spans.len(), 3, "{:?}", names(&spans));
    let handler = named(&spans, "handler");
    let query = named(&spans, "query");
    assert_eq!(handler.parent_span_id, SpanId::INVALID);
    assert_child(query, handler);
    assert_child(named(&spans, "decode"), query);
}
