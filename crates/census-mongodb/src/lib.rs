//! census for the [MongoDB driver](https://docs.rs/mongodb) (3.x): one
//! Client span per command (`find orders`), a child of the caller's
//! context, with `db.namespace`, `db.collection.name`,
//! `db.operation.name`, the server address and port, and
//! `db.response.status_code` on failure.
//!
//! The driver reports every command it sends to a command event handler
//! on its [`ClientOptions`](mongodb::options::ClientOptions); [`install`]
//! puts census's there, keeping a handler the application set. A command
//! whose caller drops its future ends when its connection goes back to the
//! pool, which the connection-pool handler hears. Handshake,
//! heartbeat and authentication commands are not reported. The command
//! text is recorded only when asked for ([`Commands::capture_text`]), and
//! then with every value masked.
//!
//! ```no_run
//! # async fn demo() -> mongodb::error::Result<()> {
//! use mongodb::{Client, bson::doc, options::ClientOptions};
//! census_mongodb::INTEGRATION.set_enabled(true); // or census::config_integration
//! let mut options = ClientOptions::parse("mongodb://127.0.0.1:27017").await?;
//! census_mongodb::install(&mut options);
//! let client = Client::with_options(options)?;
//! client.database("shop").collection::<mongodb::bson::Document>("orders")
//!     .find_one(doc! { "status": "open" }).await?;
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! None: the driver's features (TLS, DNS, compression) are the
//! application's choice.

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod command;
mod error;
mod handler;
mod in_flight;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

pub use handler::{Commands, install};

use census_core::registry::Integration;

/// The `mongodb` integration (alias `pymongo`), off until enabled.
pub static INTEGRATION: Integration =
    Integration::new("mongodb", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
        .with_aliases(&["pymongo"]);
