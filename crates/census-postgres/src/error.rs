//! How a tokio-postgres error shows in telemetry: SQLSTATE as both
//! `error.type` and `db.response.status_code`, and a message with quoted
//! values masked (PostgreSQL quotes the offending input in messages such as
//! `invalid input syntax for type integer: "abc"`).

use census_core::model::{Failure, Outcome};
use census_core::sanitize::mask_quoted;

pub(crate) fn outcome<T>(result: &Result<T, tokio_postgres::Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(error) => failed(error),
    }
}

pub(crate) fn failed(error: &tokio_postgres::Error) -> Outcome {
    let failure = match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            Failure::new(code.to_owned(), mask_quoted(db.message())).with_db_status_code(code)
        }
        None => {
            let kind = if error.is_closed() {
                "connection_closed"
            } else {
                "client"
            };
            Failure::new(kind, mask_quoted(&error.to_string()))
        }
    };
    Outcome::Failed(failure)
}
