//! Trace context extraction from hostile headers, in every format census
//! reads: no panic, and whatever is accepted survives a round trip through
//! census's own injection unchanged.
#![no_main]

use std::collections::HashMap;

use census_core::propagation::{B3Propagator, HttpHeaders, TraceContextPropagator};
use libfuzzer_sys::fuzz_target;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt as _;

/// The headers an input's lines give, in this order; an empty line sets
/// none.
const HEADERS: [&str; 7] = [
    "traceparent",
    "tracestate",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-sampled",
    "x-b3-flags",
];

/// Input: the format (`0` W3C, `1` b3, `2` b3multi) on the first line,
/// then one line per header of `HEADERS`.
fuzz_target!(|input: &str| {
    let mut lines = input.split('\n');
    let propagator: Box<dyn TextMapPropagator> =
        match lines.next().and_then(|l| l.bytes().next()).map(|b| b % 3) {
            Some(1) => Box::new(B3Propagator::single()),
            Some(2) => Box::new(B3Propagator::multi()),
            _ => Box::new(TraceContextPropagator::new()),
        };
    let carrier: HashMap<String, String> = HEADERS
        .iter()
        .zip(lines)
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| ((*name).to_owned(), value.to_owned()))
        .collect();

    let cx = propagator.extract(&carrier);
    let span = cx.span();
    let parent = span.span_context();
    if !parent.is_valid() {
        return;
    }
    assert!(parent.is_remote(), "an extracted parent is remote");
    let mut headers = http::HeaderMap::new();
    let mut first = HashMap::new();
    propagator.inject_context(&cx, &mut first);
    for (name, value) in &first {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    let again = propagator.extract(&HttpHeaders(&headers));
    let again_span = again.span();
    let ids = again_span.span_context();
    assert_eq!(ids.trace_id(), parent.trace_id(), "{headers:?}");
    assert_eq!(ids.span_id(), parent.span_id(), "{headers:?}");
    assert_eq!(ids.is_sampled(), parent.is_sampled(), "{headers:?}");
    assert_eq!(ids.trace_state(), parent.trace_state(), "{headers:?}");
    // What is written once is written again the same: the list too, even
    // one OpenTelemetry's `TraceState` cannot hold.
    let mut second = HashMap::new();
    propagator.inject_context(&again, &mut second);
    assert_eq!(first, second);
});
