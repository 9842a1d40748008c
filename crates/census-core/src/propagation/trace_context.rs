//! W3C Trace Context (Level 2) as an OpenTelemetry propagator.

use std::sync::LazyLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceState};

use super::tracestate::{self, Foreign, List};
use super::w3c;

pub(super) const TRACEPARENT: &str = "traceparent";
pub(super) const TRACESTATE: &str = "tracestate";

static FIELDS: LazyLock<[String; 2]> =
    LazyLock::new(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]);

/// W3C Trace Context, Level 2: `traceparent` and `tracestate`, read and
/// written as the specification (and its test suite) asks, which the
/// SDK's `TraceContextPropagator` does not fully do:
///
/// - ids of the wrong length, capitals, and two `traceparent` headers that
///   differ are invalid: the request starts a new trace;
/// - the `sampled` and `random` flags are kept and passed on;
/// - several `tracestate` headers form one list, in order; spaces, tabs
///   and empty members are allowed; keys follow Level 2's grammar
///   (`tenant@system`, up to 256 characters); a list with one bad member
///   or more than 32 members is dropped whole, and the parent kept;
/// - an empty `tracestate` is not sent.
///
/// ```
/// use census_core::propagation::TraceContextPropagator;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use std::collections::HashMap;
///
/// let incoming = HashMap::from([
///     ("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".to_owned()),
///     ("tracestate".to_owned(), " congo=t61rcWkgMzE,, rojo=00f067aa0ba902b7 ".to_owned()),
/// ]);
/// let propagator = TraceContextPropagator::new();
/// let cx = propagator.extract(&incoming);
/// let mut outgoing = HashMap::new();
/// propagator.inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["traceparent"], incoming["traceparent"]);
/// assert_eq!(outgoing["tracestate"], "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceContextPropagator {
    _private: (),
}

