use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use census_core::http::ResponseHook;
use census_core::model::{Failure, Outcome, grpc_status};
use census_core::span::ActiveSpan;
use http::Response;
use http::header::{HeaderName, HeaderValue};
use pin_project_lite::pin_project;

use crate::ResponseBody;

const TRACERESPONSE: HeaderName = HeaderName::from_static("traceresponse");

pin_project! {
    /// The response future of [`Trace`](crate::Trace): polls the inner
    /// future inside the request span's context, records the response
    /// status and hands the span on to the response body, which ends it.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Option<Traced>,
    }
}

/// What a traced request carries until its response.
pub(crate) struct Traced {
    pub(crate) span: ActiveSpan,
    pub(crate) on_response: ResponseHook,
    /// A gRPC call: its outcome is its `grpc-status`, not the HTTP status.
    pub(crate) grpc: bool,
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, span: Option<Traced>) -> Self {
        Self { inner, span }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let result = match this.span.as_ref() {
            Some(traced) => {
                let polled = catch_unwind(AssertUnwindSafe(|| {
                    traced.span.in_context(|| inner.as_mut().poll(task))
                }));
                match polled {
                    Ok(polled) => ready!(polled),
                    Err(panic) => {
                        // Recorded, then the panic goes on as without census:
                        // the server decides what a panic means.
                        if let Some(mut traced) = this.span.take() {
                            traced.span.record(&Outcome::HttpServer(500));
                            traced
                                .span
                                .finish(&Outcome::Failed(Failure::panicked(panic.as_ref())));
                        }
                        resume_unwind(panic)
                    }
                }
            }
            None => ready!(inner.poll(task)),
        };
        let Some(Traced {
            mut span,
            on_response,
            grpc,
        }) = this.span.take()
        else {
            return Poll::Ready(
                result.map(|response| response.map(|body| ResponseBody::new(body, None, false))),
            );
        };
        Poll::Ready(match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
                if !grpc {
                    span.record(&Outcome::HttpServer(status));
                } else if let Some(code) = grpc_status(header("grpc-status")) {
                    // A trailers-only response: the status is in the head.
                    span.record(&Outcome::GrpcServer(code));
                }
                on_response.run(status, &span.span());
                if let Some(value) = on_response.trace_response(span.context())
                    && let Ok(value) = HeaderValue::from_str(&value)
                {
                    response.headers_mut().insert(TRACERESPONSE, value);
                }
                Ok(response.map(|body| ResponseBody::new(body, Some(span), grpc)))
            }
            Err(error) => {
                span.finish(&Outcome::Failed(Failure::new(
                    std::any::type_name::<E>(),
                    "the service failed without a response",
                )));
                Err(error)
            }
        })
    }
}
