use std::task::{Context as TaskContext, Poll};

use census_core::model::method_name;
use census_core::registry::Integration;
use http::{Request, Response};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute::{
    HTTP_REQUEST_METHOD, HTTP_ROUTE, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_SCHEME,
};
use tower_service::Service;

use crate::ResponseFuture;

/// A service that records a Server span for each request to `S`.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
}

impl<S> Trace<S> {
    /// Traces `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Trace<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if !Integration::Tower.should_trace() {
            return ResponseFuture::untraced(self.inner.call(request));
        }
        let parent = census_core::propagation::extract(request.headers());
        let method = method_name(request.method());
        let route = route(&request);
        let name = match (method, &route) {
            ("_OTHER", Some(route)) => format!("HTTP {route}"),
            ("_OTHER", None) => "HTTP".to_owned(),
            (method, Some(route)) => format!("{method} {route}"),
            (method, None) => method.to_owned(),
        };
        let mut attributes = Vec::with_capacity(5);
        attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, method));
        attributes.push(KeyValue::new(URL_PATH, request.uri().path().to_owned()));
        attributes.push(KeyValue::new(
            URL_SCHEME,
            request.uri().scheme_str().unwrap_or("http").to_owned(),
        ));
        if let Some(route) = route {
            attributes.push(KeyValue::new(HTTP_ROUTE, route));
        }
        if let Some(authority) = authority(&request) {
            attributes.push(KeyValue::new(SERVER_ADDRESS, authority.host().to_owned()));
            if let Some(port) = authority.port_u16() {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        let cx = census_core::span::start(
            Integration::Tower,
            SpanKind::Server,
            name,
            attributes,
            &parent,
        );
        // Some services start work in `call`; it belongs to the request too.
        let future = {
            let _attached = cx.clone().attach();
            self.inner.call(request)
        };
        ResponseFuture::traced(future, cx)
    }
}

/// The authority the client addressed: the URI's (HTTP/2, absolute form)
/// or the `Host` header's.
fn authority<B>(request: &Request<B>) -> Option<http::uri::Authority> {
    if let Some(authority) = request.uri().authority() {
        return Some(authority.clone());
    }
    let host = request.headers().get(http::header::HOST)?.to_str().ok()?;
    host.parse().ok()
}

#[cfg(feature = "axum")]
fn route<B>(request: &Request<B>) -> Option<String> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
}

#[cfg(not(feature = "axum"))]
fn route<B>(_request: &Request<B>) -> Option<String> {
    None
}
