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
    traceparent: Option<&'a HeaderValue>,
    tracestate: Option<&'a HeaderValue>,
}

impl<'a> RequestHeaders<'a> {
    pub(crate) fn read(all: &'a HeaderMap) -> Self {
        let mut known = Self {
            all,
            host: None,
            user_agent: None,
            forwarded_for: None,
            traceparent: None,
            tracestate: None,
        };
        for (name, value) in all.iter() {
            let slot = if name == header::HOST {
                &mut known.host
            } else if name == header::USER_AGENT {
                &mut known.user_agent
            } else {
                match name.as_str() {
                    "traceparent" => &mut known.traceparent,
                    "tracestate" => &mut known.tracestate,
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
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            name => self.all.get(name),
        };
        value.and_then(|v| v.to_str().ok())
    }
}

/// actix's headers, read by the W3C and B3 propagators.
impl Extractor for RequestHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        RequestHeaders::get(self, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.all.keys().map(|k| k.as_str()).collect()
    }

    /// Every value of a repeated header, in order (W3C Trace Context joins
    /// repeated `tracestate` headers and refuses differing `traceparent`
    /// ones); values that are not text are left out.
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .all
            .get_all(key)
            .filter_map(|value| value.to_str().ok())
            .collect();
        (!values.is_empty()).then_some(values)
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
}
