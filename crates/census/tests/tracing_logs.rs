//! `tracing` events as log records through `census::tracing::logs_layer`:
//! correlated with the census or `tracing` span current when written,
//! filtered by level, never census's own.

use census::Tracer;
use census_pipeline::testing::{LogCapture, log_attribute, log_body};
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_sdk::trace::SpanData;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;

/// Runs `work` under census's span and log layers with `filter`; returns
/// the spans and log records it produced.
fn run(filter: &str, work: impl FnOnce(&Tracer)) -> (Vec<SpanData>, Vec<SdkLogRecord>) {
    let capture = LogCapture::new();
    let tracer = &capture.tracer;
    let subscriber = tracing_subscriber::registry()
        .with(census::tracing::layer(tracer))
        .with(census::tracing::logs_layer(
            tracer,
            census::tracing::log_filter(filter).unwrap(),
        ));
    tracing::subscriber::with_default(subscriber, || work(tracer));
    (capture.spans(), capture.records())
}

fn ids(record: &SdkLogRecord) -> Option<(TraceId, SpanId)> {
    record
        .trace_context()
        .map(|context| (context.trace_id, context.span_id))
}

fn span_ids(spans: &[SpanData], name: &str) -> Option<(TraceId, SpanId)> {
    let span = spans.iter().find(|s| s.name == name).expect(name);
    Some((span.span_context.trace_id(), span.span_context.span_id()))
}

#[test]
fn each_record_carries_the_span_current_when_it_was_written() {
    let (spans, records) = run("info", |tracer| {
        tracing::info!("service started");
        let _request = tracing::info_span!("handle order").entered();
        tracing::info!(order_id = 7, "order accepted");
        let _query = tracer.span("load order");
        tracing::warn!("stock low");
    });
    let bodies: Vec<_> = records.iter().map(log_body).collect();
    assert_eq!(bodies, ["service started", "order accepted", "stock low"]);
    let [started, accepted, low] = records.as_slice() else {
        unreachable!()
    };
    assert_eq!(ids(started), None, "outside any span");
    assert_eq!(ids(accepted), span_ids(&spans, "handle order"));
    assert_eq!(ids(low), span_ids(&spans, "load order"));
    assert_eq!(accepted.severity_number(), Some(Severity::Info));
    assert_eq!(low.severity_number(), Some(Severity::Warn));
    assert_eq!(log_attribute(accepted, "order_id"), Some(AnyValue::Int(7)));
}

#[test]
fn the_filter_chooses_levels_and_census_never_logs_to_itself() {
    let work = |_: &Tracer| {
        tracing::debug!("cache warmed");
        tracing::debug!(target: "shop::orders", "order cached");
        tracing::info!(target: "census_azure::delivery", "sent 12 items");
        tracing::error!(target: "ureq::pool", "connection reset");
        tracing::info!("ready");
    };
    let bodies = |filter| -> Vec<String> { run(filter, work).1.iter().map(log_body).collect() };
    assert_eq!(bodies("info"), ["ready"]);
    assert_eq!(bodies("info,shop=debug"), ["order cached", "ready"]);
    assert_eq!(bodies("trace"), ["cache warmed", "order cached", "ready"]);
}

#[test]
fn a_tracer_without_a_log_exporter_gives_no_layer_and_a_bad_filter_a_typed_error() {
    let tracer = Tracer::builder().install(false).build();
    let layer = census::tracing::logs_layer::<tracing_subscriber::Registry>(
        &tracer,
        EnvFilter::new("info"),
    );
    assert!(layer.is_none());
    let err = census::tracing::log_filter("info,shop=loud").unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"the log filter "info,shop=loud" is not in RUST_LOG's syntax"#),
        "{err}"
    );
    assert!(matches!(
        err,
        census::tracing::LogFilterError::Invalid { ref value, .. } if value == "info,shop=loud"
    ));
}
