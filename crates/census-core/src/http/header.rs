//! Header lookups by the names census reads on every request.

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HOST, HeaderName, USER_AGENT};

static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
static FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static BAGGAGE: HeaderName = HeaderName::from_static("baggage");

/// The pre-parsed name of a header propagators write on every call.
pub(crate) fn known(name: &str) -> Option<&'static HeaderName> {
    match name {
        "traceparent" => Some(&TRACEPARENT),
        "tracestate" => Some(&TRACESTATE),
        "baggage" => Some(&BAGGAGE),
        _ => None,
    }
}

/// Every value of header `name` (lowercase), in order.
pub(crate) fn all<'a>(
    headers: &'a HeaderMap,
    name: &str,
) -> http::header::ValueIter<'a, http::HeaderValue> {
    match known(name) {
        Some(known) => headers.get_all(known).iter(),
        None => headers.get_all(name).iter(),
    }
}

/// The value of header `name` (lowercase), when it is text.
///
/// `HeaderMap::get` with a `&str` parses the name first, which costs more
/// than the lookup: the names census reads on every request are parsed
/// once.
pub(crate) fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    if let Some(known) = known(name) {
        return headers.get(known).and_then(|v| v.to_str().ok());
    }
    let value = match name {
        "host" => headers.get(HOST),
        "user-agent" => headers.get(USER_AGENT),
        "content-type" => headers.get(CONTENT_TYPE),
        "x-forwarded-for" => headers.get(&FORWARDED_FOR),
        name => headers.get(name),
    };
    value.and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn known_and_other_names_read_the_same_headers() {
        let mut headers = http::HeaderMap::new();
        for (name, value) in [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("tracestate", "k=v"),
            ("host", "shop.local"),
            ("user-agent", "probe/1"),
            ("content-type", "application/grpc"),
            ("x-forwarded-for", "203.0.113.9"),
            ("x-request-id", "42"),
        ] {
            headers.insert(http::HeaderName::from_static(name), value.parse().unwrap());
            assert_eq!(text(&headers, name), Some(value), "{name}");
        }
        assert_eq!(text(&headers, "accept"), None);
        headers.insert("x-binary", http::HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(text(&headers, "x-binary"), None, "not text");
    }
}
