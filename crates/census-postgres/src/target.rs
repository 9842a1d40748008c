//! Where statements go: the target of a connection's spans, from the
//! `Config` it was made with.

use std::sync::Arc;

use census_core::model::{DbSystem, Target};
use census_core::span::{ActiveSpan, SqlSpans};
use tokio_postgres::config::{Config, Host};

use crate::{AsClient, Sql, Traced};

/// The spans of one PostgreSQL target, shared by every client connected
/// with the same `Config`: make it once per pool, wrap each checkout.
///
/// ```
/// let config: tokio_postgres::Config = "host=db port=5433 dbname=shop user=app".parse().unwrap();
/// let spans = census_postgres::Spans::new(&config);
/// # let _ = spans;
/// ```
#[derive(Debug, Clone)]
pub struct Spans {
    pub(crate) sql: Arc<SqlSpans>,
    comment: bool,
}

impl Spans {
    /// Spans for connections made with `config`: its first host (a unix
    /// socket's directory, or host and port) and its database, which
    /// PostgreSQL defaults to the user name. The password is never read.
    pub fn new(config: &Config) -> Self {
        Self::with_target(target(config))
    }

    /// Spans for an explicit target.
    pub fn with_target(target: Target) -> Self {
        Self {
            sql: Arc::new(SqlSpans::new(
                &crate::INTEGRATION,
                DbSystem::Postgres,
                &target,
            )),
            comment: false,
        }
    }

    /// Appends the span's `traceparent` to each text statement as a
    /// [sqlcommenter](https://google.github.io/sqlcommenter/) comment
    /// (`/*traceparent='00-…'*/`), so that server logs and
    /// `pg_stat_statements` can be joined to traces. Off by default.
    /// Statements prepared through [`Traced::prepare`] are sent as
    /// prepared, without it: a comment would tie a cached statement to one
    /// trace.
    ///
    /// ```
    /// let config: tokio_postgres::Config = "host=db dbname=shop".parse().unwrap();
    /// let spans = census_postgres::Spans::new(&config).with_sql_commenter(true);
    /// # let _ = spans;
    /// ```
    pub fn with_sql_commenter(mut self, on: bool) -> Self {
        self.comment = on;
        self
    }

    /// `statement` with the comment of `span` appended, when the commenter
    /// is on, the statement is text and there is a span.
    pub(crate) fn commented<S: Sql + ?Sized>(
        &self,
        span: Option<&ActiveSpan>,
        statement: &S,
    ) -> Option<String> {
        if !self.comment || !statement.is_text() {
            return None;
        }
        census_core::propagation::commented_sql(statement.text(), span?.context())
    }

    /// Traces `client`, e.g. `&**pool.get().await?` for deadpool-postgres.
    pub fn wrap<C: AsClient>(&self, client: C) -> Traced<C> {
        Traced::with_spans(client, self.clone())
    }
}

fn target(config: &Config) -> Target {
    const DEFAULT_PORT: u16 = 5432;
    let port = config.get_ports().first().copied().unwrap_or(DEFAULT_PORT);
    let target = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => Target::new().with_host(host).with_port(port),
        #[cfg(unix)]
        Some(Host::Unix(dir)) => Target::new().with_host(dir.to_string_lossy()),
        None => Target::new().with_host("localhost").with_port(port),
    };
    match config.get_dbname().or(config.get_user()) {
        Some(db) => target.with_namespace(db),
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(config: &str) -> Target {
        target(&config.parse().unwrap())
    }

    #[test]
    fn host_port_and_database_come_from_the_config() {
        let t = of("postgres://app:secret@db.internal:6432/shop");
        assert_eq!(t.host(), Some("db.internal"));
        assert_eq!(t.port(), Some(6432));
        assert_eq!(t.namespace(), Some("shop"));
    }

    #[test]
    fn the_database_defaults_to_the_user_and_the_port_to_5432() {
        let t = of("host=db user=app");
        assert_eq!(t.port(), Some(5432));
        assert_eq!(t.namespace(), Some("app"));
    }

    #[test]
    fn a_unix_socket_is_the_host_without_a_port() {
        let t = of("host=/var/run/postgresql dbname=shop");
        assert_eq!(t.host(), Some("/var/run/postgresql"));
        assert_eq!(t.port(), None);
    }
}
