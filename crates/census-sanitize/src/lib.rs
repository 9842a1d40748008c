//! census's sanitizers: what keeps secrets out of telemetry, with no
//! OpenTelemetry dependency, so an exporter, a fuzz target or any other
//! program can use them alone.
//!
//! - [`sanitize_sql`] and [`analyze`]: SQL with every literal replaced by
//!   `?`, in each database's quoting rules ([`Dialect`]), and the
//!   operation and tables that name a statement;
//! - [`redact_url`] and [`redact_query`]: credentials and secret-bearing
//!   query parameters become [`REDACTED`];
//! - [`mask_quoted`]: values quoted in free text such as error messages.
//!
//! ```
//! use census_sanitize::{Dialect, sanitize_sql};
//! assert_eq!(
//!     sanitize_sql("SELECT * FROM users WHERE email = 'a@b.c'", Dialect::Postgres),
//!     "SELECT * FROM users WHERE email = ?"
//! );
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod quoted;
mod sql;
mod sql_lexer;
mod url;

pub use self::url::{REDACTED, is_secret_name, redact_query, redact_url};
pub use quoted::mask_quoted;
pub use sql::{MAX_ANALYZED, SqlParts, analyze};
pub use sql_lexer::Dialect;

/// `sql` with every literal replaced by `?`, comments removed, whitespace
/// folded and `IN (...)` value lists collapsed to `IN (?)`.
///
/// The quoting rules follow `dialect`: MySQL treats `"..."` as a string
/// and `\'` as an escaped quote, PostgreSQL has `E'...'` and
/// `$tag$...$tag$`. SQLite reads `"..."` as a string when no such column
/// exists, so there it is kept only where no string can stand — table
/// names and their aliases, aliases after `AS`, qualified names
/// (`"t"."c"`) and `INSERT INTO t (...)` column lists — and becomes `?`
/// everywhere else, bare columns included.
///
/// ```
/// use census_sanitize::{Dialect, sanitize_sql};
/// assert_eq!(
///     sanitize_sql("SELECT * FROM users WHERE email = 'a@b.c' AND id IN (1, 2, 3) -- hi", Dialect::Postgres),
///     "SELECT * FROM users WHERE email = ? AND id IN (?)"
/// );
/// assert_eq!(
///     sanitize_sql(r#"SELECT "name" FROM "users" WHERE email = "a@b.c""#, Dialect::Sqlite),
///     r#"SELECT ? FROM "users" WHERE email = ?"#
/// );
/// ```
pub fn sanitize_sql(sql: &str, dialect: impl Into<Dialect>) -> String {
    analyze(sql, dialect.into()).text
}
