//! A result stream that runs in its span's context and ends the span when
//! the stream ends, fails or is dropped.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::stream::{BoxStream, Stream, StreamExt};
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

pub(crate) struct TracedStream<'e, T> {
    inner: BoxStream<'e, Result<T, sqlx::Error>>,
    cx: Context,
    done: bool,
}

impl<'e, T> TracedStream<'e, T> {
    pub(crate) fn new(inner: BoxStream<'e, Result<T, sqlx::Error>>, cx: Context) -> Self {
        Self {
            inner,
            cx,
            done: false,
        }
    }
}

impl<T> Stream for TracedStream<'_, T> {
    type Item = Result<T, sqlx::Error>;

    fn poll_next(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let polled = {
            let _attached = this.cx.clone().attach();
            this.inner.poll_next_unpin(task)
        };
        if !this.done {
            match &polled {
                Poll::Ready(None) => this.done = true,
                Poll::Ready(Some(Err(error))) => {
                    crate::error::record(&this.cx.span(), error);
                    this.done = true;
                }
                _ => return polled,
            }
            this.cx.span().end();
        }
        polled
    }
}

impl<T> Drop for TracedStream<'_, T> {
    fn drop(&mut self) {
        // Dropped before the end (e.g. after the first row): the span
        // covers the time the caller used it.
        if !self.done {
            self.cx.span().end();
        }
    }
}
