//! Keeping secrets out of telemetry: SQL literals, URL credentials and
//! values quoted in error messages.

mod quoted;
mod sql;
mod sql_lexer;
mod url;

pub use self::url::{REDACTED, redact_query, redact_url};
pub use quoted::mask_quoted;
pub(crate) use sql::{MAX_ANALYZED, analyze};
pub(crate) use sql_lexer::Dialect;

use crate::model::DbSystem;

/// `sql` with every literal replaced by `?`, comments removed, whitespace
/// folded and `IN (...)` value lists collapsed to `IN (?)`.
///
/// The quoting rules follow `system`: MySQL treats `"..."` as a string and
/// `\'` as an escaped quote, PostgreSQL has `E'...'` and `$tag$...$tag$`.
/// SQLite reads `"..."` as a string when no such column exists, so there it
/// is kept only where no string can stand — table names and their aliases,
/// aliases after `AS`, qualified names (`"t"."c"`) and `INSERT INTO t (...)`
/// column lists — and becomes `?` everywhere else, bare columns included.
///
/// ```
/// use census_core::{model::DbSystem, sanitize::sanitize_sql};
/// assert_eq!(
///     sanitize_sql("SELECT * FROM users WHERE email = 'a@b.c' AND id IN (1, 2, 3) -- hi", DbSystem::Postgres),
///     "SELECT * FROM users WHERE email = ? AND id IN (?)"
/// );
/// assert_eq!(
///     sanitize_sql(r#"SELECT "name" FROM "users" WHERE email = "a@b.c""#, DbSystem::Sqlite),
///     r#"SELECT ? FROM "users" WHERE email = ?"#
/// );
/// ```
pub fn sanitize_sql(sql: &str, system: DbSystem) -> String {
    analyze(sql, system.dialect()).text
}
