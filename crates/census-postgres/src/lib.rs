//! census for [tokio-postgres](https://docs.rs/tokio-postgres): one Client
//! span per statement, named by its summary (`SELECT orders`), with the
//! sanitized text, the server and database as the target, and SQLSTATE as
//! `db.response.status_code` on failure. Parameters are never recorded.
//!
//! tokio-postgres has no hooks, so [`Traced`] wraps a `Client` or a
//! `Transaction` and mirrors their query methods. [`connect`] makes one
//! whose target comes from the connection string; a client handed out by a
//! pool (deadpool-postgres, bb8) is wrapped per checkout with
//! [`Spans::wrap`], sharing one [`Spans`] made from the pool's `Config`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tokio_postgres::Error> {
//! census_postgres::INTEGRATION.set_enabled(true); // or census::config_integration::trace_integrations(&["postgres"])
//! let (client, connection) =
//!     census_postgres::connect("postgres://app@127.0.0.1/shop", tokio_postgres::NoTls).await?;
//! tokio::spawn(connection);
//! let rows = client.query("SELECT id FROM orders WHERE total > $1", &[&100i64]).await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! None: the crate follows tokio-postgres's defaults (the tokio runtime).

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod error;
mod rows;
mod statement;
mod target;

pub use client::{AsClient, Traced, connect};
pub use rows::RowStream;
pub use statement::{Sql, Statement};
pub use target::Spans;

use census_core::registry::Integration;

/// The `postgres` integration (alias `postgresql`), off until enabled.
pub static INTEGRATION: Integration = Integration::new(
    "postgres",
    env!("CARGO_PKG_NAME"),
    env!("CARGO_PKG_VERSION"),
)
.with_aliases(&["postgresql"]);
