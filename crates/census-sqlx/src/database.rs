use census_core::model::{DbSystem, Target};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Database, Transaction};

/// A sqlx database census knows how to describe.
pub trait TracedDatabase: Database {
    /// The `db.system.name` of this database.
    const SYSTEM: DbSystem;

    /// Where connections made with `options` go.
    fn target(options: &<Self::Connection as Connection>::Options) -> Target;
}

#[cfg(feature = "sqlite")]
impl TracedDatabase for sqlx::Sqlite {
    const SYSTEM: DbSystem = DbSystem::Sqlite;

    fn target(options: &sqlx::sqlite::SqliteConnectOptions) -> Target {
        Target::new().with_namespace(options.get_filename().to_string_lossy())
    }
}

#[cfg(feature = "postgres")]
impl TracedDatabase for sqlx::Postgres {
    const SYSTEM: DbSystem = DbSystem::Postgres;

    fn target(options: &sqlx::postgres::PgConnectOptions) -> Target {
        server_target(
            options.get_socket(),
            options.get_host(),
            options.get_port(),
            options.get_database(),
        )
    }
}

#[cfg(feature = "mysql")]
impl TracedDatabase for sqlx::MySql {
    const SYSTEM: DbSystem = DbSystem::MySql;

    fn target(options: &sqlx::mysql::MySqlConnectOptions) -> Target {
        server_target(
            options.get_socket(),
            options.get_host(),
            options.get_port(),
            options.get_database(),
        )
    }
}

/// A network server's target: the unix socket path when one is used,
/// otherwise host and port; the database as the namespace.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn server_target(
    socket: Option<&std::path::PathBuf>,
    host: &str,
    port: u16,
    database: Option<&str>,
) -> Target {
    let target = match socket {
        Some(socket) => Target::new().with_host(socket.to_string_lossy()),
        None => Target::new().with_host(host).with_port(port),
    };
    match database {
        Some(db) => target.with_namespace(db),
        None => target,
    }
}

/// Something that derefs to a live connection: a connection, a pooled
/// connection or a transaction. [`Traced`](crate::Traced) runs its queries
/// through the connection.
pub trait AsConnection: Send + std::fmt::Debug {
    /// The database the connection talks to.
    type Database: Database;

    /// The connection queries run on.
    fn as_connection(&mut self) -> &mut <Self::Database as Database>::Connection;
}

impl<DB: Database> AsConnection for PoolConnection<DB> {
    type Database = DB;

    fn as_connection(&mut self) -> &mut DB::Connection {
        self
    }
}

impl<DB: Database> AsConnection for Transaction<'_, DB> {
    type Database = DB;

    fn as_connection(&mut self) -> &mut DB::Connection {
        self
    }
}

#[cfg(feature = "sqlite")]
impl AsConnection for sqlx::SqliteConnection {
    type Database = sqlx::Sqlite;

    fn as_connection(&mut self) -> &mut Self {
        self
    }
}

#[cfg(feature = "postgres")]
impl AsConnection for sqlx::PgConnection {
    type Database = sqlx::Postgres;

    fn as_connection(&mut self) -> &mut Self {
        self
    }
}

#[cfg(feature = "mysql")]
impl AsConnection for sqlx::MySqlConnection {
    type Database = sqlx::MySql;

    fn as_connection(&mut self) -> &mut Self {
        self
    }
}
