use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use opentelemetry::trace::SpanKind;

use crate::request::{Headers, describe};
use crate::{INTEGRATION, TraceFuture, TracedBody};

/// actix-web middleware recording a Server span per request; add it with
/// `App::wrap`.
///
/// ```
/// let app = actix_web::App::new().wrap(census_actix::Trace::new());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Trace {
    _private: (),
}

impl Trace {
    /// The middleware, as described in the crate docs.
    pub fn new() -> Self {
        Self::default()
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
        ready(Ok(TraceService { service }))
    }
}

/// The service [`Trace`] wraps around the application's.
#[derive(Debug)]
pub struct TraceService<S> {
    service: S,
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
        if !INTEGRATION.should_trace() {
            return TraceFuture::new(self.service.call(request), None);
        }
        let described = describe(&request);
        let span = INTEGRATION.start(
            SpanKind::Server,
            described.span_name(),
            &census_core::propagation::extract_from(&Headers(request.headers())),
            || described.attributes(),
        );
        let future = span.in_context(|| self.service.call(request));
        TraceFuture::new(future, Some(span))
    }
}
