//! What the `exec*` methods accept: SQL text, or a statement prepared
//! through [`Traced::prep`](crate::Traced::prep), which keeps its SQL so
//! that its executions are named and described like the text.

/// A prepared statement that remembers its SQL; it derefs to mysql_async's.
pub type Statement = census_core::model::Prepared<mysql_async::Statement>;

/// A statement an `exec*` method runs: `&str`, `String` or a
/// [`&Statement`](Statement).
///
/// A bare `mysql_async::Statement` is not accepted, because its SQL is not
/// known and the span could not be named; prepare through
/// [`Traced::prep`](crate::Traced::prep) instead.
pub trait Sql: Send {
    /// What mysql_async executes.
    type Statement: mysql_async::prelude::StatementLike;

    /// The SQL text, for the span.
    fn text(&self) -> &str;

    /// The statement for mysql_async.
    fn into_statement(self) -> Self::Statement;
}

impl<'a> Sql for &'a str {
    type Statement = &'a str;

    fn text(&self) -> &str {
        self
    }

    fn into_statement(self) -> &'a str {
        self
    }
}

impl Sql for String {
    type Statement = String;

    fn text(&self) -> &str {
        self
    }

    fn into_statement(self) -> String {
        self
    }
}

impl<'a> Sql for &'a Statement {
    type Statement = &'a mysql_async::Statement;

    fn text(&self) -> &str {
        self.sql()
    }

    fn into_statement(self) -> &'a mysql_async::Statement {
        self.inner()
    }
}
