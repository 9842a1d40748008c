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
        let target = match options.get_socket() {
            Some(socket) => Target::new().with_host(socket.to_string_lossy()),
            None => Target::new()
                .with_host(options.get_host())
                .with_port(options.get_port()),
        };
        match options.get_database() {
            Some(db) => target.with_namespace(db),
            None => target,
        }
    }
}

#[cfg(feature = "mysql")]
impl TracedDatabase for sqlx::MySql {
    const SYSTEM: DbSystem = DbSystem::MySql;

    fn target(options: &sqlx::mysql::MySqlConnectOptions) -> Target {
        let target = match options.get_socket() {
            Some(socket) => Target::new().with_host(socket.to_string_lossy()),
            None => Target::new()
                .with_host(options.get_host())
                .with_port(options.get_port()),
        };
        match options.get_database() {
            Some(db) => target.with_namespace(db),
            None => target,
        }
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
