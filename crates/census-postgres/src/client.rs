//! The traced client: tokio-postgres's query methods, each run inside a
//! Client span from the core lifecycle.

use std::future::Future;

use census_core::model::Outcome;
use census_core::span::InSpan;
use opentelemetry::context::FutureExt as _;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::types::{BorrowToSql, ToSql, Type};
use tokio_postgres::{
    Client, Config, Connection, Error, Row, SimpleQueryMessage, Socket, Transaction,
};

use crate::error;
use crate::rows::RowStream;
use crate::statement::{Sql, Statement};
use crate::target::Spans;

/// Connects like `tokio_postgres::connect` and traces the client; the
/// target comes from `config`. Spawn the connection as usual.
///
/// # Errors
/// tokio-postgres's, for a bad string or a failed connection.
pub async fn connect<T>(
    config: &str,
    tls: T,
) -> Result<(Traced<Client>, Connection<Socket, T::Stream>), Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let config: Config = config.parse()?;
    let spans = Spans::new(&config);
    let (client, connection) = config.connect(tls).await?;
    Ok((spans.wrap(client), connection))
}

type Classify<T> = fn(&Result<T, Error>) -> Outcome;

/// `work` inside the span of `sql`, when the integration is on.
fn traced<T, F>(spans: &Spans, sql: &str, work: F) -> InSpan<F, Classify<T>>
where
    F: Future<Output = Result<T, Error>>,
{
    InSpan::new(work, spans.sql.start(sql), error::outcome::<T>)
}

/// Runs `$call`, with `$sql` bound to what tokio-postgres executes, inside
/// the span of `$statement`; with the SQL commenter on, a text statement
/// runs with the span's `traceparent` appended. (A macro: the two forms of
/// the statement have different types.)
macro_rules! run {
    ($spans:expr, $statement:expr, |$sql:ident| $call:expr) => {{
        let span = $spans.sql.start($statement.text());
        match $spans.commented(span.as_ref(), $statement) {
            Some(commented) => {
                let $sql = commented.as_str();
                InSpan::new($call, span, error::outcome).await
            }
            None => {
                let $sql = $statement.statement();
                InSpan::new($call, span, error::outcome).await
            }
        }
    }};
}

/// What [`Traced`] can wrap: a `Client`, a `Transaction`, or a reference to
/// either (e.g. the client a pool hands out). Sealed.
pub trait AsClient: sealed::Sealed + Send + Sync {
    /// The client statements run on. A transaction's statements run on its
    /// client too, inside the open transaction.
    fn client(&self) -> &Client;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for tokio_postgres::Client {}
    impl Sealed for tokio_postgres::Transaction<'_> {}
    impl<T: Sealed + ?Sized> Sealed for &T {}
    impl<T: Sealed + ?Sized> Sealed for &mut T {}
}

impl AsClient for Client {
    fn client(&self) -> &Client {
        self
    }
}

impl AsClient for Transaction<'_> {
    fn client(&self) -> &Client {
        tokio_postgres::GenericClient::client(self)
    }
}

impl<T: AsClient + ?Sized> AsClient for &T {
    fn client(&self) -> &Client {
        (**self).client()
    }
}

impl<T: AsClient + ?Sized> AsClient for &mut T {
    fn client(&self) -> &Client {
        (**self).client()
    }
}

/// A tokio-postgres client or transaction whose statements are traced.
///
/// The methods mirror tokio-postgres's and return its types, except that
/// [`prepare`](Self::prepare) returns a [`Statement`] that keeps its SQL
/// and [`query_raw`](Self::query_raw) a [`RowStream`] whose span lasts
/// until the last row. `get_ref` reaches everything else.
#[derive(Debug)]
pub struct Traced<C> {
    inner: C,
    spans: Spans,
}

impl<C: AsClient> Traced<C> {
    /// Traces `inner` with `spans` (see [`Spans::wrap`]).
    pub fn with_spans(inner: C, spans: Spans) -> Self {
        Self { inner, spans }
    }

    /// The wrapped client or transaction.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// Unwraps, dropping the tracing.
    pub fn into_inner(self) -> C {
        self.inner
    }

    /// The spans this client records with, to wrap another checkout.
    pub fn spans(&self) -> &Spans {
        &self.spans
    }

