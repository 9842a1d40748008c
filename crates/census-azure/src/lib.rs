//! Application Insights exporter for OpenTelemetry spans (Track API v2.1).
//!
//! Finished spans become Application Insights telemetry: Server and
//! Consumer spans are `requests`, Client, Producer and Internal spans are
//! `dependencies` (type `HTTP`, `postgresql`, `mysql`, `mongodb`, `SQL`,
//! `InProc`, ...), `exception` events are `exceptions` and other events
//! `traces` (messages), all correlated by operation id.
//!
//! Sending is gzip-compressed, on a delivery thread of the exporter's own
//! (no async runtime needed): an export waits for its batch at most
//! [`AzureExporterBuilder::export_wait`], so a slow endpoint never makes
//! the batch processor drop spans. Retryable failures (408, 429, 500, 502,
//! 503, 504, network errors, and the retryable items of a 206) are stored — in a bounded
//! directory by default, kept across restarts — and resent by a background
//! thread with exponential back-off and `Retry-After`. 307/308 move the
//! endpoint; 400, 402, 439 and other 4xx drop the items (counted).
//!
//! # Features
//!
//! TLS (rustls with the webpki roots) is always on.
//!
//! - `entra`: Microsoft Entra ID from the environment
//!   ([`ENV_AUTHENTICATION_STRING`]: a managed identity) and
//!   `EntraIdCredential` over any `azure_identity` credential. Without
//!   it, [`AzureExporterBuilder::credential`] takes any
//!   [`TokenCredential`] of your own.
//!
//! ```no_run
//! let exporter = census_azure::AzureExporter::from_env()?; // APPLICATIONINSIGHTS_CONNECTION_STRING
//! let tracer = census_pipeline::Tracer::builder().exporter_with_operation_names(exporter).build();
//! # Ok::<(), census_azure::AzureExporterError>(())
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authentication;
mod backoff;
mod connection_string;
mod credential;
mod delivery;
#[cfg(feature = "entra")]
mod entra;
mod envelope;
mod exporter;
mod format;
mod log_exporter;
mod log_mapping;
mod mapping;
mod metric_exporter;
mod metrics;
mod sdk_stats;
mod sender;
mod storage;
mod transport;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;

pub use authentication::{AuthenticationStringError, ENV_AUTHENTICATION_STRING};
pub use census_pipeline::sampling::SAMPLE_RATE_ATTRIBUTE;
pub use connection_string::{ConnectionString, ConnectionStringError, ENV_CONNECTION_STRING};
pub use credential::{AccessToken, CredentialError, DEFAULT_SCOPE, TokenCredential};
#[cfg(feature = "entra")]
#[cfg_attr(docsrs, doc(cfg(feature = "entra")))]
pub use entra::EntraIdCredential;
pub use exporter::{AzureExporter, AzureExporterBuilder, AzureExporterError, ExportStats};
pub use log_exporter::AzureLogExporter;
pub use mapping::RequestOutcome;
pub use metric_exporter::AzureMetricExporter;
pub use sdk_stats::{ENV_SDKSTATS_DISABLED, ENV_SDKSTATS_EXPORT_INTERVAL};
