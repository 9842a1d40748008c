//! census for [mysql_async](https://docs.rs/mysql_async): one Client span
//! per statement, named by its summary (`SELECT orders`), with the
//! sanitized text, the server and database as the target, and the MySQL
//! error code as `db.response.status_code` on failure. Parameters are
//! never recorded. A MariaDB server is reported as `mariadb`, any other
//! as `mysql`.
//!
//! mysql_async has no hooks, so [`Traced`] wraps a `Conn`, a `Transaction`
//! or a `Pool` and mirrors the `Queryable` methods people use: `query*`,
//! `exec*`, `exec_batch`, `prep`, and transactions.
//!
//! ```no_run
//! # async fn demo() -> mysql_async::Result<()> {
//! use census_mysql::Traced;
//! census_mysql::INTEGRATION.set_enabled(true); // or census::config_integration
//! let pool = Traced::pool(mysql_async::Opts::from_url("mysql://app@127.0.0.1/shop")?);
//! let mut conn = pool.get_conn().await?;
//! let ids: Vec<u64> = conn.exec("SELECT id FROM orders WHERE total > ?", (100,)).await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! None: TLS and the other mysql_async features are the application's
//! choice (cargo unifies them).

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod spans;
mod statement;
mod traced;

pub use spans::Spans;
pub use statement::{Sql, Statement};
pub use traced::Traced;

use census_core::registry::Integration;

/// The `mysql` integration (aliases `pymysql`, `mariadb`), off until
/// enabled.
pub static INTEGRATION: Integration =
    Integration::new("mysql", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .with_aliases(&["pymysql", "mariadb"]);
