//! A client library's prepared statement, with the SQL it was prepared
//! from: a prepared statement's executions are then named and described
//! like the text, which the library's own handle does not keep.

use std::sync::Arc;

/// A prepared statement `S` of some client library, with its SQL; it
/// derefs to `S`. The SQL is shared, so clones cost a reference count.
///
/// ```
/// use census_core::model::Prepared;
/// # #[derive(Debug, Clone)]
/// # struct LibraryStatement(u32);
/// let statement = Prepared::new(LibraryStatement(7), "SELECT * FROM t WHERE id = $1");
/// assert_eq!(statement.sql(), "SELECT * FROM t WHERE id = $1");
/// assert_eq!(statement.0, 7); // through `Deref`
/// ```
#[derive(Debug, Clone)]
pub struct Prepared<S> {
    inner: S,
    sql: Arc<str>,
}

impl<S> Prepared<S> {
    /// `inner`, prepared from `sql`.
    pub fn new(inner: S, sql: &str) -> Self {
        Self {
            inner,
            sql: sql.into(),
        }
    }

    /// The SQL it was prepared from.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The library's statement.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S> std::ops::Deref for Prepared<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.inner
    }
}
