use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::ActiveSpan;
use crate::model::Outcome;

pin_project! {
    /// Runs a stream inside a span's context. `classify` looks at each
    /// item: an outcome ends the span there (e.g. the first error);
    /// otherwise the span ends successfully at the end of the stream, or
    /// when the stream is dropped early. Without a span it is the inner
    /// stream, untouched.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use census_core::model::{Failure, Outcome};
    /// use census_core::span::InSpanStream;
    /// use futures_util::StreamExt;
    /// let rows = futures_util::stream::iter([Ok(1), Err("gone")]);
    /// let classify = |item: &Result<i32, &'static str>| {
    ///     item.as_ref().err().map(|e| Outcome::Failed(Failure::new("io", *e)))
    /// };
    /// let seen: Vec<_> = InSpanStream::new(rows, None, classify).collect().await;
    /// assert_eq!(seen.len(), 2);
    /// # }
    /// ```
    #[must_use = "streams do nothing unless polled"]
    pub struct InSpanStream<S, C> {
        #[pin]
        inner: S,
        span: Option<ActiveSpan>,
        classify: C,
    }
}

impl<S, C> InSpanStream<S, C>
where
    S: Stream,
    C: FnMut(&S::Item) -> Option<Outcome>,
{
    /// `inner` traced by `span`, or untouched when `span` is `None`.
    pub fn new(inner: S, span: Option<ActiveSpan>, classify: C) -> Self {
        Self {
            inner,
            span,
            classify,
        }
    }
}

impl<S, C> Stream for InSpanStream<S, C>
where
    S: Stream,
    C: FnMut(&S::Item) -> Option<Outcome>,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let Some(span) = this.span.as_ref() else {
            return this.inner.poll_next(task);
        };
        let polled = span.in_context(|| this.inner.poll_next(task));
        match &polled {
            Poll::Ready(Some(item)) => {
                if let Some(outcome) = (this.classify)(item)
                    && let Some(span) = this.span.take()
                {
                    span.finish(&outcome);
                }
            }
            // The whole stream went by: that is success (what ends a
            // stream early, an error item, was classified above).
            Poll::Ready(None) => {
                if let Some(span) = this.span.take() {
                    span.finish(&Outcome::Ok);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

// The inner stream and the classifier need not be `Debug`.
impl<S, C> std::fmt::Debug for InSpanStream<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InSpanStream")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}
