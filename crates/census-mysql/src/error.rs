//! How a mysql_async error shows in telemetry: the server's error code as
//! `error.type` and `db.response.status_code`, and a message with quoted
//! values masked (MySQL quotes the duplicate value in
//! `Duplicate entry '…' for key …`).

use census_core::model::{Failure, Outcome};
use census_core::sanitize::mask_quoted;
use mysql_async::Error;

pub(crate) fn outcome<T>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(error) => Outcome::Failed(failure(error)),
    }
}

fn failure(error: &Error) -> Failure {
    let kind = match error {
        Error::Server(server) => {
            let code = server.code.to_string();
            return Failure::new(code.clone(), mask_quoted(&server.message))
                .with_db_status_code(code);
        }
        Error::Driver(_) => "driver",
        Error::Io(_) => "io",
        Error::Url(_) => "url",
        Error::Other(_) => "_OTHER",
    };
    Failure::new(kind, mask_quoted(&error.to_string()))
}
