use std::borrow::Cow;
use std::cell::OnceCell;
use std::task::{Context as TaskContext, Poll};

use census_core::http::{HttpHooks, RequestInfo, Untraced};
use census_core::metrics::CallMetric;
use census_core::model::{GrpcCall, HttpServerRequest, is_grpc};
use census_core::propagation::HttpHeaders;
use http::{Request, Response};
use tower_service::Service;

use crate::future::Traced;
use crate::{INTEGRATION, ResponseBody, ResponseFuture};

/// A service that records a Server span for each request to `S`.
#[derive(Debug, Clone)]
pub struct Trace<S> {
    inner: S,
    hooks: HttpHooks,
}

impl<S> Trace<S> {
    /// Traces `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            hooks: HttpHooks::default(),
        }
    }

    /// Configures which requests are traced, span names and callbacks.
    pub fn hooks(mut self, hooks: HttpHooks) -> Self {
        self.hooks = hooks;
        self
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Trace<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if !INTEGRATION.should_trace() || request.extensions().get::<Untraced>().is_some() {
            return ResponseFuture::new(self.inner.call(request), None);
        }
        let traced = {
            let info = RequestInfo::of(&request);
            if !self.hooks.traces_incoming(&info) {
                return ResponseFuture::new(self.inner.call(request), None);
            }
            let headers = HttpHeaders(request.headers());
            let grpc = is_grpc(info.header("content-type"));
            let span = if grpc {
                let path = request.uri().path();
                let call = GrpcCall::from_path(path);
                let name = self.hooks.name(&info, call.span_name());
                INTEGRATION
                    .start_server(&headers, || name, || call.into_attributes())
                    .measured(|| CallMetric::rpc_server(path))
            } else {
                // Named and described only when sampled.
                let route = OnceCell::new();
                let route = || {
                    route
                        .get_or_init(|| match framework_route(&request) {
                            Some(route) => Some(Cow::Borrowed(route)),
                            None => self.hooks.route_of(&info).map(Cow::Owned),
                        })
                        .as_deref()
                };
                INTEGRATION
                    .start_server(
                        &headers,
                        || {
                            let name = HttpServerRequest::span_name_for(request.method(), route());
                            self.hooks.name(&info, name)
                        },
                        || describe(&request, &info, route()).into_attributes(),
                    )
                    .measured(|| {
                        CallMetric::http_server(request.method(), is_https(&request), route())
                    })
            };
            self.hooks.request(&info, &span.span());
            Traced {
                span,
                on_response: self.hooks.response_hook(),
                grpc,
            }
        };
        // Some services start work in `call`; it belongs to the request too.
        let future = traced.span.in_context(|| self.inner.call(request));
        ResponseFuture::new(future, Some(traced))
    }
}

/// Whether the request came over HTTPS, as far as its URI says.
fn is_https<B>(request: &Request<B>) -> bool {
    request.uri().scheme() == Some(&http::uri::Scheme::HTTPS)
}

/// The route template the framework matched.
#[cfg(feature = "axum")]
fn framework_route<B>(request: &Request<B>) -> Option<&str> {
    let path = request.extensions().get::<axum::extract::MatchedPath>()?;
    Some(path.as_str())
}

#[cfg(not(feature = "axum"))]
fn framework_route<B>(_: &Request<B>) -> Option<&str> {
    None
}

fn describe<B>(
    request: &Request<B>,
    info: &RequestInfo<'_>,
    route: Option<&str>,
) -> HttpServerRequest {
    let uri = request.uri();
    let https = is_https(request);
    // Only axum tells the peer's address.
    #[cfg_attr(not(feature = "axum"), allow(unused_mut))]
    let mut described = HttpServerRequest::from_info(info, route, uri.query(), https);
    // Present when an axum app is served with
    // `into_make_service_with_connect_info`.
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        described.set_client_ip(peer.ip());
    }
    described
}
