//! How a sqlx error shows in telemetry: a low-cardinality `error.type`,
//! the database's code, and a message with quoted values masked.

use std::borrow::Cow;

use census_core::model::{Failure, Outcome};
use census_core::sanitize::mask_quoted;

/// The outcome of a failed call.
pub(crate) fn outcome(error: &sqlx::Error) -> Outcome {
    let mut failure = Failure::new(error_type(error), mask_quoted(&error.to_string()));
    if let sqlx::Error::Database(db) = error
        && let Some(code) = status_code(db.as_ref())
    {
        failure = failure.with_db_status_code(code);
    }
    Outcome::Failed(failure)
}

/// The database's own code: SQLSTATE, except on MySQL, whose error numbers
/// (`1062`) are what its users and the semantic conventions know, where
/// SQLSTATE is a coarse class (`23000`).
fn status_code(db: &dyn sqlx::error::DatabaseError) -> Option<String> {
    #[cfg(feature = "mysql")]
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return Some(mysql.number().to_string());
    }
    db.code().map(Cow::into_owned)
}

fn error_type(error: &sqlx::Error) -> Cow<'static, str> {
    use sqlx::Error as E;
    Cow::Borrowed(match error {
        E::Database(db) => {
            return status_code(db.as_ref()).map_or(Cow::Borrowed("database"), Cow::Owned);
        }
        E::Configuration(_) => "configuration",
        E::InvalidArgument(_) => "invalid_argument",
        E::Io(_) => "io",
        E::Tls(_) => "tls",
        E::Protocol(_) => "protocol",
        E::RowNotFound => "row_not_found",
        E::TypeNotFound { .. } => "type_not_found",
        E::ColumnIndexOutOfBounds { .. } => "column_index_out_of_bounds",
        E::ColumnNotFound(_) => "column_not_found",
        E::ColumnDecode { .. } => "column_decode",
        E::Encode(_) => "encode",
        E::Decode(_) => "decode",
        E::PoolTimedOut => "pool_timed_out",
        E::PoolClosed => "pool_closed",
        E::WorkerCrashed => "worker_crashed",
        _ => "_OTHER",
    })
}
