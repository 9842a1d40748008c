//! `sqlx::Executor` for traced pools and connections. `fetch_many` and
//! `fetch_optional` carry the tracing; sqlx's other methods are built on
//! those two, so every call is traced exactly once.

use census_core::model::Outcome;
use census_core::span::{InSpan, InSpanStream, SqlSpans};
use futures_util::future::{BoxFuture, FutureExt as _};
use futures_util::stream::{BoxStream, StreamExt as _};
use sqlx::Describe;
use sqlx::{Database, Either, Error, Execute, Executor, Pool, SqlStr};

use crate::AsConnection;
use crate::query::Captured;
use crate::traced::Traced;

type Many<'e, DB> =
    BoxStream<'e, Result<Either<<DB as Database>::QueryResult, <DB as Database>::Row>, Error>>;
type Optional<'e, DB> = BoxFuture<'e, Result<Option<<DB as Database>::Row>, Error>>;

fn fetch_many<'e, 'q: 'e, DB, X, E>(spans: &SqlSpans, inner: X, query: E) -> Many<'e, DB>
where
    DB: Database,
    X: Executor<'e, Database = DB>,
    E: 'q + Execute<'q, DB>,
{
    // Off: not even the query's text is taken out.
    if !crate::INTEGRATION.should_trace() {
        return inner.fetch_many(query);
    }
    let query = Captured::new(query);
    let span = spans.start(query.text());
    let classify = |item: &Result<_, Error>| item.as_ref().err().map(crate::error::outcome);
    InSpanStream::new(inner.fetch_many(query), span, classify).boxed()
}

fn fetch_optional<'e, 'q: 'e, DB, X, E>(spans: &SqlSpans, inner: X, query: E) -> Optional<'e, DB>
where
    DB: Database,
    X: Executor<'e, Database = DB>,
    E: 'q + Execute<'q, DB>,
{
    if !crate::INTEGRATION.should_trace() {
        return inner.fetch_optional(query);
    }
    let query = Captured::new(query);
    let span = spans.start(query.text());
    let classify = |result: &Result<_, Error>| match result {
        Ok(_) => Outcome::Ok,
        Err(error) => crate::error::outcome(error),
    };
    InSpan::new(inner.fetch_optional(query), span, classify).boxed()
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
