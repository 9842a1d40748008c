//! `log` records as log records through `census::log::install`: one
//! process, one `log` logger, so one test walks through it in order.

use census::Tracer;
use census_pipeline::testing::{LogCapture, log_attribute, log_body};
use opentelemetry::logs::{AnyValue, Severity};

#[test]
fn log_records_are_filtered_correlated_and_the_bridge_installed_once() {
    let without = Tracer::builder().install(false).build();
    let err = census::log::install(&without, "info").unwrap_err();
    assert!(
        matches!(err, census::log::LogBridgeError::NoLoggerProvider),
        "{err}"
    );

    let capture = LogCapture::new();
    let tracer = &capture.tracer;
    let err = census::log::install(tracer, "info,shop=loud").unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"the log filter "info,shop=loud" is not in RUST_LOG's syntax"#),
        "{err}"
    );
    census::log::install(tracer, "info,shop=debug").unwrap();

    log::info!("service started");
    log::debug!("cache warmed");
    log::debug!(target: "shop::orders", "order cached");
    log::info!(target: "census_azure::delivery", "sent 12 items");
    log::error!(target: "ureq::pool", "connection reset");
    {
        let _span = tracer.span("handle order");
        log::warn!(order_id = 7, api_key = "k-123", callback = "https://u:pw@shop.example/cb"; "stock low");
    }
    let records = capture.records();
    let bodies: Vec<_> = records.iter().map(log_body).collect();
    assert_eq!(bodies, ["service started", "order cached", "stock low"]);
    let [started, cached, low] = records.as_slice() else {
        unreachable!()
    };
    assert!(started.trace_context().is_none(), "outside any span");
    assert!(cached.trace_context().is_none());
    let span = capture.spans().remove(0);
    let context = low.trace_context().expect("in a span");
    assert_eq!(context.trace_id, span.span_context.trace_id());
    assert_eq!(context.span_id, span.span_context.span_id());
    assert_eq!(started.severity_number(), Some(Severity::Info));
    assert_eq!(cached.severity_number(), Some(Severity::Debug));
    assert_eq!(low.severity_number(), Some(Severity::Warn));
    assert_eq!(log_attribute(low, "order_id"), Some(AnyValue::Int(7)));
    // Secret key-values and URL credentials are redacted.
    assert_eq!(log_attribute(low, "api_key"), Some("REDACTED".into()));
    assert_eq!(
        log_attribute(low, "callback"),
        Some("https://REDACTED:REDACTED@shop.example/cb".into())
    );

    let err = census::log::install(tracer, "info").unwrap_err();
    assert!(
        matches!(err, census::log::LogBridgeError::AlreadyInstalled { .. }),
        "{err}"
    );
}
