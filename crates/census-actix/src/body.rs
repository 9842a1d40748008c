use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use census_core::span::ActiveSpan;
use pin_project_lite::pin_project;

pin_project! {
    /// A response body that ends the request span when the body ends: a
    /// streamed response is timed until its last chunk, a body that fails
    /// marks the request failed, and a body the client abandons ends the
    /// span when actix drops it.
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        span: Option<ActiveSpan>,
    }
}

impl<B: MessageBody> TracedBody<B> {
    pub(crate) fn new(inner: B, span: Option<ActiveSpan>) -> Self {
        // actix never polls a body it knows to be empty.
        let span = span.filter(|_| !matches!(inner.size(), BodySize::None | BodySize::Sized(0)));
        Self { inner, span }
    }
}

impl<B> std::fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedBody").finish_non_exhaustive()
    }
}

impl<B: MessageBody> MessageBody for TracedBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let mut inner = this.inner;
        let polled = match this.span.as_ref() {
            Some(span) => span.in_context(|| inner.as_mut().poll_next(task)),
            None => return inner.poll_next(task),
        };
        // A body that knew its size and has none left is over: its span
        // ends with the last chunk rather than on one more poll.
        let at_end = matches!(inner.size(), BodySize::None | BodySize::Sized(0));
        census_core::span::body_polled(this.span, &polled, at_end);
        polled
    }

    // A body that is whole already (`Hello World!`) goes out without being
    // polled, as it would without the middleware: the span ends here.
    fn try_into_bytes(self) -> Result<Bytes, Self> {
        let Self { inner, span } = self;
        inner.try_into_bytes().map_err(|inner| Self { inner, span })
    }
}
