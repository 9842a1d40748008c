//! `log` records as log records through `census::log::install`: one
//! process, one `log` logger, so one test walks through it in order.

use census::Tracer;
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLogRecord};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};

fn body(record: &SdkLogRecord) -> String {
    match record.body() {
        Some(AnyValue::String(text)) => text.to_string(),
        other => panic!("no text body: {other:?}"),
    }
}

#[test]
fn log_records_are_filtered_correlated_and_the_bridge_installed_once() {
    let without = Tracer::builder().install(false).build();
    let err = census::log::install(&without, "info").unwrap_err();
    assert!(
        matches!(err, census::log::LogBridgeError::NoLoggerProvider),
        "{err}"
    );

    let (spans, logs) = (
        InMemorySpanExporter::default(),
        InMemoryLogExporter::default(),
    );
    let tracer = Tracer::builder()
        .span_processor(SimpleSpanProcessor::new(spans.clone()))
        .log_exporter(logs.clone())
        .install(false)
        .build();
    let err = census::log::install(&tracer, "info,shop=loud").unwrap_err();
    assert!(
        err.to_string().starts_with(
            r#"CENSUS_LOG_FILTER="info,shop=loud" is not a filter in RUST_LOG's syntax"#
        ),
        "{err}"
    );
    census::log::install(&tracer, "info,shop=debug").unwrap();

    log::info!("service started");
    log::debug!("cache warmed");
    log::debug!(target: "shop::orders", "order cached");
    log::info!(target: "census_azure::delivery", "sent 12 items");
    log::error!(target: "ureq::pool", "connection reset");
    {
        let _span = tracer.span("handle order");
        log::warn!(order_id = 7; "stock low");
    }
    tracer.logger_provider().unwrap().force_flush().unwrap();
    let records: Vec<_> = logs
        .get_emitted_logs()
        .unwrap()
        .into_iter()
        .map(|log| log.record)
        .collect();
    let bodies: Vec<_> = records.iter().map(body).collect();
    assert_eq!(bodies, ["service started", "order cached", "stock low"]);
    let [started, cached, low] = records.as_slice() else {
        unreachable!()
    };
    assert!(started.trace_context().is_none(), "outside any span");
    assert!(cached.trace_context().is_none());
    let span = spans.get_finished_spans().unwrap().remove(0);
    let context = low.trace_context().expect("in a span");
    assert_eq!(context.trace_id, span.span_context.trace_id());
    assert_eq!(context.span_id, span.span_context.span_id());
    assert_eq!(started.severity_number(), Some(Severity::Info));
    assert_eq!(cached.severity_number(), Some(Severity::Debug));
    assert_eq!(low.severity_number(), Some(Severity::Warn));
    let order_id = low
        .attributes_iter()
        .find(|(key, _)| key.as_str() == "order_id")
        .map(|(_, value)| value.clone());
    assert_eq!(order_id, Some(AnyValue::Int(7)));

    let err = census::log::install(&tracer, "info").unwrap_err();
    assert!(
        matches!(err, census::log::LogBridgeError::AlreadyInstalled { .. }),
        "{err}"
    );
}
