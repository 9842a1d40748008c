use std::task::{Context as TaskContext, Poll};

use census_core::http::{HttpHooks, RequestInfo, ResponseHook, Unpropagated, Untraced};
use census_core::metrics::CallMetric;
use census_core::model::{HttpCommand, Outcome};
use census_core::span::{Classify, InSpan};
use http::{Request, Response};
use opentelemetry::trace::{SpanKind, SpanRef};
use tower_service::Service;

use crate::INTEGRATION;

/// An HTTP client service that records a Client span for each request to
/// `S` and sends the span's context along with it.
#[derive(Debug, Clone)]
pub struct TraceClient<S> {
    inner: S,
    hooks: HttpHooks,
}

impl<S> TraceClient<S> {
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

/// The response future of [`TraceClient`]: the inner future, run inside
/// the request's span, which ends with the response head or the error (or
/// when the future is dropped).
pub type ResponseFuture<F> = InSpan<F, ClientOutcome>;

/// How [`TraceClient`] classifies a response: its status, or the error,
/// after the response callback.
#[derive(Debug, Clone, Default)]
pub struct ClientOutcome {
    on_response: ResponseHook,
}

impl<B, E: 'static> Classify<Result<Response<B>, E>> for ClientOutcome {
    fn classify(self, output: &Result<Response<B>, E>, span: &SpanRef<'_>) -> Outcome {
        match output {
            Ok(response) => {
                let status = response.status().as_u16();
                self.on_response.run(status, span);
                Outcome::HttpClient(status)
            }
            Err(error) => Outcome::Failed(crate::error::describe(error)),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for TraceClient<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let untraced = ClientOutcome::default();
        if !INTEGRATION.should_trace() || request.extensions().get::<Untraced>().is_some() {
            return InSpan::new(self.inner.call(request), None, untraced);
        }
        let span = {
            let info = RequestInfo::of(&request);
            if !self.hooks.traces_outgoing(&info) {
                return InSpan::new(self.inner.call(request), None, untraced);
            }
            let span = INTEGRATION
                .start(
                    SpanKind::Client,
                    self.hooks
                        .name(&info, HttpCommand::span_name_for(request.method())),
                    &census_core::context::current(),
                    // Described only when sampled: the URL is parsed and
                    // redacted.
                    || {
                        HttpCommand::from_uri(request.method(), request.uri(), info.header("host"))
                            .attributes()
                    },
                )
                .measured(|| {
                    CallMetric::http_client_for(
                        request.method(),
                        request.uri(),
                        info.header("host"),
                    )
                });
            self.hooks.request(&info, &span.span());
            span
        };
        if request.extensions().get::<Unpropagated>().is_none() {
            census_core::propagation::inject(span.context(), request.headers_mut());
        }
        let future = span.in_context(|| self.inner.call(request));
        let classify = ClientOutcome {
            on_response: self.hooks.response_hook(),
        };
        InSpan::new(future, Some(span), classify)
    }
}
