use std::fmt::Display;
use std::future::Future;
use std::task::{Context as TaskContext, Poll};

use census_core::model::{HttpCommand, Outcome};
use census_core::span::InSpan;
use http::header::HOST;
use http::{Request, Response};
use opentelemetry::trace::SpanKind;
use tower_service::Service;

use crate::INTEGRATION;

/// An HTTP client service that records a Client span for each request to
/// `S` and sends the span's context along with it.
#[derive(Debug, Clone)]
pub struct TraceClient<S> {
    inner: S,
}

impl<S> TraceClient<S> {
    /// Traces `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

/// The response future of [`TraceClient`]: the inner future, run inside
/// the request's span, which ends with the response head or the error (or
/// when the future is dropped).
pub type ResponseFuture<F> = InSpan<F, fn(&<F as Future>::Output) -> Outcome>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TraceClient<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Display + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        if !INTEGRATION.should_trace() {
            return InSpan::new(self.inner.call(request), None, classify);
        }
        let host = request.headers().get(HOST).and_then(|h| h.to_str().ok());
        let command = HttpCommand::from_uri(request.method(), request.uri(), host);
        let span = INTEGRATION.start(
            SpanKind::Client,
            command.span_name(),
            &census_core::context::current(),
            || command.attributes(),
        );
        census_core::propagation::inject(span.context(), request.headers_mut());
        let future = span.in_context(|| self.inner.call(request));
        InSpan::new(future, Some(span), classify)
    }
}

fn classify<B, E: Display + 'static>(result: &Result<Response<B>, E>) -> Outcome {
    match result {
        Ok(response) => Outcome::HttpClient(response.status().as_u16()),
        Err(error) => Outcome::Failed(crate::error::describe(error)),
    }
}
