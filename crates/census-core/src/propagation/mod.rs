//! Trace context over `http` headers: W3C Trace Context (`traceparent`,
//! `tracestate`) unless [`set_format`] chose B3.
//!
//! census speaks its own format, whatever global propagator is set, so
//! that middleware and clients agree without configuration.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use std::sync::atomic::{AtomicU8, Ordering};

use opentelemetry::trace::{SpanContext, TraceContextExt};

mod b3;
mod w3c;

/// The header format census reads and writes trace context in, named as
/// `OTEL_PROPAGATORS` names them.
///
/// ```
/// use census_core::propagation::Format;
/// assert_eq!("b3multi".parse::<Format>(), Ok(Format::B3Multi));
/// assert!("jaeger".parse::<Format>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// W3C Trace Context, `tracecontext`: the default.
    #[default]
    TraceContext,
    /// Zipkin's single `b3` header, `b3`; both B3 forms are read.
    B3,
    /// Zipkin's `X-B3-*` headers, `b3multi`; both B3 forms are read.
    B3Multi,
}

/// A propagation format census does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown propagation format `{0}`: use `tracecontext` (W3C, the default), `b3` or `b3multi`"
)]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, UnknownFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Self::TraceContext),
            "b3" => Ok(Self::B3),
            "b3multi" => Ok(Self::B3Multi),
            _ => Err(UnknownFormat(name.to_owned())),
        }
    }
}

static FORMAT: AtomicU8 = AtomicU8::new(0);

/// Chooses the format every census integration reads and writes from now
/// on, process-wide.
///
/// ```no_run
/// use census_core::propagation::{Format, format, set_format};
/// set_format(Format::B3);
/// assert_eq!(format(), Format::B3);
/// # set_format(Format::TraceContext);
/// ```
pub fn set_format(format: Format) {
    let code = match format {
        Format::TraceContext => 0,
        Format::B3 => 1,
        Format::B3Multi => 2,
    };
    FORMAT.store(code, Ordering::Relaxed);
}

/// The format in use.
pub fn format() -> Format {
    match FORMAT.load(Ordering::Relaxed) {
        1 => Format::B3,
        2 => Format::B3Multi,
        _ => Format::TraceContext,
    }
}

/// The context an incoming request continues: its remote parent when the
/// headers carry a valid `traceparent`, otherwise an empty context.
///
/// ```
/// use opentelemetry::trace::{SpanContext, TraceContextExt};
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// let cx = census_core::propagation::extract(&headers);
/// assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// ```
pub fn extract(headers: &HeaderMap) -> Context {
    extract_from(&HttpHeaders(headers))
}

/// [`extract`] from the headers of a framework with its own header type
/// (actix-web), read through an OpenTelemetry [`Extractor`].
///
/// ```
/// use opentelemetry::trace::{SpanContext, TraceContextExt};
/// let mut carrier = std::collections::HashMap::new();
/// carrier.insert("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
/// let cx = census_core::propagation::extract_from(&carrier);
/// assert!(cx.span().span_context().is_sampled());
/// ```
pub fn extract_from(headers: &dyn Extractor) -> Context {
    let empty = Context::new();
    match format() {
        Format::TraceContext => match headers.get("traceparent").and_then(w3c::parse) {
            Some((trace_id, span_id, flags)) => {
                let state = headers
                    .get(TRACESTATE)
                    .filter(|state| is_printable(state))
                    .and_then(|state| state.parse().ok())
                    .unwrap_or_default();
                empty.with_remote_span_context(SpanContext::new(
                    trace_id, span_id, flags, true, state,
                ))
            }
            None => empty,
        },
        Format::B3 | Format::B3Multi => match b3::extract(headers) {
            Some(parent) => empty.with_remote_span_context(parent),
            None => empty,
        },
    }
}

/// Writes `cx`'s span as `traceparent` (and `tracestate`) into `headers`.
/// Nothing is written when `cx` has no valid span.
pub fn inject(cx: &Context, headers: &mut HeaderMap) {
    let writer = &mut HeaderWriter(headers);
    let span = cx.span();
    let ids = span.span_context();
    match format() {
        Format::TraceContext if ids.is_valid() => {
            static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
            static TRACESTATE_NAME: HeaderName = HeaderName::from_static(TRACESTATE);
            if let Ok(value) = HeaderValue::from_bytes(&w3c::write(ids)) {
                writer.0.insert(&TRACEPARENT, value);
            }
            // An empty list is not sent; one the request carried from
            // elsewhere must not go on in this trace.
            match HeaderValue::from_str(&ids.trace_state().header()) {
                Ok(state) if !state.is_empty() => writer.0.insert(&TRACESTATE_NAME, state),
                _ => writer.0.remove(&TRACESTATE_NAME),
            };
        }
        Format::TraceContext => {}
        Format::B3 if ids.is_valid() => b3::inject_single(ids, writer),
        Format::B3Multi if ids.is_valid() => b3::inject_multi(ids, writer),
        Format::B3 | Format::B3Multi => {}
    }
}

