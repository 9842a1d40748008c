use std::cell::OnceCell;
use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use census_core::http::{HttpHooks, RequestInfo, Untraced};
use census_core::metrics::CallMetric;
use census_core::model::HttpServerRequest;

use crate::request::{RequestHeaders, describe, method};
use crate::{INTEGRATION, TraceFuture, TracedBody};

/// actix-web middleware recording a Server span per request; add it with
/// `App::wrap`.
///
/// ```
/// let app = actix_web::App::new().wrap(census_actix::Trace::new());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Trace {
    hooks: HttpHooks,
}

impl Trace {
    /// The middleware, as described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures which requests are traced, span names and callbacks.
    ///
    /// ```
    /// use census_core::http::{Exclusions, HttpHooks};
    /// let trace = census_actix::Trace::new()
    ///     .hooks(HttpHooks::new().exclusions(Exclusions::new().path("/health")));
    /// ```
    pub fn hooks(mut self, hooks: HttpHooks) -> Self {
        self.hooks = hooks;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Trace
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<TracedBody<B>>;
    type Error = Error;
    type Transform = TraceService<S>;
    type InitError = ();
    type Future = Ready<Result<TraceService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(TraceService {
            service,
            hooks: self.hooks.clone(),
        }))
    }
}

/// The service [`Trace`] wraps around the application's.
#[derive(Debug)]
pub struct TraceService<S> {
    service: S,
    hooks: HttpHooks,
}

impl<S, B> Service<ServiceRequest> for TraceService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<TracedBody<B>>;
    type Error = Error;
    type Future = TraceFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        if !INTEGRATION.should_trace() || request.extensions().contains::<Untraced>() {
            return TraceFuture::new(self.service.call(request), None);
        }
        let span = {
            let method = method(&request);
            let headers = RequestHeaders::read(request.headers());
            let header = |name: &str| headers.get(name);
            let authority = request.uri().authority().map(|a| a.as_str());
            let info = RequestInfo::new(&method, request.path(), authority, &header);
            if !self.hooks.traces_incoming(&info) {
                return TraceFuture::new(self.service.call(request), None);
            }
            // Matching the route again costs a walk of the routes and a
            // copy: done once, for a span that records or a metric.
            let route = OnceCell::new();
            let route = || {
                route.get_or_init(|| {
                    request
                        .match_pattern()
                        .or_else(|| self.hooks.route_of(&info))
                })
            };
            let span = INTEGRATION
                .start_server(
                    &headers,
                    || {
                        let name = HttpServerRequest::span_name_for(&method, route().as_deref());
                        self.hooks.name(&info, name)
                    },
                    || describe(&request, &info, route().as_deref()).into_attributes(),
                )
                .measured(|| {
                    CallMetric::http_server(
                        &method,
                        request.app_config().secure(),
                        route().as_deref(),
                    )
                });
            self.hooks.request(&info, &span.span());
            span
        };
        let future = span.in_context(|| self.service.call(request));
        TraceFuture::new(future, Some((span, self.hooks.response_hook())))
    }
}
