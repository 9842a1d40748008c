//! An actix request as census's shared HTTP model sees it.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName};
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
    let described = HttpServerRequest::from_info(
        info,
        Some(request.query_string()),
        request.app_config().secure(),
    );
    let described = match route {
        Some(route) => described.with_route(route),
        None => described,
    };
    match request.peer_addr() {
        Some(peer) => described.with_client_ip(peer.ip()),
        None => described,
    }
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

/// The value of header `name` (lowercase), when it is text.
///
/// actix looks a header up by a `&str` name by parsing the name, which
/// copies a non-standard one: the names census reads on every request are
/// parsed once.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
    static FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
    let value = match name {
        "traceparent" => headers.get(&TRACEPARENT),
        "tracestate" => headers.get(&TRACESTATE),
        "host" => headers.get(header::HOST),
        "user-agent" => headers.get(header::USER_AGENT),
        "x-forwarded-for" => headers.get(&FORWARDED_FOR),
        name => headers.get(name),
    };
    value.and_then(|v| v.to_str().ok())
}

/// actix's headers, read by the W3C propagator.
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        header(self.0, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