impl TraceContextPropagator {
    /// The propagator.
    pub const fn new() -> Self {
        Self { _private: () }
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let ids = span.span_context();
        if !ids.is_valid() {
            return;
        }
        let traceparent = w3c::write(ids);
        // Hex digits and dashes only.
        injector.set(
            TRACEPARENT,
            traceparent.iter().copied().map(char::from).collect(),
        );
        let foreign = cx
            .get::<Foreign>()
            .filter(|foreign| foreign.trace_id == ids.trace_id())
            .and_then(|foreign| foreign.header.as_deref());
        let header = tracestate::header(ids.trace_state(), foreign);
        if !header.is_empty() {
            injector.set(TRACESTATE, header);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((trace_id, span_id, flags)) = traceparent(extractor) else {
            return cx.clone();
        };
        let (state, foreign) =
            match tracestate::parse(extractor.get_all(TRACESTATE).into_iter().flatten()) {
                List::State(state) => (state, None),
                List::Foreign(header) => (TraceState::NONE, Some(header)),
                List::Invalid => (TraceState::NONE, None),
            };
        let cx =
            cx.with_remote_span_context(SpanContext::new(trace_id, span_id, flags, true, state));
        match foreign {
            Some(header) => cx.with_value(Foreign {
                trace_id,
                header: Some(header),
            }),
            // A list read earlier for this trace is not this request's.
            None if cx.get::<Foreign>().is_some() => cx.with_value(Foreign {
                trace_id,
                header: None,
            }),
            None => cx,
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(FIELDS.as_slice())
    }
}

/// The one `traceparent` of the request: several that differ are invalid.
fn traceparent(
    extractor: &dyn Extractor,
) -> Option<(
    opentelemetry::trace::TraceId,
    opentelemetry::trace::SpanId,
    opentelemetry::trace::TraceFlags,
)> {
    match extractor.get_all(TRACEPARENT)?.as_slice() {
        [first, rest @ ..] if rest.iter().all(|other| other == first) => w3c::parse(first),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

    use super::*;

    const PARENT: &str = "00-12345678901234567890123456789012-1234567890123456-01";

    /// Headers as a server receives them: a name may repeat.
    struct Repeated(Vec<(&'static str, String)>);

    impl Extractor for Repeated {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        }

        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| *k).collect()
        }

        fn get_all(&self, key: &str) -> Option<Vec<&str>> {
            let all: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            (!all.is_empty()).then_some(all)
        }
    }

    fn extract(headers: &[(&'static str, &str)]) -> Context {
        let headers = Repeated(headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
        TraceContextPropagator::new().extract(&headers)
    }

    fn injected(cx: &Context) -> std::collections::HashMap<String, String> {
        let mut out = std::collections::HashMap::new();
        TraceContextPropagator::new().inject_context(cx, &mut out);
        out
    }

    #[test]
    fn the_parent_and_its_list_go_on() {
        let cx = extract(&[
            (TRACEPARENT, PARENT),
            (TRACESTATE, "foo=1"),
            (TRACESTATE, "bar=2"),
        ]);
        let span = cx.span();
        let ids = span.span_context();
        assert_eq!(
            ids.trace_id(),
            TraceId::from_hex("12345678901234567890123456789012").unwrap()
        );
        assert_eq!(ids.span_id(), SpanId::from_hex("1234567890123456").unwrap());
        assert!(ids.is_remote() && ids.is_sampled());
        let out = injected(&cx);
        assert_eq!(out[TRACEPARENT], PARENT);
        assert_eq!(out[TRACESTATE], "foo=1,bar=2");
    }

    #[test]
    fn two_traceparent_headers_that_differ_start_a_new_trace() {
        let other = PARENT.replace("9012-", "9011-");
        let cx = extract(&[(TRACEPARENT, PARENT), (TRACEPARENT, &other)]);
        assert!(!cx.span().span_context().is_valid());
        assert!(!cx.has_active_span());
        // The same value twice is one parent.
        let cx = extract(&[(TRACEPARENT, PARENT), (TRACEPARENT, PARENT)]);
        assert!(cx.span().span_context().is_valid());
    }

    #[test]
    fn the_random_flag_is_kept_and_passed_on() {
        let random = PARENT.replace("-01", "-02");
        let cx = extract(&[(TRACEPARENT, &random)]);
        assert_eq!(
            cx.span().span_context().trace_flags(),
            TraceFlags::new(0x02)
        );
        assert!(!cx.span().span_context().is_sampled());
        assert_eq!(injected(&cx)[TRACEPARENT], random);
        // Flags this version does not define are not passed on.
        let cx = extract(&[(TRACEPARENT, &PARENT.replace("-01", "-ff"))]);
        assert_eq!(injected(&cx)[TRACEPARENT], PARENT.replace("-01", "-03"));
    }

    #[test]
    fn an_invalid_list_is_dropped_whole_and_the_parent_kept() {
        for list in ["foo=", "foo=bar=baz", "foo=1,@bar=2"] {
            let cx = extract(&[
                (TRACEPARENT, PARENT),
                (TRACESTATE, "ok=1"),
                (TRACESTATE, list),
            ]);
            assert!(cx.span().span_context().is_valid(), "{list}");
            let out = injected(&cx);
            assert_eq!(out[TRACEPARENT], PARENT);
            assert_eq!(out.get(TRACESTATE), None, "{list}");
        }
    }

    #[test]
    fn a_list_opentelemetry_refuses_goes_on_unchanged_for_its_trace_only() {
        let cx = extract(&[
            (TRACEPARENT, PARENT),
            (TRACESTATE, "foo@@bar=1"),
            (TRACESTATE, "bar=2"),
        ]);
        assert_eq!(injected(&cx)[TRACESTATE], "foo@@bar=1,bar=2");
        // A span of another trace started in this context does not send it.
        let other = SpanContext::new(
            TraceId::from(7),
            SpanId::from(7),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        );
        let out = injected(&cx.with_remote_span_context(other));
        assert_eq!(out.get(TRACESTATE), None);
    }

    #[test]
    fn a_later_extraction_for_the_same_trace_replaces_a_list_opentelemetry_refused() {
        let first = extract(&[(TRACEPARENT, PARENT), (TRACESTATE, "foo@@bar=1")]);
        let propagator = TraceContextPropagator::new();
        for (list, expected) in [("ok=1", Some("ok=1")), ("foo=", None), ("", None)] {
            let headers = Repeated(vec![
                (TRACEPARENT, PARENT.to_owned()),
                (TRACESTATE, list.to_owned()),
            ]);
            let again = propagator.extract_with_context(&first, &headers);
            assert_eq!(
                injected(&again).get(TRACESTATE).map(String::as_str),
                expected,
                "{list:?}"
            );
        }
    }

    #[test]
    fn members_the_span_adds_go_first_and_the_refused_list_after_them() {
        let cx = extract(&[(TRACEPARENT, PARENT), (TRACESTATE, "foo@@bar=1,bar=2")]);
        let span = cx.span();
        let ids = span.span_context();
        let changed = |state: TraceState| {
            SpanContext::new(
                ids.trace_id(),
                SpanId::from(9),
                ids.trace_flags(),
                false,
                state,
            )
        };
        let mine = TraceState::from_key_value([("mine", "1")]).unwrap();
        let out = injected(&cx.with_remote_span_context(changed(mine)));
        assert_eq!(out[TRACESTATE], "mine=1,foo@@bar=1,bar=2");
        // A key the span holds is not sent twice.
        let bar = TraceState::from_key_value([("bar", "9")]).unwrap();
        let out = injected(&cx.with_remote_span_context(changed(bar)));
        assert_eq!(out[TRACESTATE], "bar=9,foo@@bar=1");
    }

    #[test]
    fn empty_lists_are_not_sent_and_nothing_is_written_without_a_span() {
        let cx = extract(&[(TRACEPARENT, PARENT), (TRACESTATE, ""), (TRACESTATE, " , ")]);
        let out = injected(&cx);
        assert_eq!(out.get(TRACESTATE), None);
        assert_eq!(out.len(), 1);
        assert!(injected(&Context::new()).is_empty());
        let propagator = TraceContextPropagator::new();
        let fields: Vec<&str> = propagator.fields().collect();
        assert_eq!(fields, [TRACEPARENT, TRACESTATE]);
    }
}
