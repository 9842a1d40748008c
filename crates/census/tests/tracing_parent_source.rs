//! An application's own `tracing_opentelemetry` layer with context
//! activation off leaves the OpenTelemetry context empty inside `tracing`
//! spans; `take_parents_from_tracing` makes census find its parent anyway.
//! (A file of its own: the parent source stays for the process.)

use census::Tracer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;

fn run_once(tracer: &Tracer, exporter: &InMemorySpanExporter) -> (SpanData, SpanData) {
    exporter.reset();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer.provider().tracer("app"))
        .with_context_activation(false);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("handle order").entered();
        let _query = tracer.span("load order");
    });
    let spans = exporter.get_finished_spans().expect("in-memory exporter");
    let find = |name: &str| {
        spans
            .iter()
            .find(|s| s.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("no span `{name}`"))
    };
    (find("handle order"), find("load order"))
}

#[test]
fn without_context_activation_census_takes_its_parent_from_the_tracing_span() {
    let exporter = InMemorySpanExporter::default();
    let tracer = Tracer::builder()
        .span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .install(false)
        .build();

    // The problem being solved: left alone, census starts a new trace.
    let (request, query) = run_once(&tracer, &exporter);
    assert_ne!(
        query.span_context.trace_id(),
        request.span_context.trace_id()
    );

    assert!(census::tracing::take_parents_from_tracing());
    let (request, query) = run_once(&tracer, &exporter);
    assert_eq!(
        query.span_context.trace_id(),
        request.span_context.trace_id()
    );
    assert_eq!(query.parent_span_id, request.span_context.span_id());
    assert!(
        !census::tracing::take_parents_from_tracing(),
        "installed once"
    );
}
