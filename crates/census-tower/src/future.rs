use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use http::Response;
use opentelemetry::trace::{Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE};
use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`Trace`](crate::Trace): polls the inner
    /// future inside the request span's context and ends the span with the
    /// response status.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        cx: Option<Context>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            // Dropped before completion (the client went away): end the
            // span now so it is not lost.
            if let Some(cx) = this.project().cx.take() {
                cx.span().end();
            }
        }
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn traced(inner: F, cx: Context) -> Self {
        Self {
            inner,
            cx: Some(cx),
        }
    }

    pub(crate) fn untraced(inner: F) -> Self {
        Self { inner, cx: None }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(cx) = this.cx.as_ref() else {
            return this.inner.poll(task);
        };
        let result = {
            let _attached = cx.clone().attach();
            ready!(this.inner.poll(task))
        };
        let span = cx.span();
        match &result {
            Ok(response) => {
                let status = response.status();
                span.set_attribute(KeyValue::new(
                    HTTP_RESPONSE_STATUS_CODE,
                    i64::from(status.as_u16()),
                ));
                if status.is_server_error() {
                    span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
                    span.set_status(Status::error(""));
                }
            }
            Err(_) => census_core::span::record_failure(
                &span,
                std::any::type_name::<E>(),
                "the service failed without a response",
            ),
        }
        span.end();
        *this.cx = None;
        Poll::Ready(result)
    }
}
