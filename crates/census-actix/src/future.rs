use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderName, HeaderValue};
use census_core::http::ResponseHook;
use census_core::model::{Failure, Outcome};
use census_core::span::ActiveSpan;
use pin_project_lite::pin_project;

use crate::TracedBody;

pin_project! {
    /// The response future of [`TraceService`](crate::TraceService): polls
    /// the application inside the request span's context, records the
    /// response, and hands the span on to the body, which ends it.
    #[must_use = "futures do nothing unless polled"]
    pub struct TraceFuture<F> {
        #[pin]
        inner: F,
        span: Option<(ActiveSpan, ResponseHook)>,
    }
}

impl<F> TraceFuture<F> {
    pub(crate) fn new(inner: F, span: Option<(ActiveSpan, ResponseHook)>) -> Self {
        Self { inner, span }
    }
}

impl<F> std::fmt::Debug for TraceFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFuture")
            .field("span", &self.span.as_ref().map(|(span, _)| span))
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for TraceFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody + 'static,
{
    type Output = Result<ServiceResponse<TracedBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut inner = this.inner;
        let Some((mut span, on_response)) = this.span.take() else {
            // Untraced requests get the same answer to a panic, so that
            // switching tracing on or off never changes how the app fails.
            return match catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(task))) {
                Ok(polled) => polled
                    .map_ok(|response| response.map_body(|_, body| TracedBody::new(body, None))),
                Err(_) => Poll::Ready(Err(panicked())),
            };
        };
        let polled = catch_unwind(AssertUnwindSafe(|| {
            span.in_context(|| inner.as_mut().poll(task))
        }));
        let result = match polled {
            Ok(Poll::Pending) => {
                *this.span = Some((span, on_response));
                return Poll::Pending;
            }
            Ok(Poll::Ready(result)) => result,
            Err(panic) => return Poll::Ready(Err(answer_panic(span, panic.as_ref()))),
        };
        Poll::Ready(match result {
            Ok(mut response) => {
                let status = response.status().as_u16();
                record(&mut span, status, response.response().error());
                on_response.run(status, &span.span());
                if let Some(value) = on_response.trace_response(span.context())
                    && let Ok(value) = HeaderValue::from_str(&value)
                {
                    response
                        .headers_mut()
                        .insert(HeaderName::from_static("traceresponse"), value);
                }
                Ok(response.map_body(|_, body| TracedBody::new(body, Some(span))))
            }
            Err(error) => {
                // actix turns the error into the response after this
                // middleware: what the client gets is decided here.
                let status = error.as_response_error().status_code().as_u16();
                record(&mut span, status, Some(&error));
                on_response.run(status, &span.span());
                Err(error)
            }
        })
    }
}

/// The status, and for a 5xx the error behind it as an `exception`.
fn record(span: &mut ActiveSpan, status: u16, error: Option<&Error>) {
    span.record(&Outcome::HttpServer(status));
    if let Some(error) = error.filter(|_| status >= 500) {
        span.record(&Outcome::Failed(Failure::new(
            status.to_string(),
            error.to_string(),
        )));
    }
}

/// The error that makes actix answer a handler that panicked with a 500,
/// after recording the panic's message (which the client is not shown).
fn answer_panic(mut span: ActiveSpan, panic: &(dyn Any + Send)) -> Error {
    span.record(&Outcome::HttpServer(500));
    span.finish(&Outcome::Failed(Failure::panicked(panic)));
    panicked()
}

/// What the client of a handler that panicked gets: a 500, without the
/// panic's message.
fn panicked() -> Error {
    actix_web::error::ErrorInternalServerError("the handler panicked")
}
