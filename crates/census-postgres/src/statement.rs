//! What a query method accepts: SQL text, or a statement prepared through
//! [`Traced::prepare`](crate::Traced::prepare), which keeps its SQL so that
//! its executions are named and described like the text.

use tokio_postgres::ToStatement;

/// A prepared statement that remembers its SQL.
///
/// It derefs to tokio-postgres's `Statement` (parameter and column types).
pub type Statement = census_core::model::Prepared<tokio_postgres::Statement>;

/// SQL a traced query method runs: `str`, `String` or a [`Statement`].
///
/// A bare `tokio_postgres::Statement` is not accepted, because its SQL is
/// not known and the span could not be named; prepare through
/// [`Traced::prepare`](crate::Traced::prepare) instead.
pub trait Sql: Sync {
    /// What tokio-postgres executes.
    type Statement: ToStatement + ?Sized + Sync;

    /// The statement for tokio-postgres.
    fn statement(&self) -> &Self::Statement;

    /// The SQL text, for the span.
    fn text(&self) -> &str;

    /// Whether this is text sent as is (which the SQL commenter may
    /// annotate), not a prepared statement.
    fn is_text(&self) -> bool {
        true
    }
}

impl Sql for str {
    type Statement = str;

    fn statement(&self) -> &str {
        self
    }

    fn text(&self) -> &str {
        self
    }
}

impl Sql for String {
    type Statement = String;

    fn statement(&self) -> &String {
        self
    }

    fn text(&self) -> &str {
        self
    }
}

impl Sql for Statement {
    type Statement = tokio_postgres::Statement;

    fn statement(&self) -> &tokio_postgres::Statement {
        self.inner()
    }

    fn text(&self) -> &str {
        self.sql()
    }

    fn is_text(&self) -> bool {
        false
    }
}
