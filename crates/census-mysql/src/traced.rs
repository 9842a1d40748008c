//! The traced connection, transaction and pool: mysql_async's query
//! methods, each run inside a Client span from the core lifecycle.

use std::sync::Arc;

use census_core::span::{InSpan, SqlSpans};
use mysql_async::prelude::{AsQuery, FromRow, Queryable};
use mysql_async::{Conn, Opts, Params, Pool, Result, Transaction, TxOpts};

use crate::error::outcome;
use crate::spans::Spans;
use crate::statement::{Sql, Statement};

/// Runs `$call` on `$query` inside its span; with the SQL commenter on,
/// `$q` is the query with the span's `traceparent` appended. (A macro: the
/// two forms of the query have different types.)
macro_rules! run_text {
    ($self:ident, $query:ident, |$q:ident| $call:expr) => {{
        let span = $self.sql.start($query.as_ref());
        match $self.spans.commented(span.as_ref(), $query.as_ref()) {
            Some($q) => InSpan::new($call, span, outcome).await,
            None => {
                let $q = $query;
                InSpan::new($call, span, outcome).await
            }
        }
    }};
}

/// Runs `$call` with `$statement` (text or prepared) as `$s` inside the
/// statement's span: every `exec*` method is this, with its own call.
macro_rules! run_statement {
    ($self:ident, $statement:ident, |$s:ident| $call:expr) => {{
        let span = $self.sql.start($statement.text());
        let $s = $statement.into_statement();
        InSpan::new($call, span, outcome).await
    }};
}

/// A mysql_async connection, transaction or pool whose statements are
/// traced.
///
/// The methods mirror `Queryable`'s and return its types, except that
/// [`prep`](Self::prep) returns a [`Statement`] that keeps its SQL. There
/// is no `Deref` to the wrapped value, so that no call goes untraced by
/// accident; [`get_mut`](Self::get_mut) reaches the rest.
#[derive(Debug)]
pub struct Traced<C> {
    inner: C,
    sql: Arc<SqlSpans>,
    spans: Spans,
}

impl Traced<Pool> {
    /// A traced pool for `opts`.
    pub fn pool(opts: impl Into<Opts>) -> Self {
        let opts = opts.into();
        let spans = Spans::new(&opts);
        Self::wrap_pool(Pool::new(opts), spans)
    }

    /// Traces an existing pool with `spans` (see [`Spans::new`]).
    pub fn wrap_pool(pool: Pool, spans: Spans) -> Self {
        Self {
            inner: pool,
            // A pool runs no statement itself; each connection finds out
            // whether its server is MySQL or MariaDB.
            sql: spans.for_unknown_server(),
            spans,
        }
    }

    /// Takes a connection from the pool whose statements are traced.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn get_conn(&self) -> Result<Traced<Conn>> {
        Ok(self.spans.wrap(self.inner.get_conn().await?))
    }

    /// Disconnects the pool.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn disconnect(self) -> Result<()> {
        self.inner.disconnect().await
    }
}

impl Traced<Conn> {
    /// Connects with `opts` and traces the connection.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn connect(opts: impl Into<Opts>) -> Result<Self> {
        let opts = opts.into();
        let spans = Spans::new(&opts);
        Ok(spans.wrap(Conn::new(opts).await?))
    }

    pub(crate) fn new_with(conn: Conn, sql: Arc<SqlSpans>, spans: Spans) -> Self {
        Self {
            inner: conn,
            sql,
            spans,
        }
    }

    /// Starts a transaction (a `BEGIN` span) whose statements are traced
    /// like the connection's.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn start_transaction(&mut self, options: TxOpts) -> Result<Traced<Transaction<'_>>> {
        let span = self.sql.start("BEGIN");
        let transaction = InSpan::new(self.inner.start_transaction(options), span, outcome).await?;
        Ok(Traced {
            inner: transaction,
            sql: self.sql.clone(),
            spans: self.spans.clone(),
        })
    }

    /// Disconnects.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn disconnect(self) -> Result<()> {
        self.inner.disconnect().await
    }
}

impl Traced<Transaction<'_>> {
    /// Commits the transaction.
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn commit(self) -> Result<()> {
        let span = self.sql.start("COMMIT");
        InSpan::new(self.inner.commit(), span, outcome).await
    }

    /// Rolls the transaction back (dropping it does too, untraced).
    ///
    /// # Errors
    /// mysql_async's.
    pub async fn rollback(self) -> Result<()> {
        let span = self.sql.start("ROLLBACK");
        InSpan::new(self.inner.rollback(), span, outcome).await
    }
}

impl<C> Traced<C> {
    /// The wrapped value.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped value, mutably, e.g. for what is not a statement.
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps, dropping the tracing.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: Queryable> Traced<C> {
    /// Runs `query` in the text protocol and collects the first result set.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn query<T, Q>(&mut self, query: Q) -> Result<Vec<T>>
    where
        Q: AsQuery + AsRef<str>,
        T: FromRow + Send + 'static,
    {
        run_text!(self, query, |q| self.inner.query(q))
    }

    /// Runs `query` and returns the first row of the first result set.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn query_first<T, Q>(&mut self, query: Q) -> Result<Option<T>>
    where
        Q: AsQuery + AsRef<str>,
        T: FromRow + Send + 'static,
    {
        run_text!(self, query, |q| self.inner.query_first(q))
    }

    /// Runs `query` and drops its result.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn query_drop<Q>(&mut self, query: Q) -> Result<()>
    where
        Q: AsQuery + AsRef<str>,
    {
        run_text!(self, query, |q| self.inner.query_drop(q))
    }

    /// Prepares `sql`; the [`Statement`] keeps it, so its executions are
    /// named and described by it. The preparation is a span of its own.
    ///
    /// # Errors
    /// mysql_async's, e.g. a syntax error.
    pub async fn prep(&mut self, sql: &str) -> Result<Statement> {
        let span = self.sql.start(sql);
        let statement = InSpan::new(self.inner.prep(sql), span, outcome).await?;
        Ok(Statement::new(statement, sql))
    }

    /// Executes `statement` with `params` and collects the first result
    /// set; a text statement is prepared first (and cached by mysql_async).
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn exec<T, S, P>(&mut self, statement: S, params: P) -> Result<Vec<T>>
    where
        S: Sql,
        P: Into<Params> + Send,
        T: FromRow + Send + 'static,
    {
        run_statement!(self, statement, |s| self.inner.exec(s, params))
    }

    /// Executes `statement` and returns the first row of the first result
    /// set.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn exec_first<T, S, P>(&mut self, statement: S, params: P) -> Result<Option<T>>
    where
        S: Sql,
        P: Into<Params> + Send,
        T: FromRow + Send + 'static,
    {
        run_statement!(self, statement, |s| self.inner.exec_first(s, params))
    }

    /// Executes `statement` and drops its result.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn exec_drop<S, P>(&mut self, statement: S, params: P) -> Result<()>
    where
        S: Sql,
        P: Into<Params> + Send,
    {
        run_statement!(self, statement, |s| self.inner.exec_drop(s, params))
    }

    /// Executes `statement` once per item of `params`, as one span.
    ///
    /// # Errors
    /// mysql_async's; the span records it.
    pub async fn exec_batch<S, P, I>(&mut self, statement: S, params: I) -> Result<()>
    where
        S: Sql,
        I: IntoIterator<Item = P> + Send,
        I::IntoIter: Send,
        P: Into<Params> + Send,
    {
        run_statement!(self, statement, |s| self.inner.exec_batch(s, params))
    }
}
