//! Where statements go: the target of a connection's spans, from its
//! `Opts`, and the product (MySQL or MariaDB) from its server version.

use std::sync::Arc;

use census_core::model::{DbSystem, Target};
use census_core::span::{ActiveSpan, SqlSpans};
use mysql_async::{Conn, Opts};

use crate::Traced;

/// The spans of one MySQL target, shared by every connection made with the
/// same `Opts`.
///
/// ```
/// let opts = mysql_async::Opts::from_url("mysql://app:pw@db:3307/shop").unwrap();
/// let spans = census_mysql::Spans::new(&opts);
/// # let _ = spans;
/// ```
#[derive(Debug, Clone)]
pub struct Spans {
    mysql: Arc<SqlSpans>,
    mariadb: Arc<SqlSpans>,
    comment: bool,
}

impl Spans {
    /// Spans for connections made with `opts`: the unix socket, or host and
    /// port, and the database. The password is never read.
    pub fn new(opts: &Opts) -> Self {
        Self::with_target(&target(opts))
    }

    /// Spans for an explicit target.
    pub fn with_target(target: &Target) -> Self {
        let spans = |system| Arc::new(SqlSpans::new(&crate::INTEGRATION, system, target));
        Self {
            mysql: spans(DbSystem::MySql),
            mariadb: spans(DbSystem::MariaDb),
            comment: false,
        }
    }

    /// Appends the span's `traceparent` to each statement of the `query*`
    /// methods as a [sqlcommenter](https://google.github.io/sqlcommenter/)
    /// comment (`/*traceparent='00-…'*/`), so that server logs can be
    /// joined to traces. Off by default. The `exec*` statements are left as
    /// written: mysql_async prepares and caches them by their text, which a
    /// comment per call would defeat.
    ///
    /// ```
    /// let opts = mysql_async::Opts::from_url("mysql://db/shop").unwrap();
    /// let spans = census_mysql::Spans::new(&opts).with_sql_commenter(true);
    /// # let _ = spans;
    /// ```
    pub fn with_sql_commenter(mut self, on: bool) -> Self {
        self.comment = on;
        self
    }

    /// `sql` with the comment of `span`, when the commenter is on.
    pub(crate) fn commented(&self, span: Option<&ActiveSpan>, sql: &str) -> Option<String> {
        if !self.comment {
            return None;
        }
        census_core::propagation::commented_sql(sql, span?.context())
    }

    /// Traces `conn`.
    pub fn wrap(&self, conn: Conn) -> Traced<Conn> {
        let spans = self.for_server(&conn);
        Traced::new_with(conn, spans, self.clone())
    }

    /// The spans for a server not known yet: MySQL's.
    pub(crate) fn for_unknown_server(&self) -> Arc<SqlSpans> {
        self.mysql.clone()
    }

    /// The spans for the product behind `conn`: MariaDB announces itself in
    /// its handshake, and its versions start at 10 where MySQL's stop at 9.
    pub(crate) fn for_server(&self, conn: &Conn) -> Arc<SqlSpans> {
        const FIRST_MARIADB_ONLY_MAJOR: u16 = 10;
        if conn.server_version().0 >= FIRST_MARIADB_ONLY_MAJOR {
            self.mariadb.clone()
        } else {
            self.mysql.clone()
        }
    }
}

fn target(opts: &Opts) -> Target {
    let target = match opts.socket() {
        Some(socket) => Target::new().with_host(socket),
        None => Target::new()
            .with_host(opts.ip_or_hostname())
            .with_port(opts.tcp_port()),
    };
    match opts.db_name() {
        Some(db) => target.with_namespace(db),
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(url: &str) -> Target {
        target(&Opts::from_url(url).unwrap())
    }

    #[test]
    fn host_port_and_database_come_from_the_options() {
        let t = of("mysql://app:secret@db.internal:3307/shop");
        assert_eq!(t.host(), Some("db.internal"));
        assert_eq!(t.port(), Some(3307));
        assert_eq!(t.namespace(), Some("shop"));
    }

    #[test]
    fn without_a_database_there_is_no_namespace_and_the_port_is_3306() {
        let t = of("mysql://db");
        assert_eq!(t.port(), Some(3306));
        assert_eq!(t.namespace(), None);
    }

    #[test]
    fn a_unix_socket_is_the_host_without_a_port() {
        let t = of("mysql://app@localhost/shop?socket=/run/mysqld/mysqld.sock");
        assert_eq!(t.host(), Some("/run/mysqld/mysqld.sock"));
        assert_eq!(t.port(), None);
    }
}
