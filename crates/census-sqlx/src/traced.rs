use std::sync::Arc;

use census_core::model::{DbSystem, Target};
use census_core::span::SqlSpans;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Pool, Transaction};

use crate::TracedDatabase;

/// A sqlx pool, connection or transaction whose queries are traced.
///
/// Use `&traced` (pools) or `&mut traced` (connections, transactions)
/// wherever sqlx takes an executor.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sqlx::Error> {
/// use census_sqlx::Traced;
/// let pool = Traced::new(sqlx::SqlitePool::connect("sqlite::memory:").await?);
/// let mut tx = pool.begin().await?;
/// sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut tx).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Traced<E> {
    pub(crate) inner: E,
    pub(crate) spans: Arc<SqlSpans>,
}

impl<DB: TracedDatabase> Traced<Pool<DB>> {
    /// Traces `pool`; the target comes from its connect options.
    pub fn new(pool: Pool<DB>) -> Self {
        let target = DB::target(&pool.connect_options());
        Self::with_target(pool, DB::SYSTEM, target)
    }

    /// Starts a transaction whose queries are traced like the pool's.
    pub async fn begin(&self) -> Result<Traced<Transaction<'static, DB>>, sqlx::Error> {
        Ok(self.share(self.inner.begin().await?))
    }

    /// Takes a connection from the pool whose queries are traced.
    pub async fn acquire(&self) -> Result<Traced<PoolConnection<DB>>, sqlx::Error> {
        Ok(self.share(self.inner.acquire().await?))
    }
}

impl<DB, C> Traced<C>
where
    DB: TracedDatabase<Connection = C>,
    C: Connection<Database = DB>,
{
    /// Traces a single connection made with `options`, its target taken
    /// from them as for a pool.
    pub fn for_connection(connection: C, options: &C::Options) -> Self {
        Self::with_target(connection, DB::SYSTEM, DB::target(options))
    }
}

impl<DB: Database> Traced<Transaction<'_, DB>> {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl<E> Traced<E> {
    /// Traces any executor source (e.g. a single connection) with an
    /// explicit system and target.
    pub fn with_target(inner: E, system: DbSystem, target: Target) -> Self {
        Self {
            inner,
            spans: Arc::new(SqlSpans::new(&crate::INTEGRATION, system, &target)),
        }
    }

    /// The wrapped value.
    pub fn get_ref(&self) -> &E {
        &self.inner
    }

    /// The wrapped value, mutably.
    pub fn get_mut(&mut self) -> &mut E {
        &mut self.inner
    }

    /// Unwraps, dropping the tracing.
    pub fn into_inner(self) -> E {
        self.inner
    }

    fn share<T>(&self, inner: T) -> Traced<T> {
        Traced {
            inner,
            spans: self.spans.clone(),
        }
    }
}

impl<E> std::ops::Deref for Traced<E> {
    type Target = E;

    fn deref(&self) -> &E {
        &self.inner
    }
}