    /// Runs a statement and returns its rows.
    ///
    /// # Errors
    /// tokio-postgres's; the span records it.
    pub async fn query<S: Sql + ?Sized>(
        &self,
        statement: &S,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let client = self.inner.client();
        run!(self.spans, statement, |sql| client.query(sql, params))
    }

    /// Runs a statement that returns exactly one row.
    ///
    /// # Errors
    /// tokio-postgres's, also when the statement returns no row or several.
    pub async fn query_one<S: Sql + ?Sized>(
        &self,
        statement: &S,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        let client = self.inner.client();
        run!(self.spans, statement, |sql| client.query_one(sql, params))
    }

    /// Runs a statement that returns at most one row.
    ///
    /// # Errors
    /// tokio-postgres's, also when the statement returns several rows.
    pub async fn query_opt<S: Sql + ?Sized>(
        &self,
        statement: &S,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let client = self.inner.client();
        run!(self.spans, statement, |sql| client.query_opt(sql, params))
    }

    /// Runs a statement and streams its rows; the span ends with the
    /// stream (its last row, its first error, or when it is dropped).
    ///
    /// # Errors
    /// tokio-postgres's, for the request; row errors come from the stream.
    pub async fn query_raw<S, P, I>(&self, statement: &S, params: I) -> Result<RowStream, Error>
    where
        S: Sql + ?Sized,
        P: BorrowToSql,
        I: IntoIterator<Item = P>,
        I::IntoIter: ExactSizeIterator,
    {
        let span = self.spans.sql.start(statement.text());
        let client = self.inner.client();
        let request = async {
            match self.spans.commented(span.as_ref(), statement) {
                Some(sql) => client.query_raw(sql.as_str(), params).await,
                None => client.query_raw(statement.statement(), params).await,
            }
        };
        let rows = match &span {
            Some(span) => request.with_context(span.context().clone()).await,
            None => request.await,
        };
        match rows {
            Ok(rows) => Ok(RowStream::new(rows, span)),
            Err(error) => {
                if let Some(span) = span {
                    span.finish(&error::failed(&error));
                }
                Err(error)
            }
        }
    }

    /// Runs a statement and returns the number of rows it changed.
    ///
    /// # Errors
    /// tokio-postgres's; the span records it.
    pub async fn execute<S: Sql + ?Sized>(
        &self,
        statement: &S,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let client = self.inner.client();
        run!(self.spans, statement, |sql| client.execute(sql, params))
    }

    /// Prepares `sql`; the [`Statement`] keeps it, so its executions are
    /// named and described by it. The preparation is a span of its own.
    ///
    /// # Errors
    /// tokio-postgres's, e.g. a syntax error.
    pub async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        self.prepare_typed(sql, &[]).await
    }

    /// [`prepare`](Self::prepare) with some parameter types given.
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn prepare_typed(&self, sql: &str, types: &[Type]) -> Result<Statement, Error> {
        let client = self.inner.client();
        let statement = traced(&self.spans, sql, client.prepare_typed(sql, types)).await?;
        Ok(Statement::new(statement, sql))
    }

    /// Runs one or more `;`-separated statements in the simple protocol,
    /// as one span.
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        let client = self.inner.client();
        run!(self.spans, sql, |sql| client.batch_execute(sql))
    }

    /// Runs `sql` in the simple protocol (text results), as one span.
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn simple_query(&self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        let client = self.inner.client();
        run!(self.spans, sql, |sql| client.simple_query(sql))
    }
}

impl Traced<Client> {
    /// Begins a transaction (a `BEGIN` span) whose statements are traced
    /// like the client's.
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn transaction(&mut self) -> Result<Traced<Transaction<'_>>, Error> {
        let transaction = traced(&self.spans, "BEGIN", self.inner.transaction()).await?;
        Ok(Traced::with_spans(transaction, self.spans.clone()))
    }
}

impl<'a> Traced<Transaction<'a>> {
    /// Commits the transaction.
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn commit(self) -> Result<(), Error> {
        traced(&self.spans, "COMMIT", self.inner.commit()).await
    }

    /// Rolls the transaction back (dropping it does too, untraced).
    ///
    /// # Errors
    /// tokio-postgres's.
    pub async fn rollback(self) -> Result<(), Error> {
        traced(&self.spans, "ROLLBACK", self.inner.rollback()).await
    }
}
