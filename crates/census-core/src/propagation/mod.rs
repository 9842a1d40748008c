//! Trace context over `http` headers, through OpenTelemetry's global
//! propagator: census's integrations read and write whatever the
//! application propagates — W3C Trace Context and Baggage by default,
//! B3, or a propagator of its own — and so do other OpenTelemetry
//! instrumentations in the same process.
//!
//! census's codecs are ordinary
//! [`TextMapPropagator`](opentelemetry::propagation::TextMapPropagator)s:
//! [`TraceContextPropagator`] (W3C Trace Context Level 2) and
//! [`B3Propagator`]. The pipeline (`census-pipeline`) reads
//! `OTEL_PROPAGATORS` and installs their composite as the global
//! propagator (`tracecontext,baggage` unless configured). With no
//! propagator installed, OpenTelemetry propagates nothing, and neither
//! does census.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, global};

mod b3;
mod trace_context;
mod tracestate;
mod w3c;

pub use b3::B3Propagator;
pub use trace_context::TraceContextPropagator;
pub use w3c::RANDOM_FLAG;

/// The context an incoming request continues, as the global propagator
/// reads it from `headers`: its remote parent (and baggage) when they carry
/// valid ones, otherwise an empty context.
///
/// ```
/// use opentelemetry::trace::{SpanContext, TraceContextExt};
/// opentelemetry::global::set_text_map_propagator(census_core::propagation::TraceContextPropagator::new());
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
/// opentelemetry::global::set_text_map_propagator(census_core::propagation::TraceContextPropagator::new());
/// let mut carrier = std::collections::HashMap::new();
/// carrier.insert("traceparent".to_owned(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned());
/// let cx = census_core::propagation::extract_from(&carrier);
/// assert!(cx.span().span_context().is_sampled());
/// ```
pub fn extract_from(headers: &dyn Extractor) -> Context {
    // From an empty context: whatever is current on this thread belongs to
    // other work, not to this request.
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), headers)
    })
}

/// Writes `cx` into `headers` with the global propagator (`traceparent`,
/// `tracestate` and `baggage` by default). Trace-context headers the
/// propagator owns that `headers` already held are removed first, so a
/// reused request carries nothing of another trace; a `baggage` header
/// the application set is kept unless `cx` has baggage, which replaces it.
///
/// ```
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
/// opentelemetry::global::set_text_map_propagator(census_core::propagation::TraceContextPropagator::new());
/// let cx = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
///     TraceId::from(1), SpanId::from(2), TraceFlags::SAMPLED, true, TraceState::NONE,
/// ));
/// let mut headers = http::HeaderMap::new();
/// headers.insert("tracestate", "stale=1".parse().unwrap());
/// census_core::propagation::inject(&cx, &mut headers);
/// assert_eq!(headers["traceparent"], "00-00000000000000000000000000000001-0000000000000002-01");
/// assert!(headers.get("tracestate").is_none());
/// ```
pub fn inject(cx: &Context, headers: &mut HeaderMap) {
    global::get_text_map_propagator(|propagator| {
        for field in propagator.fields().filter(|field| *field != "baggage") {
            match crate::http::header::known(field) {
                Some(name) => headers.remove(name),
                None => headers.remove(field),
            };
        }
        propagator.inject_context(cx, &mut HeaderWriter(headers));
    });
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

/// What [`Extractor::get_all`] gives for a header value that is not
/// text, in census's extractors: U+FFFD, which no trace-context grammar
/// accepts, so a repeated `tracestate` or `traceparent` with such a value
/// is invalid, as the value itself is, rather than quietly shorter.
pub const NOT_TEXT: &str = "\u{fffd}";

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

    /// Every value of a repeated header, in order: W3C Trace Context joins
    /// repeated `tracestate` headers and refuses differing `traceparent`
    /// ones. A value that is not text stands as [`NOT_TEXT`].
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = crate::http::header::all(self.0, key)
            .map(|value| value.to_str().unwrap_or(NOT_TEXT))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

struct HeaderWriter<'a>(&'a mut HeaderMap);

impl Injector for HeaderWriter<'_> {
    fn set(&mut self, key: &str, value: String) {
        // A name or value that is no valid header is not sent.
        let Ok(value) = HeaderValue::try_from(value) else {
            return;
        };
        match crate::http::header::known(key) {
            Some(name) => {
                self.0.insert(name, value);
            }
            None => {
                if let Ok(name) = HeaderName::from_bytes(key.as_bytes()) {
                    self.0.insert(name, value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
