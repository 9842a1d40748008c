//! An actix request as census's shared HTTP model sees it.

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderMap;
use census_core::model::HttpServerRequest;
use opentelemetry::propagation::Extractor;

/// The request's description, with the route already found: actix's own
/// types (http 0.2) read into the model every server integration shares.
pub(crate) fn describe(
    request: &ServiceRequest,
    method: &http::Method,
    route: Option<String>,
) -> HttpServerRequest {
    let headers = request.headers();
    let described = HttpServerRequest::from_parts(
        method,
        request.path(),
        Some(request.query_string()),
        request.app_config().secure(),
        request.uri().authority().map(|a| a.as_str()),
        |name| headers.get(name).and_then(|v| v.to_str().ok()),
    );
    let described = match route {
        Some(route) => described.with_route(route),
        None => described,
    };
    match request.peer_addr() {
        Some(peer) => described.with_client_address(peer.ip().to_string()),
        None => described,
    }
}

/// The request's method as the `http` crate (1.x) spells it.
pub(crate) fn method(request: &ServiceRequest) -> http::Method {
    // Always parses: actix's methods are valid tokens already.
    http::Method::from_bytes(request.method().as_str().as_bytes()).unwrap_or_default()
}

/// actix's headers, read by the W3C propagator.
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
