//! A row stream whose span ends with the stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use census_core::span::{ActiveSpan, InSpanStream};
use futures_core::Stream;
use tokio_postgres::{Error, Row};

type Classify = fn(&Result<Row, Error>) -> Option<census_core::model::Outcome>;

pin_project_lite::pin_project! {
    /// The rows of [`Traced::query_raw`](crate::Traced::query_raw), in the
    /// statement's span until the last row, the first error, or drop.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct RowStream {
        #[pin]
        inner: InSpanStream<tokio_postgres::RowStream, Classify>,
    }
}

impl RowStream {
    pub(crate) fn new(rows: tokio_postgres::RowStream, span: Option<ActiveSpan>) -> Self {
        Self {
            inner: InSpanStream::new(rows, span, |row| {
                row.as_ref().err().map(crate::error::failed)
            }),
        }
    }
}

impl Stream for RowStream {
    type Item = Result<Row, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().inner.poll_next(cx)
    }
}
