use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use census_core::model::{Outcome, grpc_status};
use census_core::span::ActiveSpan;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// A response body that ends the request span when the body ends: a
    /// streamed or server-sent response is timed until its last frame, a
    /// body that fails marks the request failed, and a body the client
    /// abandons ends the span when dropped.
    pub struct ResponseBody<B> {
        #[pin]
        inner: B,
        span: Option<ActiveSpan>,
        // A gRPC response: its status comes in the trailers.
        grpc: bool,
    }
}

impl<B: Body> ResponseBody<B> {
    pub(crate) fn new(inner: B, span: Option<ActiveSpan>, grpc: bool) -> Self {
        // An empty body is over before it is polled; hyper may never poll it.
        let span = span.filter(|_| !inner.is_end_stream());
        Self { inner, span, grpc }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}

impl<B: Body> Body for ResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let polled = match this.span.as_ref() {
            Some(span) => span.in_context(|| inner.as_mut().poll_frame(task)),
            None => return inner.poll_frame(task),
        };
        if *this.grpc
            && let (Some(span), Poll::Ready(Some(Ok(frame)))) = (this.span.as_mut(), &polled)
            && let Some(code) = frame
                .trailers_ref()
                .and_then(|t| grpc_status(t.get("grpc-status").and_then(|v| v.to_str().ok())))
        {
            span.record(&Outcome::GrpcServer(code));
        }
        let at_end = inner.is_end_stream();
        census_core::span::body_polled(this.span, &polled, at_end);
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
