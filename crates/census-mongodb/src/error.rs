//! How a failed command shows in telemetry: the server's code name as
//! `error.type`, its code as `db.response.status_code`, and a message with
//! quoted values masked (duplicate-key messages quote the key's value).

use census_core::model::{Failure, Outcome};
use census_core::sanitize::mask_quoted;
use mongodb::bson::{Bson, Document};
use mongodb::error::{Error, ErrorKind};

/// The outcome of a command the driver reports as failed.
pub(crate) fn failed(error: &Error) -> Outcome {
    let failure = match &*error.kind {
        ErrorKind::Command(command) => {
            server_failure(command.code, Some(&command.code_name), &command.message)
        }
        ErrorKind::Io(_) => Failure::new("io", mask_quoted(&error.to_string())),
        ErrorKind::Authentication { .. } => Failure::new("authentication", "authentication failed"),
        _ => Failure::new("client", mask_quoted(&error.to_string())),
    };
    Outcome::Failed(failure)
}

/// The outcome of a command the server answered: writes report their
/// failures (a duplicate key) inside an `ok: 1` reply.
pub(crate) fn replied(reply: &Document) -> Outcome {
    let first_write_error = match reply.get("writeErrors") {
        Some(Bson::Array(errors)) => errors.first().and_then(Bson::as_document),
        _ => None,
    };
    let error = first_write_error.or_else(|| reply.get_document("writeConcernError").ok());
    match error {
        Some(error) => {
            let code = error.get_i32("code").unwrap_or_default();
            let message = error.get_str("errmsg").unwrap_or("write failed");
            let code_name = error.get_str("codeName").ok();
            Outcome::Failed(server_failure(code, code_name, message))
        }
        None => Outcome::Ok,
    }
}

fn server_failure(code: i32, code_name: Option<&str>, message: &str) -> Failure {
    let error_type = match code_name {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => code.to_string(),
    };
    Failure::new(error_type, mask_message(message)).with_db_status_code(code.to_string())
}

/// A server message with its values masked: quoted strings, and whatever
/// sits inside `{ … }`, where MongoDB prints documents, unquoted numbers
/// included (`dup key: { _id: 1 }`).
fn mask_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut depth = 0usize;
    for c in mask_quoted(message).chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{…}");
                }
                depth += 1;
            }
            '}' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    #[test]
    fn a_write_error_in_an_ok_reply_is_a_failure_without_the_value() {
        let reply = doc! {
            "ok": 1, "n": 0,
            "writeErrors": [{ "index": 0, "code": 11000,
                "errmsg": "E11000 duplicate key error collection: shop.users index: email_1 dup key: { email: \"bob@example.com\" }" }],
        };
        let Outcome::Failed(failure) = replied(&reply) else {
            panic!("not a failure")
        };
        let text = format!("{failure:?}");
        assert!(text.contains("11000"), "{text}");
        assert!(!text.contains("bob@example.com"), "{text}");
        assert!(text.contains("dup key: {…}"), "{text}");
        assert_eq!(replied(&doc! { "ok": 1, "n": 1 }), Outcome::Ok);
    }

    #[test]
    fn unquoted_values_in_documents_are_masked_too() {
        assert_eq!(
            mask_message("E11000 duplicate key error index: _id_ dup key: { _id: 987654 }"),
            "E11000 duplicate key error index: _id_ dup key: {…}"
        );
        assert_eq!(
            mask_message("nested { a: { b: 1 } } tail"),
            "nested {…} tail"
        );
        assert_eq!(mask_message("unbalanced { a: 1"), "unbalanced {…}");
    }
}
