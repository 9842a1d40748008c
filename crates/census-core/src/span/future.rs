use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use pin_project_lite::pin_project;

use opentelemetry::trace::SpanRef;

use super::ActiveSpan;
use crate::model::Outcome;

pin_project! {
    /// Runs a future inside a span's context; when it completes, `classify`
    /// turns its output into the span's [`Outcome`] and the span ends. A
    /// future dropped before completion (cancelled) ends its span then.
    /// Without a span it is the inner future, untouched.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use census_core::model::Outcome;
    /// use census_core::registry::Integration;
    /// use census_core::span::InSpan;
    /// use opentelemetry::trace::SpanKind;
    /// static JOBS: Integration = Integration::new("jobs", "my-jobs", "0.1.0");
    /// let span = JOBS.start(SpanKind::Internal, "job", &census_core::context::current(), Vec::new);
    /// let out = InSpan::new(async { 42 }, Some(span), |_: &i32| Outcome::Ok).await;
    /// assert_eq!(out, 42);
    /// # }
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct InSpan<F, C> {
        #[pin]
        inner: F,
        span: Option<ActiveSpan>,
        classify: Option<C>,
    }
}

/// How an [`InSpan`] turns its future's output into the span's
/// [`Outcome`]. Any `FnOnce(&Output) -> Outcome` closure is one; a type of
/// its own also gets a last look at the span before it ends, e.g. to run a
/// response callback.
pub trait Classify<T> {
    /// The outcome of `output`, with `span` still open.
    fn classify(self, output: &T, span: &SpanRef<'_>) -> Outcome;
}

impl<T, C: FnOnce(&T) -> Outcome> Classify<T> for C {
    fn classify(self, output: &T, _span: &SpanRef<'_>) -> Outcome {
        self(output)
    }
}

impl<F, C> InSpan<F, C>
where
    F: Future,
    C: Classify<F::Output>,
{
    /// `inner` traced by `span`, or untouched when `span` is `None`.
    pub fn new(inner: F, span: Option<ActiveSpan>, classify: C) -> Self {
        Self {
            inner,
            span,
            classify: Some(classify),
        }
    }
}

impl<F, C> Future for InSpan<F, C>
where
    F: Future,
    C: Classify<F::Output>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(span) = this.span.as_ref() else {
            return this.inner.poll(task);
        };
        let output = span.in_context(|| this.inner.poll(task));
        if let Poll::Ready(output) = &output
            && let (Some(span), Some(classify)) = (this.span.take(), this.classify.take())
        {
            let outcome = classify.classify(output, &span.span());
            span.finish(&outcome);
        }
        output
    }
}

// The inner future and the classifier need not be `Debug`.
impl<F, C> std::fmt::Debug for InSpan<F, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InSpan")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}
