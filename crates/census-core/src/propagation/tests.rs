use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::{KeyValue, global};

use super::*;

const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The default every census tracer and test installs: setting it here
/// changes nothing for tests running beside this one.
fn default_propagator() {
    global::set_text_map_propagator(PropagatorName::composite(&PropagatorName::DEFAULT));
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
fn injection_replaces_whatever_the_propagator_owns_in_a_reused_request() {
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
    headers.insert("baggage", HeaderValue::from_static("stale=1"));
    headers.insert("accept", HeaderValue::from_static("text/plain"));
    inject(&cx, &mut headers);
    assert_eq!(
        headers["traceparent"],
        "00-00000000000000000000000000000001-0000000000000002-01"
    );
    assert_eq!(headers.get_all("tracestate").iter().count(), 0);
    assert_eq!(headers.get_all("baggage").iter().count(), 0);
    assert_eq!(headers["accept"], "text/plain");

    let with_baggage = cx.with_baggage([KeyValue::new("user", "42")]);
    inject(&with_baggage, &mut headers);
    assert_eq!(headers["baggage"], "user=42");

    // No span and no baggage: nothing is written.
    let mut untouched = HeaderMap::new();
    inject(&Context::new(), &mut untouched);
    assert!(untouched.is_empty());
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
    assert_eq!(headers.get_all("x-other"), Some(vec!["x"]));
    assert_eq!(headers.get_all("traceparent"), None);
}

#[test]
fn propagator_lists_read_as_otel_propagators_lists_them() {
    assert_eq!(
        PropagatorName::parse_list("tracecontext,baggage").unwrap(),
        PropagatorName::DEFAULT
    );
    assert_eq!(
        PropagatorName::parse_list(" B3Multi , none ").unwrap(),
        [PropagatorName::B3Multi, PropagatorName::None]
    );
    let error = PropagatorName::parse_list("tracecontext,xray").unwrap_err();
    assert_eq!(error, UnknownPropagator("xray".to_owned()));
    assert!(
        error
            .to_string()
            .contains("`tracecontext`, `baggage`, `b3`, `b3multi`")
    );
    // The composite lists its fields in no set order.
    let fields = |names: &[PropagatorName]| -> Vec<String> {
        let mut fields: Vec<String> = PropagatorName::composite(names)
            .fields()
            .map(str::to_owned)
            .collect();
        fields.sort_unstable();
        fields
    };
    assert_eq!(
        fields(&[PropagatorName::B3, PropagatorName::Baggage]),
        ["b3", "baggage"]
    );
    assert_eq!(
        fields(&[PropagatorName::B3Multi]),
        ["x-b3-sampled", "x-b3-spanid", "x-b3-traceid"]
    );
    assert!(fields(&[PropagatorName::None]).is_empty());
}
