//! How a diesel error shows in telemetry.
//!
//! diesel keeps no error code: a database error is a
//! [`DatabaseErrorKind`] and the server's message (plus details, hint,
//! table, column and constraint names, which are left out: PostgreSQL's
//! details quote the offending row). So `error.type` is the kind
//! (`unique_violation`, or `database` for the kinds diesel does not name)
//! and the message has its quoted values masked. `db.response.status_code`
//! is set only where the kind gives the code back: on PostgreSQL, diesel
//! derives each named kind from exactly one SQLSTATE. MySQL and SQLite
//! fold several codes into one kind, so they get none.

use census_core::model::{DbSystem, Failure, Outcome};
use census_core::sanitize::mask_quoted;
use diesel::result::{DatabaseErrorKind, Error};

/// The outcome of a query diesel reports as failed on a `system` connection.
pub(crate) fn outcome(error: &Error, system: DbSystem) -> Outcome {
    let Error::DatabaseError(kind, info) = error else {
        return Outcome::Failed(Failure::new(
            error_type(error),
            mask_quoted(&error.to_string()),
        ));
    };
    let failure = Failure::new(kind_name(kind), mask_quoted(info.message()));
    Outcome::Failed(match postgres_sqlstate(kind) {
        Some(code) if system == DbSystem::Postgres => failure.with_db_status_code(code),
        _ => failure,
    })
}

fn kind_name(kind: &DatabaseErrorKind) -> &'static str {
    use DatabaseErrorKind as K;
    match kind {
        K::UniqueViolation => "unique_violation",
        K::ForeignKeyViolation => "foreign_key_violation",
        K::UnableToSendCommand => "unable_to_send_command",
        K::SerializationFailure => "serialization_failure",
        K::ReadOnlyTransaction => "read_only_transaction",
        K::RestrictViolation => "restrict_violation",
        K::NotNullViolation => "not_null_violation",
        K::CheckViolation => "check_violation",
        K::ExclusionViolation => "exclusion_violation",
        K::ClosedConnection => "closed_connection",
        _ => "database",
    }
}

/// The SQLSTATE diesel's PostgreSQL backend maps to `kind`, for the kinds
/// it maps from a single code.
fn postgres_sqlstate(kind: &DatabaseErrorKind) -> Option<&'static str> {
    use DatabaseErrorKind as K;
    Some(match kind {
        K::RestrictViolation => "23001",
        K::NotNullViolation => "23502",
        K::ForeignKeyViolation => "23503",
        K::UniqueViolation => "23505",
        K::CheckViolation => "23514",
        K::ExclusionViolation => "23P01",
        K::ReadOnlyTransaction => "25006",
        K::SerializationFailure => "40001",
        _ => return None,
    })
}

fn error_type(error: &Error) -> &'static str {
    match error {
        Error::InvalidCString(_) => "invalid_c_string",
        Error::NotFound => "not_found",
        Error::QueryBuilderError(_) => "query_builder",
        Error::DeserializationError(_) => "deserialization",
        Error::SerializationError(_) => "serialization",
        Error::RollbackErrorOnCommit { .. } => "rollback_error_on_commit",
        Error::RollbackTransaction => "rollback_transaction",
        Error::AlreadyInTransaction => "already_in_transaction",
        Error::NotInTransaction => "not_in_transaction",
        Error::BrokenTransactionManager => "broken_transaction_manager",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn a_postgres_unique_violation_has_its_sqlstate_and_no_values() {
        let error = database(
            DatabaseErrorKind::UniqueViolation,
            "duplicate key value violates unique constraint \"users_email_key\"",
        );
        assert_eq!(
            outcome(&error, DbSystem::Postgres),
            Outcome::Failed(
                Failure::new(
                    "unique_violation",
                    "duplicate key value violates unique constraint ?"
                )
                .with_db_status_code("23505")
            )
        );
    }

    #[test]
    fn other_systems_and_unnamed_kinds_get_no_code() {
        let error = database(
            DatabaseErrorKind::UniqueViolation,
            "Duplicate entry 'bob@example.com' for key 'email'",
        );
        assert_eq!(
            outcome(&error, DbSystem::MySql),
            Outcome::Failed(Failure::new(
                "unique_violation",
                "Duplicate entry ? for key ?"
            ))
        );
        let error = database(
            DatabaseErrorKind::Unknown,
            "syntax error at or near \"SELEC\"",
        );
        assert_eq!(
            outcome(&error, DbSystem::Postgres),
            Outcome::Failed(Failure::new("database", "syntax error at or near ?"))
        );
        let error = database(
            DatabaseErrorKind::ClosedConnection,
            "server closed the connection",
        );
        assert_eq!(
            outcome(&error, DbSystem::Postgres),
            Outcome::Failed(Failure::new(
                "closed_connection",
                "server closed the connection"
            ))
        );
    }

    #[test]
    fn errors_outside_the_database_have_their_own_type() {
        let Outcome::Failed(failure) = outcome(&Error::NotInTransaction, DbSystem::Sqlite) else {
            unreachable!()
        };
        assert_eq!(failure.error_type(), "not_in_transaction");
        let error = Error::SerializationError("cannot encode 'secret'".into());
        assert_eq!(
            outcome(&error, DbSystem::Sqlite),
            Outcome::Failed(Failure::new("serialization", "cannot encode ?"))
        );
    }
}
