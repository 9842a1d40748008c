//! An actix request as census's shared HTTP model sees it.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use census_core::http::RequestInfo;
use census_core::model::HttpServerRequest;
use opentelemetry::propagation::Extractor;

/// The request's description, with the route already found: actix's own
/// types (http 0.2) read into the model every server integration shares.
pub(crate) fn describe(
    request: &ServiceRequest,
    info: &RequestInfo<'_>,
    route: Option<&str>,
) -> HttpServerRequest {
    let mut described = HttpServerRequest::from_info(
        info,
        route,
        Some(request.query_string()),
        request.app_config().secure(),
    );
    if let Some(peer) = request.peer_addr() {
        described.set_client_ip(peer.ip());
    }
    described
}

/// The request's method as the `http` crate (1.x) spells it.
pub(crate) fn method(request: &ServiceRequest) -> http::Method {
    use actix_web::http::Method as Actix;
    match *request.method() {
        Actix::GET => http::Method::GET,
        Actix::POST => http::Method::POST,
        Actix::PUT => http::Method::PUT,
        Actix::DELETE => http::Method::DELETE,
        Actix::HEAD => http::Method::HEAD,
        Actix::OPTIONS => http::Method::OPTIONS,
        Actix::PATCH => http::Method::PATCH,
        // Always parses: actix's methods are valid tokens already.
        ref other => http::Method::from_bytes(other.as_str().as_bytes()).unwrap_or_default(),
    }
}

/// The headers census reads on every request, found in one pass over
/// them: actix hashes the name on each lookup (and parses a `&str` name
/// first), which costs more than walking a request's few headers once.
pub(crate) struct RequestHeaders<'a> {
    all: &'a HeaderMap,
    host: Option<&'a HeaderValue>,
    user_agent: Option<&'a HeaderValue>,
    forwarded_for: Option<&'a HeaderValue>,
    traceparent: Seen<'a>,
    tracestate: Seen<'a>,
    baggage: Seen<'a>,
}

/// A header the propagators read: its first value, and whether it came
/// more than once (then every value is looked up).
#[derive(Default, Clone, Copy)]
struct Seen<'a> {
    first: Option<&'a HeaderValue>,
    repeated: bool,
}

impl<'a> Seen<'a> {
    fn add(&mut self, value: &'a HeaderValue) {
        match self.first {
            Some(_) => self.repeated = true,
            None => self.first = Some(value),
        }
    }
}

impl<'a> RequestHeaders<'a> {
    pub(crate) fn read(all: &'a HeaderMap) -> Self {
        let mut known = Self {
            all,
            host: None,
            user_agent: None,
            forwarded_for: None,
            traceparent: Seen::default(),
            tracestate: Seen::default(),
            baggage: Seen::default(),
        };
        for (name, value) in all.iter() {
            let slot = if name == header::HOST {
                &mut known.host
            } else if name == header::USER_AGENT {
                &mut known.user_agent
            } else {
                match name.as_str() {
                    "traceparent" => {
                        known.traceparent.add(value);
                        continue;
                    }
                    "tracestate" => {
                        known.tracestate.add(value);
                        continue;
                    }
                    "baggage" => {
                        known.baggage.add(value);
                        continue;
                    }
                    "x-forwarded-for" => &mut known.forwarded_for,
                    _ => continue,
                }
            };
            // The first value, as a lookup by name gives.
            slot.get_or_insert(value);
        }
        known
    }

    /// The value of header `name` (lowercase), when it is text.
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        let value = match name {
            "host" => self.host,
            "user-agent" => self.user_agent,
            "x-forwarded-for" => self.forwarded_for,
            "traceparent" => self.traceparent.first,
            "tracestate" => self.tracestate.first,
            "baggage" => self.baggage.first,
            name => self.all.get(name),
        };
        value.and_then(|v| v.to_str().ok())
    }

    fn seen(&self, name: &str) -> Option<Seen<'a>> {
        match name {
            "traceparent" => Some(self.traceparent),
            "tracestate" => Some(self.tracestate),
            "baggage" => Some(self.baggage),
            _ => None,
        }
    }
}

/// actix's headers, read by the global propagator.
impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        RequestHeaders::get(self, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.all.keys().map(|k| k.as_str()).collect()
    }

    /// Every value of a repeated header, in order (W3C Trace Context joins
    /// repeated `tracestate` headers and refuses differing `traceparent`
    /// ones); a value that is not text stands as
    /// [`NOT_TEXT`](census_core::propagation::NOT_TEXT).
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        fn text(value: &HeaderValue) -> &str {
            value.to_str().unwrap_or(census_core::propagation::NOT_TEXT)
        }
        match self.seen(key) {
            Some(Seen {
                first: None,
                repeated: false,
            }) => None,
            // The usual case: one value, no lookup.
            Some(Seen {
                first: Some(value),
                repeated: false,
            }) => Some(vec![text(value)]),
            _ => {
                let values: Vec<&str> = self.all.get_all(key).map(text).collect();
                (!values.is_empty()).then_some(values)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

    use super::RequestHeaders;

    #[test]
    fn known_headers_read_in_one_pass_as_lookups_read_them() {
        let mut all = HeaderMap::new();
        let mut add = |name: &'static str, value: &'static [u8]| {
            all.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value).unwrap(),
            );
        };
        add("host", b"shop.local");
        add("user-agent", b"probe/1");
        add("x-forwarded-for", b"203.0.113.9");
        add("x-forwarded-for", b"10.0.0.1");
        add(
            "traceparent",
            b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        add("tracestate", b"k=v");
        add("x-request-id", b"42");
        add("x-binary", b"\xff");
        let headers = RequestHeaders::read(&all);
        for name in [
            "host",
            "user-agent",
            "x-forwarded-for",
            "traceparent",
            "tracestate",
            "x-request-id",
        ] {
            let looked_up = all.get(name).and_then(|v| v.to_str().ok());
            assert!(looked_up.is_some(), "{name}");
            assert_eq!(headers.get(name), looked_up, "{name}");
        }
        assert_eq!(
            headers.get("x-forwarded-for"),
            Some("203.0.113.9"),
            "the first value"
        );
        assert_eq!(headers.get("x-binary"), None, "not text");
        assert_eq!(headers.get("accept"), None);
        assert_eq!(RequestHeaders::read(&HeaderMap::new()).get("host"), None);
    }

    #[test]
    fn every_value_of_a_propagation_header_is_read_in_order() {
        use opentelemetry::propagation::Extractor as _;
        let mut all = HeaderMap::new();
        for (name, value) in [
            ("tracestate", &b"a=1"[..]),
            ("tracestate", b"b=2"),
            ("tracestate", b"\xff"),
            (
                "traceparent",
                b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("baggage", b"k=v"),
            ("x-other", b"1"),
            ("x-other", b"2"),
        ] {
            all.append(
                HeaderName::from_static(name),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        let headers = RequestHeaders::read(&all);
        assert_eq!(
            headers.get_all("tracestate"),
            Some(vec!["a=1", "b=2", census_core::propagation::NOT_TEXT])
        );
        assert_eq!(
            headers.get_all("traceparent"),
            Some(vec![
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            ])
        );
        assert_eq!(headers.get("baggage"), Some("k=v"));
        assert_eq!(headers.get_all("x-other"), Some(vec!["1", "2"]));
        assert_eq!(headers.get_all("b3"), None);
        assert_eq!(
            RequestHeaders::read(&HeaderMap::new()).get_all("tracestate"),
            None
        );
    }
}
