//! The diesel [`Instrumentation`] that turns a connection's queries into
//! Client spans.

use census_core::model::{DbSystem, Outcome, Target};
use census_core::span::{ActiveSpan, SqlSpans};
use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::{error, query, target};

/// Spans kept open on one connection, at most: a query diesel never
/// reports finished (its binds failed to serialize) stays in the list,
/// and past this many the oldest is ended.
const MAX_OPEN: usize = 8;

/// Traces the queries of one diesel connection: a Client span per query,
/// a child of the current context, ended when diesel reports the query
/// finished, or when the connection is dropped. diesel reports no finish
/// for a query whose bind values fail to serialize: such a span ends with
/// the connection (or, past eight of them, the oldest ends early).
///
/// A failed query gets `error.type`, the Error status and an `exception`
/// event with the server's message, quoted values masked. diesel exposes
/// no error code, only a [`DatabaseErrorKind`](diesel::result::DatabaseErrorKind):
/// `error.type` is that kind (`unique_violation`, `not_null_violation`, …;
/// `database` for the rest, syntax errors included), and on PostgreSQL,
/// where each named kind stands for one SQLSTATE, that code becomes
/// `db.response.status_code` (`23505`).
///
/// Most applications never make one: enabling the integration makes
/// [`default_instrumentation`] diesel's default. Give one to a connection
/// made before, or to name the target yourself:
///
/// ```
/// use census_core::model::{DbSystem, Target};
/// use census_diesel::CensusInstrumentation;
/// use diesel::prelude::*;
/// let mut conn = SqliteConnection::establish(":memory:")?;
/// conn.set_instrumentation(CensusInstrumentation::from_url(":memory:"));
/// // A MariaDB server behind a `mysql://` URL:
/// let _mariadb = CensusInstrumentation::new(
///     DbSystem::MariaDb,
///     &Target::new().with_host("db").with_port(3306).with_namespace("shop"),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CensusInstrumentation {
    /// Known once the target is: at construction, or when the connection
    /// is established.
    spans: Option<ConnectionSpans>,
    /// The spans of queries under way, latest last. diesel may run a query
    /// while preparing another (PostgreSQL looks up a custom type the
    /// first time a connection binds it), and each finish is the latest
    /// start's. `None` for a query not traced, so that finishes still pair
    /// up.
    open: Vec<Option<ActiveSpan>>,
}

#[derive(Debug)]
struct ConnectionSpans {
    system: DbSystem,
    sql: SqlSpans,
}

impl CensusInstrumentation {
    /// Traces queries sent to `system` at `target`.
    pub fn new(system: DbSystem, target: &Target) -> Self {
        Self {
            spans: Some(ConnectionSpans {
                system,
                sql: SqlSpans::new(&crate::INTEGRATION, system, target),
            }),
            open: Vec::new(),
        }
    }

    /// Traces queries of a connection established with `url`, read as
    /// diesel reads it: `postgres://`, `postgresql://` or a libpq
    /// `key=value` string is PostgreSQL, `mysql://` MySQL, anything else a
    /// SQLite file name or URI. Only the host, port and database are kept,
    /// never the password.
    pub fn from_url(url: &str) -> Self {
        let (system, target) = target::from_url(url);
        Self::new(system, &target)
    }

    /// An instrumentation that learns its target when the connection is
    /// established; until then it traces nothing.
    fn on_establish() -> Self {
        Self {
            spans: None,
            open: Vec::new(),
        }
    }

    fn start(&mut self, query: &dyn diesel::connection::DebugQuery) {
        let Some(connection) = &self.spans else {
            return;
        };
        if self.open.len() == MAX_OPEN {
            self.open.remove(0);
        }
        // The parent is the caller's context, even for a query diesel runs
        // while another is open: that one may be a query diesel never
        // reported finished, which must not adopt the connection's next
        // queries.
        self.open
            .push(connection.sql.start_with(|| query::sql(query)));
    }

    fn finish(&mut self, error: Option<&diesel::result::Error>) {
        let (Some(Some(span)), Some(connection)) = (self.open.pop(), &self.spans) else {
            return;
        };
        let outcome = match error {
            Some(error) => error::outcome(error, connection.system),
            None => Outcome::Ok,
        };
        span.finish(&outcome);
    }
}

impl Instrumentation for CensusInstrumentation {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } if self.spans.is_none() => {
                *self = Self::from_url(url);
            }
            InstrumentationEvent::StartQuery { query, .. } => self.start(query),
            InstrumentationEvent::FinishQuery { error, .. } => self.finish(error),
            // Transactions show as their BEGIN / COMMIT / ROLLBACK
            // statements, which diesel runs as queries.
            _ => {}
        }
    }
}

/// A fresh [`CensusInstrumentation`] for each new connection, which reads
/// its target from the URL the connection is established with: what
/// [`install_default`](crate::install_default) gives
/// `diesel::connection::set_default_instrumentation`.
///
/// ```
/// diesel::connection::set_default_instrumentation(census_diesel::default_instrumentation)?;
/// # Ok::<(), diesel::result::Error>(())
/// ```
pub fn default_instrumentation() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(CensusInstrumentation::on_establish()))
}

#[cfg(test)]
mod tests;
