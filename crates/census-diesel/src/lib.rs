//! census for [diesel](https://docs.rs/diesel) 2.3: one Client span per
//! query on PostgreSQL, MySQL and SQLite connections, named by the
//! statement's summary (`SELECT users`), with the sanitized text, the
//! target (`server.address`, `server.port`, `db.namespace`) and
//! `db.system.name`. Bind values are never recorded.
//!
//! diesel reports what its connections do to an
//! [`Instrumentation`](diesel::connection::Instrumentation), so nothing is
//! wrapped: switching the `diesel` integration on
//! (`census::config_integration::trace_integrations(&["diesel"])`, or
//! [`INTEGRATION`]`.set_enabled(true)`) installs [`default_instrumentation`]
//! as diesel's default, which every connection established afterwards
//! picks up, pooled ones included. A connection can also be given one of
//! its own with [`CensusInstrumentation`] and `set_instrumentation`.
//!
//! ```
//! use diesel::prelude::*;
//! census_diesel::INTEGRATION.set_enabled(true); // or census::config_integration
//! let mut conn = SqliteConnection::establish(":memory:")?;
//! // A span named `SELECT` whose parent is the current context.
//! diesel::sql_query("SELECT 1").execute(&mut conn)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What the spans hold:
//!
//! - **Target**: read from the URL the connection is established with
//!   (`postgres://`, `postgresql://` or a libpq `key=value` string;
//!   `mysql://`; anything else is a SQLite file name or URI). The password
//!   is never read. diesel does not tell which server answered, so a
//!   MariaDB server reached through `mysql://` shows as `mysql`: give the
//!   system yourself with [`CensusInstrumentation::new`].
//! - **Parent**: the current context
//!   ([`census_core::context::current`]) on the thread that runs the query.
//!   Another thread does not inherit it, nor does a blocking task: take
//!   the context before and attach it inside (with tokio,
//!   `census::context::spawn_blocking` does both around
//!   `tokio::task::spawn_blocking`):
//!
//!   ```
//!   # use diesel::prelude::*;
//!   let mut conn = SqliteConnection::establish(":memory:")?;
//!   let cx = opentelemetry::Context::current(); // on the caller's thread
//!   std::thread::spawn(move || {
//!       let _attached = cx.attach(); // queries here are children of its span
//!       diesel::sql_query("SELECT 1").execute(&mut conn)
//!   })
//!   .join()
//!   .expect("no panic")?;
//!   # Ok::<(), Box<dyn std::error::Error>>(())
//!   ```
//! - **Errors**: see [`CensusInstrumentation`] for what diesel exposes.
//! - **Transactions**: diesel runs `BEGIN`, `COMMIT`, `ROLLBACK` and, nested,
//!   `SAVEPOINT` / `RELEASE SAVEPOINT` / `ROLLBACK TO SAVEPOINT` as
//!   statements, and each is a span like any query; the transaction events
//!   diesel sends besides them add nothing and are not recorded.
//! - **Lifetime**: a span ends when diesel reports the query finished (for
//!   a SQLite cursor, when the cursor is dropped), or at the latest when its
//!   connection is dropped (a panic mid-query).
//!
//! Connecting is not a span: diesel connects outside any query.
//!
//! # Features
//!
//! None: the backends (and the native client libraries they link) are the
//! application's choice of diesel features; this crate uses none.

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod instrumentation;
mod query;
mod target;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

pub use instrumentation::{CensusInstrumentation, default_instrumentation};

use census_core::registry::Integration;

/// The `diesel` integration, off until enabled; switching it on installs
/// [`default_instrumentation`] as diesel's default instrumentation.
///
/// No alias: OpenCensus's `sqlalchemy` could as well mean sqlx.
pub static INTEGRATION: Integration =
    Integration::new("diesel", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .with_on_enable(install_on_enable);

/// Why the default instrumentation could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install census as diesel's default instrumentation: {0}")]
pub struct InstallError(#[source] diesel::result::Error);

/// Makes [`default_instrumentation`] diesel's default, so that every
/// connection established from now on is traced (while the integration is
/// on). It replaces any default instrumentation set before; enabling the
/// integration calls it.
///
/// ```
/// census_diesel::install_default()?;
/// # Ok::<(), census_diesel::InstallError>(())
/// ```
pub fn install_default() -> Result<(), InstallError> {
    diesel::connection::set_default_instrumentation(default_instrumentation).map_err(InstallError)
}

fn install_on_enable() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Ok(install_default()?)
}
