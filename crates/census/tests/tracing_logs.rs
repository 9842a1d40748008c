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

/// [`run`] on a tracer `configure` changed, at `info`.
fn run_configured(
    configure: impl FnOnce(census::TracerBuilder) -> census::TracerBuilder,
    work: impl FnOnce(&Tracer),
) -> (Vec<SpanData>, Vec<SdkLogRecord>) {
    let capture = LogCapture::configured(configure);
    let tracer = &capture.tracer;
    let subscriber = tracing_subscriber::registry()
        .with(census::tracing::layer(tracer))
        .with(census::tracing::logs_layer(
            tracer,
            census::tracing::log_filter("info").unwrap(),
        ));
    tracing::subscriber::with_default(subscriber, || work(tracer));
    (capture.spans(), capture.records())
}

fn text(record: &SdkLogRecord, key: &str) -> String {
    match log_attribute(record, key) {
        Some(AnyValue::String(s)) => s.to_string(),
        other => panic!("{key}: {other:?}"),
    }
}

#[test]
fn secret_fields_and_urls_credentials_are_redacted() {
    let (_, records) = run("info", |_| {
        tracing::info!(
            password = "hunter2",
            client_secret = %"s3cr3t",
            authorization = ?"Bearer eyJ",
            access_token = "tok",
            callback = "https://shop.example/done?sig=abc&order=42",
            dsn = %"postgres://app:hunter2@db.internal/shop",
            order_id = 42,
            "signed in"
        );
    });
    let [record] = records.as_slice() else {
        panic!("{records:?}")
    };
    for key in ["password", "client_secret", "authorization", "access_token"] {
        assert_eq!(text(record, key), "REDACTED", "{key}");
    }
    assert_eq!(
        text(record, "callback"),
        "https://shop.example/done?sig=REDACTED&order=42"
    );
    assert_eq!(
        text(record, "dsn"),
        "postgres://REDACTED:REDACTED@db.internal/shop"
    );
    assert_eq!(log_attribute(record, "order_id"), Some(AnyValue::Int(42)));
    let all = format!("{:?}", record);
    for secret in ["hunter2", "s3cr3t", "eyJ", "tok\"", "sig=abc"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

/// Writes one record outside any span, one in a census span, one in a
/// `tracing` span.
fn log_in_and_out_of_operations(tracer: &Tracer) {
    tracing::info!("outside");
    {
        let _census = tracer.span("census work");
        tracing::info!("in census span");
    }
    let _tracing = tracing::info_span!("tracing work").entered();
    tracing::info!("in tracing span");
}

#[test]
fn records_inside_dropped_operations_are_dropped_with_them() {
    let never = || census::sampling::ProbabilitySampler::new(0.0).unwrap();
    let (spans, records) = run_configured(|b| b.sampler(never()), log_in_and_out_of_operations);
    assert!(spans.is_empty());
    let bodies: Vec<_> = records.iter().map(log_body).collect();
    assert_eq!(bodies, ["outside"]);

    // Switched off, every record is kept, with its unsampled trace.
    let (_, records) = run_configured(
        |b| b.sampler(never()).trace_based_log_sampling(false),
        log_in_and_out_of_operations,
    );
    let bodies: Vec<_> = records.iter().map(log_body).collect();
    assert_eq!(bodies, ["outside", "in census span", "in tracing span"]);
    for record in &records[1..] {
        let trace = record.trace_context().expect("in a trace");
        assert_ne!(trace.trace_id, TraceId::INVALID);
        assert_eq!(trace.trace_flags.map(|f| f.is_sampled()), Some(false));
    }

    // Sampled operations keep their records.
    let (spans, records) = run("info", log_in_and_out_of_operations);
    assert_eq!(records.len(), 3);
    assert_eq!(ids(&records[1]), span_ids(&spans, "census work"));
    assert_eq!(ids(&records[2]), span_ids(&spans, "tracing work"));
}

#[test]
fn records_inside_a_request_carry_its_operation_name() {
    let (_, records) = run("info", |tracer| {
        tracing::info!("outside");
        // As a server integration starts a request: its span, in a
        // context marked with the operation.
        use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
        let server = tracer.provider().tracer("server").start("GET /orders/42");
        let request = census::operation::within(
            opentelemetry::Context::current().with_span(server),
            "GET /orders/{id}",
        )
        .attach();
        let _handler = tracer.span("handler");
        tracing::info!("inside");
        drop(request);
    });
    let operation = census::operation::OPERATION_NAME_ATTRIBUTE;
    assert_eq!(log_attribute(&records[0], operation), None);
    assert_eq!(text(&records[1], operation), "GET /orders/{id}");
}

#[test]
fn with_the_logs_layer_events_are_log_records_not_span_events() {
    let (spans, records) = run("info", |_| {
        let _request = tracing::info_span!("handle order").entered();
        tracing::info!("order accepted");
    });
    assert_eq!(records.len(), 1);
    let span = spans.iter().find(|s| s.name == "handle order").unwrap();
    assert!(span.events.is_empty(), "{:?}", span.events);

    // Without it, events stay span events, log exporter or not.
    let capture = LogCapture::new();
    let subscriber = tracing_subscriber::registry().with(census::tracing::layer(&capture.tracer));
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("handle order").entered();
        tracing::info!("order accepted");
    });
    let spans = capture.spans();
    let span = spans.iter().find(|s| s.name == "handle order").unwrap();
    assert_eq!(span.events.len(), 1, "{:?}", span.events);
    assert!(capture.records().is_empty());
}
