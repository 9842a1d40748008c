//! Trace context extraction from hostile headers, in every format census
//! reads: no panic, and whatever is accepted survives a round trip through
//! census's own injection unchanged.
#![no_main]

use std::collections::HashMap;

use census_core::propagation::{Format, extract, extract_from, inject, set_format};
use libfuzzer_sys::fuzz_target;
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
    let format = match lines.next().and_then(|l| l.bytes().next()).map(|b| b % 3) {
        Some(1) => Format::B3,
        Some(2) => Format::B3Multi,
        _ => Format::TraceContext,
    };
    set_format(format);
    let carrier: HashMap<String, String> = HEADERS
        .iter()
        .zip(lines)
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| ((*name).to_owned(), value.to_owned()))
        .collect();

    let cx = extract_from(&carrier);
    let span = cx.span();
    let parent = span.span_context();
    if !parent.is_valid() {
        return;
    }
    assert!(parent.is_remote(), "an extracted parent is remote");
    let mut headers = http::HeaderMap::new();
    inject(&cx, &mut headers);
    let again = extract(&headers);
    let again = again.span();
    let again = again.span_context();
    assert_eq!(
        again.trace_id(),
        parent.trace_id(),
        "{format:?} {headers:?}"
    );
    assert_eq!(again.span_id(), parent.span_id(), "{format:?} {headers:?}");
    assert_eq!(
        again.is_sampled(),
        parent.is_sampled(),
        "{format:?} {headers:?}"
    );
    if format == Format::TraceContext {
        assert_eq!(again.trace_state(), parent.trace_state(), "{headers:?}");
    }
});