/// A [sqlcommenter](https://google.github.io/sqlcommenter/) comment
/// carrying `cx`'s span as `traceparent`, to append to a statement so that
/// database logs and `pg_stat_statements` can be joined to traces; `None`
/// when `cx` has no valid span.
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// let cx = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
///     TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
///     SpanId::from_hex("00f067aa0ba902b7").unwrap(),
///     TraceFlags::SAMPLED,
///     false,
///     TraceState::default(),
/// ));
/// assert_eq!(
///     census_core::propagation::sql_comment(&cx).as_deref(),
///     Some("/*traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/")
/// );
/// assert_eq!(census_core::propagation::sql_comment(&opentelemetry::Context::new()), None);
/// ```
pub fn sql_comment(cx: &Context) -> Option<String> {
    // Hex ids and flags need no escaping inside the quotes.
    traceparent(cx).map(|value| format!("/*traceparent='{value}'*/"))
}

/// `cx`'s span as a W3C `traceparent` value (`00-{trace}-{span}-{flags}`),
/// for places other than request headers: a SQL comment, a
/// `traceresponse` header. `None` when `cx` has no valid span.
///
/// ```
/// assert_eq!(census_core::propagation::traceparent(&opentelemetry::Context::new()), None);
/// ```
pub fn traceparent(cx: &Context) -> Option<String> {
    let span = cx.span();
    let ids = span.span_context();
    ids.is_valid()
        .then(|| w3c::write(ids).into_iter().map(char::from).collect())
}

/// `sql` with [`sql_comment`] appended; `None` when `cx` has no valid
/// span.
///
/// ```
/// assert_eq!(census_core::propagation::commented_sql("SELECT 1", &opentelemetry::Context::new()), None);
/// ```
pub fn commented_sql(sql: &str, cx: &Context) -> Option<String> {
    sql_comment(cx).map(|comment| format!("{sql} {comment}"))
}

/// The `http` crate's headers, read by census's propagators (as in
/// [`Integration::start_server`](crate::registry::Integration::start_server)):
/// the names census reads on every request are parsed once, not on each
/// lookup.
///
/// ```
/// use opentelemetry::propagation::Extractor;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
/// assert!(census_core::propagation::HttpHeaders(&headers).get("traceparent").is_some());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        crate::http::header::text(self.0, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

const TRACESTATE: &str = "tracestate";

/// Whether every character of a `tracestate` is one W3C Trace Context
/// allows there: printable ASCII. The SDK's parser does not look at the
/// values, and a list that cannot be passed on as received is dropped
/// whole, as the specification asks; the parent's ids still count. So is
/// a list the SDK's parser rejects.
fn is_printable(tracestate: &str) -> bool {
    tracestate.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

struct HeaderWriter<'a>(&'a mut HeaderMap);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The propagator only writes its own, valid header names and values.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extracted(tracestate: &str) -> opentelemetry::trace::SpanContext {
        let mut headers = HeaderMap::new();
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        headers.insert("tracestate", HeaderValue::from_str(tracestate).unwrap());
        extract(&headers).span().span_context().clone()
    }

    #[test]
    fn injection_writes_the_span_and_replaces_what_the_request_carried() {
        let cx = Context::new().with_remote_span_context(extracted("rojo=00f067aa0ba902b7"));
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static("stale"));
        headers.insert("tracestate", HeaderValue::from_static("stale=1"));
        inject(&cx, &mut headers);
        assert_eq!(
            headers["traceparent"],
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(headers["tracestate"], "rojo=00f067aa0ba902b7");

        // No list of its own: none is sent, not even the stale one.
        let ids = extracted("");
        assert_eq!(ids.trace_state().header(), "");
        inject(&Context::new().with_remote_span_context(ids), &mut headers);
        assert_eq!(headers.get_all("tracestate").iter().count(), 0);
        assert_eq!(headers.get_all("traceparent").iter().count(), 1);

        // No span: nothing is written.
        let mut untouched = HeaderMap::new();
        inject(&Context::new(), &mut untouched);
        assert!(untouched.is_empty());
    }

    #[test]
    fn a_tracestate_that_cannot_be_passed_on_is_dropped_and_the_parent_kept() {
        let kept = extracted("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        assert_eq!(kept.trace_state().get("congo"), Some("t61rcWkgMzE"));

        // A tab, which a header may carry and tracestate may not.
        let dropped = extracted("rojo=00f067aa0ba902b7,congo=t61\trcWkgMzE");
        assert!(dropped.is_valid() && dropped.is_sampled());
        assert_eq!(dropped.trace_id(), kept.trace_id());
        assert_eq!(dropped.trace_state().header(), "");
    }
}
