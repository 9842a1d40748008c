//! census for sqlx: every query through a [`Traced`] pool, connection or
//! transaction becomes a Client span with the database's typed target and
//! the sanitized statement (`db.system.name`, `db.query.text`,
//! `db.query.summary`, `db.operation.name`, `db.collection.name`,
//! `server.address`, `server.port`, `db.namespace`), a child of the
//! current context. Failures set `error.type`, the error status and an
//! `exception` event, with quoted values masked.
//!
//! Tracing is on while the `sqlx` integration is enabled
//! (`census::config_integration::trace_integrations(&["sqlx"])`); while it
//! is off, calls pass straight through to sqlx.
//!
//! `prepare` and `describe` pass through untraced: they plan a statement
//! rather than run it, and sqlx prepares implicitly inside traced calls.
//! `BEGIN`, `COMMIT` and `ROLLBACK` are issued by sqlx's transaction
//! manager, not through an executor, so they are not spans either.
//!
//! # Features
//!
//! One per database, so that an application pulls in only the drivers it
//! uses (the `census` facade turns them on one by one: `sqlx-sqlite`,
//! `sqlx-postgres`, `sqlx-mysql`):
//!
//! - `sqlite` (default): SQLite (`db.namespace` is the file name);
//! - `postgres`: PostgreSQL (host, port, database; the socket path for
//!   unix sockets);
//! - `mysql`: MySQL and MariaDB (host, port, database).
//!
//! `Traced<Pool>` derefs to the pool, for what is not a query (`close`,
//! `size`, migrations: `migrator.run(&*pool)`).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), sqlx::Error> {
//! use census_sqlx::Traced;
//! let pool = Traced::new(sqlx::SqlitePool::connect("sqlite::memory:").await?);
//! let row: (i64,) = sqlx::query_as("SELECT 40 + 2").fetch_one(&pool).await?;
//! assert_eq!(row.0, 42);
//! # Ok(())
//! # }
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod database;
mod error;
mod executor;
mod query;
mod traced;

pub use database::{AsConnection, TracedDatabase};
pub use traced::Traced;

/// The `sqlx` integration: its switch and tracer.
pub static INTEGRATION: census_core::registry::Integration =
    census_core::registry::Integration::new(
        "sqlx",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    );
