//! Zipkin's B3 headers: the single `b3` header and the `X-B3-*` ones.
//! <https://github.com/openzipkin/b3-propagation>

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};

const SINGLE: &str = "b3";
const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";
const PARENT_SPAN_ID: &str = "x-b3-parentspanid";

/// Every B3 header, whichever form is written: injection clears them all
/// first, so a reused request carries no `b3` (read first) or
/// `x-b3-flags` (debug, which means sampled) of another trace.
static FIELDS: LazyLock<[String; 6]> = LazyLock::new(|| {
    [SINGLE, TRACE_ID, SPAN_ID, SAMPLED, FLAGS, PARENT_SPAN_ID].map(str::to_owned)
});

/// Zipkin's B3 propagation as an OpenTelemetry propagator
/// (`OTEL_PROPAGATORS` entries `b3` and `b3multi`). Both forms are read,
/// the single `b3` header first; [`single`](Self::single) writes the
/// single header, [`multi`](Self::multi) the `X-B3-*` ones.
///
/// ```
/// use census_core::propagation::B3Propagator;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
///
/// let incoming = HashMap::from([(
///     "b3".to_owned(),
///     "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1".to_owned(),
/// )]);
/// let cx = B3Propagator::single().extract(&incoming);
/// assert!(cx.span().span_context().is_sampled());
/// let mut outgoing = HashMap::new();
/// B3Propagator::multi().inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["x-b3-spanid"], "e457b5a2e4d86bd1");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct B3Propagator {
    multi: bool,
}

impl B3Propagator {
    /// Writes the single `b3` header (`b3`).
    pub const fn single() -> Self {
        Self { multi: false }
    }

    /// Writes `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled` (`b3multi`).
    pub const fn multi() -> Self {
        Self { multi: true }
    }
}

impl TextMapPropagator for B3Propagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let ids = span.span_context();
        match (ids.is_valid(), self.multi) {
            (false, _) => {}
            (true, false) => inject_single(ids, injector),
            (true, true) => inject_multi(ids, injector),
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extract(extractor) {
            Some(parent) => cx.with_remote_span_context(parent),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

/// The remote parent in `headers`, from `b3` or else `X-B3-*`; `None`
/// when neither carries a valid one.
fn extract(headers: &dyn Extractor) -> Option<SpanContext> {
    match headers.get(SINGLE) {
        Some(single) => parse_single(single),
        None => parse_multi(headers),
    }
}

fn parse_single(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let trace_id = trace_id(parts.next()?)?;
    let span_id = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        None => false,
        Some("1" | "d") => true,
        Some("0") => false,
        Some(_) => return None,
    };
    // The fourth part, the parent's span id, is not needed downstream.
    if parts.nth(1).is_some() {
        return None;
    }
    context(trace_id, span_id, sampled)
}

fn parse_multi(headers: &dyn Extractor) -> Option<SpanContext> {
    let trace_id = trace_id(headers.get(TRACE_ID)?.trim())?;
    let span_id = span_id(headers.get(SPAN_ID)?.trim())?;
    let debug = headers.get(FLAGS).is_some_and(|f| f.trim() == "1");
    let sampled = debug || matches!(headers.get(SAMPLED).map(str::trim), Some("1" | "true"));
    context(trace_id, span_id, sampled)
}

fn context(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Option<SpanContext> {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let cx = SpanContext::new(trace_id, span_id, flags, true, TraceState::default());
    cx.is_valid().then_some(cx)
}

/// 32 lowercase hex digits, or 16 (a 64-bit id, widened with zeros).
fn trace_id(hex: &str) -> Option<TraceId> {
    (matches!(hex.len(), 16 | 32) && lower_hex(hex))
        .then(|| u128::from_str_radix(hex, 16).ok())
        .flatten()
        .map(TraceId::from)
}

fn span_id(hex: &str) -> Option<SpanId> {
    (hex.len() == 16 && lower_hex(hex))
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
        .map(SpanId::from)
}

/// `from_str_radix` alone would also take a sign and capitals.
fn lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Writes `cx` as one `b3` header.
fn inject_single(cx: &SpanContext, headers: &mut dyn Injector) {
    let sampled = if cx.is_sampled() { '1' } else { '0' };
    headers.set(
        SINGLE,
        format!("{}-{}-{sampled}", cx.trace_id(), cx.span_id()),
    );
}

/// Writes `cx` as `X-B3-TraceId`, `X-B3-SpanId` and `X-B3-Sampled`.
fn inject_multi(cx: &SpanContext, headers: &mut dyn Injector) {
    headers.set(TRACE_ID, cx.trace_id().to_string());
    headers.set(SPAN_ID, cx.span_id().to_string());
    headers.set(SAMPLED, if cx.is_sampled() { "1" } else { "0" }.to_owned());
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    #[test]
    fn the_single_header_is_read_with_every_sampling_state() {
        for (state, sampled) in [("-1", true), ("-d", true), ("-0", false), ("", false)] {
            let value = format!("{TRACE}-{SPAN}{state}");
            let cx = extract(&headers(&[("b3", &value)])).unwrap();
            assert_eq!(cx.trace_id().to_string(), TRACE);
            assert_eq!(cx.span_id().to_string(), SPAN);
            assert_eq!(cx.is_sampled(), sampled, "{value}");
            assert!(cx.is_remote());
        }
        let with_parent = format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90");
        assert!(
            extract(&headers(&[("b3", &with_parent)]))
                .unwrap()
                .is_sampled()
        );
    }

    #[test]
    fn multiple_headers_and_64_bit_trace_ids_are_read() {
        let cx = extract(&headers(&[
            ("x-b3-traceid", "64fe8b2a57d3eff7"),
            ("x-b3-spanid", SPAN),
            ("x-b3-sampled", "1"),
        ]))
        .unwrap();
        assert_eq!(
            cx.trace_id().to_string(),
            "000000000000000064fe8b2a57d3eff7"
        );
        assert!(cx.is_sampled());
        let debug = headers(&[
            ("x-b3-traceid", TRACE),
            ("x-b3-spanid", SPAN),
            ("x-b3-flags", "1"),
        ]);
        assert!(extract(&debug).unwrap().is_sampled());
    }

    #[test]
    fn malformed_or_zero_ids_give_no_parent() {
        for value in [
            "0",
            "nonsense",
            &format!("{TRACE}-{SPAN}-x"),
            &format!("{TRACE}-e457b5a2"),
            &format!("00000000000000000000000000000000-{SPAN}-1"),
            &format!("{TRACE}-0000000000000000-1"),
            &format!("{TRACE}-+457b5a2e4d86bd1-1"),
            &format!("80F198EE56343BA864FE8B2A57D3EFF7-{SPAN}-1"),
            &format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90-extra"),
        ] {
            assert_eq!(extract(&headers(&[("b3", value)])), None, "{value}");
        }
        assert_eq!(extract(&headers(&[("x-b3-traceid", TRACE)])), None);
    }

    #[test]
    fn written_headers_read_back() {
        let cx = context(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            true,
        )
        .unwrap();
        let mut single = HashMap::new();
        inject_single(&cx, &mut single);
        assert_eq!(single["b3"], format!("{TRACE}-{SPAN}-1"));
        assert_eq!(extract(&single), Some(cx.clone()));
        let mut multi = HashMap::new();
        inject_multi(&cx, &mut multi);
        assert_eq!(multi["x-b3-sampled"], "1");
        assert_eq!(extract(&multi), Some(cx));
    }
}
