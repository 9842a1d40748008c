//! The duration metric of every call an integration traces, sampled or
//! not: `http.server.request.duration` (with
//! `http.server.active_requests`), `http.client.request.duration`,
//! `db.client.operation.duration`, `rpc.server.call.duration` and
//! `rpc.client.call.duration`, with the semantic conventions' units,
//! bucket boundaries and low-cardinality attributes.
//!
//! Counts and latencies stay exact at any trace sampling rate: the
//! metric is measured around the span, whether or not the span records.
//! An integration describes its call once ([`CallMetric`]) and hands it
//! to its span ([`ActiveSpan::measured`](crate::span::ActiveSpan::measured));
//! the span records the duration when it ends, with the outcome's
//! `error.type` and status code.
//!
//! Metrics are measured only once a meter provider is installed
//! ([`set_meter_provider`]; census's pipeline does it when metrics are
//! exported): until then a span reads no clock and builds no attributes.
//!
//! ```
//! use census_core::metrics::CallMetric;
//! use census_core::model::{DbSystem, Target};
//! let metric = CallMetric::database(DbSystem::Postgres, &Target::new().with_host("db").with_port(5432))
//!     .with_operation("SELECT")
//!     .with_collection("users");
//! assert_eq!(metric.name(), "db.client.operation.duration");
//! ```

mod boundaries;
mod call;
mod clock;
mod instruments;
mod kept;
mod measurement;
mod routes;
mod site;

pub use boundaries::{DB_DURATION_BOUNDARIES, HTTP_DURATION_BOUNDARIES, RPC_DURATION_BOUNDARIES};
pub use call::{CallKind, CallMetric};
pub(crate) use instruments::InstrumentCache;
pub use instruments::{
    is_measuring, set_measuring, set_meter_provider, set_meter_provider_binding,
};
pub(crate) use measurement::Measurement;
