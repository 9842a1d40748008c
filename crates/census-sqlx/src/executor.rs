//! `sqlx::Executor` for traced pools and connections. `fetch_many` and
//! `fetch_optional` carry the tracing; sqlx's other methods are built on
//! those two, so every call is traced exactly once.

use census_core::registry::Integration;
use census_core::span::SqlSpans;
use futures_util::future::{BoxFuture, FutureExt as _};
use futures_util::stream::{BoxStream, StreamExt as _};
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt;
use sqlx::Describe;
use sqlx::{Database, Either, Error, Execute, Executor, Pool, SqlStr};

use crate::AsConnection;
use crate::query::Captured;
use crate::stream::TracedStream;
use crate::traced::Traced;

type Many<'e, DB> =
    BoxStream<'e, Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, Error>>;
type Optional<'e, DB> = BoxFuture<'e, Result<Option<<DB as Database>::Row>, Error>>;

/// With the integration on, the query to run in place of `query` and the
/// context of its span; otherwise `query` back, to run untouched.
fn start<'q, DB, E>(spans: &SqlSpans, query: E) -> Result<(Captured<DB>, Context), E>
where
    DB: Database,
    E: Execute<'q, DB>,
{
    if !Integration::Sqlx.should_trace() {
        return Err(query);
    }
    let query = Captured::new(query);
    let cx = spans.start(query.text());
    Ok((query, cx))
}

fn fetch_many<'e, 'q: 'e, DB, X, E>(spans: &SqlSpans, inner: X, query: E) -> Many<'e, DB>
where
    DB: Database,
    X: Executor<'e, Database = DB>,
    E: 'q + Execute<'q, DB>,
{
    match start(spans, query) {
        Ok((query, cx)) => TracedStream::new(inner.fetch_many(query), cx).boxed(),
        Err(query) => inner.fetch_many(query),
    }
}

fn fetch_optional<'e, 'q: 'e, DB, X, E>(spans: &SqlSpans, inner: X, query: E) -> Optional<'e, DB>
where
    DB: Database,
    X: Executor<'e, Database = DB>,
    E: 'q + Execute<'q, DB>,
{
    let (query, cx) = match start(spans, query) {
        Ok(started) => started,
        Err(query) => return inner.fetch_optional(query),
    };
    let future = inner.fetch_optional(query).with_context(cx.clone());
    async move {
        let result = future.await;
        let span = cx.span();
        if let Err(error) = &result {
            crate::error::record(&span, error);
        }
        span.end();
        result
    }
    .boxed()
}

impl<'p, DB> Executor<'p> for &'p Traced<Pool<DB>>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> Many<'e, DB>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        fetch_many(&self.spans, &self.inner, query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> Optional<'e, DB>
    where
        'p: 'e,
        E: 'q + Execute<'q, DB>,
    {
        fetch_optional(&self.spans, &self.inner, query)
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement, Error>>
    where
        'p: 'e,
    {
        self.inner.prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<DB>, Error>>
    where
        'p: 'e,
    {
        self.inner.describe(sql)
    }
}

impl<'c, C> Executor<'c> for &'c mut Traced<C>
where
    C: AsConnection,
    for<'a> &'a mut <C::Database as Database>::Connection: Executor<'a, Database = C::Database>,
{
    type Database = C::Database;

    fn fetch_many<'e, 'q: 'e, E>(self, query: E) -> Many<'e, C::Database>
    where
        'c: 'e,
        E: 'q + Execute<'q, C::Database>,
    {
        fetch_many(&self.spans, self.inner.as_connection(), query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> Optional<'e, C::Database>
    where
        'c: 'e,
        E: 'q + Execute<'q, C::Database>,
    {
        fetch_optional(&self.spans, self.inner.as_connection(), query)
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [<C::Database as Database>::TypeInfo],
    ) -> BoxFuture<'e, Result<<C::Database as Database>::Statement, Error>>
    where
        'c: 'e,
    {
        self.inner.as_connection().prepare_with(sql, parameters)
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<C::Database>, Error>>
    where
        'c: 'e,
    {
        self.inner.as_connection().describe(sql)
    }
}
