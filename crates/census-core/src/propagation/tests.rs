use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{KeyValue, global};

use super::*;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The default every census tracer and test installs, W3C Trace Context
/// and Baggage: setting it here changes nothing for tests running beside
/// this one.
fn default_propagator() {
    global::set_text_map_propagator(opentelemetry::propagation::TextMapCompositePropagator::new(
        vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
        ],
    ));
}

#[test]
fn the_global_propagator_carries_trace_context_and_baggage_both_ways() {
    default_propagator();
    let mut incoming = HeaderMap::new();
    incoming.insert("traceparent", HeaderValue::from_static(PARENT));
    incoming.append("tracestate", HeaderValue::from_static("rojo=1"));
    incoming.append("tracestate", HeaderValue::from_static("congo=2"));
    incoming.insert(
        "baggage",
        HeaderValue::from_static("tenant=acme,region=eu%20west"),
    );
    let cx = extract(&incoming);
    assert_eq!(cx.baggage().get("tenant").map(|v| v.as_str()), Some("acme"));
    assert_eq!(
        cx.baggage().get("region").map(|v| v.as_str()),
        Some("eu west")
    );

    let mut outgoing = HeaderMap::new();
    inject(&cx, &mut outgoing);
    assert_eq!(outgoing["traceparent"], PARENT);
    assert_eq!(outgoing["tracestate"], "rojo=1,congo=2");
    let mut baggage: Vec<&str> = outgoing["baggage"].to_str().unwrap().split(',').collect();
    baggage.sort_unstable();
    assert_eq!(baggage, ["region=eu%20west", "tenant=acme"]);
}

#[test]
fn injection_replaces_the_trace_context_a_reused_request_carried() {
    default_propagator();
    let ids = SpanContext::new(
        TraceId::from(1),
        SpanId::from(2),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let cx = Context::new().with_remote_span_context(ids);
    let mut headers = HeaderMap::new();
    headers.insert("traceparent", HeaderValue::from_static("stale"));
    headers.append("tracestate", HeaderValue::from_static("stale=1"));
    headers.append("tracestate", HeaderValue::from_static("stale=2"));
    headers.insert("baggage", HeaderValue::from_static("set=by-the-app"));
    headers.insert("accept", HeaderValue::from_static("text/plain"));
    inject(&cx, &mut headers);
    assert_eq!(
        headers["traceparent"],
        "00-00000000000000000000000000000001-0000000000000002-01"
    );
    assert_eq!(headers.get_all("tracestate").iter().count(), 0);
    assert_eq!(headers["accept"], "text/plain");
    // Baggage the application set stays while the context has none...
    assert_eq!(headers["baggage"], "set=by-the-app");
    // ...and the context's replaces it.
    let with_baggage = cx.with_baggage([KeyValue::new("user", "42")]);
    inject(&with_baggage, &mut headers);
    assert_eq!(headers.get_all("baggage").iter().count(), 1);
    assert_eq!(headers["baggage"], "user=42");

    // No span and no baggage: nothing is written.
    let mut untouched = HeaderMap::new();
    inject(&Context::new(), &mut untouched);
    assert!(untouched.is_empty());
}

#[test]
fn a_request_continues_only_what_its_headers_carry_not_the_current_context() {
    default_propagator();
    let elsewhere = SpanContext::new(
        TraceId::from(3),
        SpanId::from(4),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let current = Context::new()
        .with_remote_span_context(elsewhere)
        .with_baggage([KeyValue::new("leak", "1")]);
    let _attached = current.attach();
    let cx = extract(&HeaderMap::new());
    assert!(!cx.span().span_context().is_valid());
    assert!(cx.baggage().is_empty());
}

#[test]
fn repeated_headers_are_all_read() {
    let mut headers = HeaderMap::new();
    headers.append("tracestate", HeaderValue::from_static("a=1"));
    headers.append("tracestate", HeaderValue::from_static("b=2"));
    headers.append("x-other", HeaderValue::from_static("x"));
    headers.append("x-other", HeaderValue::from_bytes(b"\xff").unwrap());
    let headers = HttpHeaders(&headers);
    assert_eq!(headers.get_all("tracestate"), Some(vec!["a=1", "b=2"]));
    // A value that is not text stands as one no trace-context grammar
    // takes, so a list holding it is invalid rather than shortened.
    assert_eq!(headers.get_all("x-other"), Some(vec!["x", NOT_TEXT]));
    assert_eq!(headers.get_all("traceparent"), None);
}
