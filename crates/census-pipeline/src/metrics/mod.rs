//! The metrics half of the pipeline: the SDK meter provider the
//! [`TracerBuilder`](crate::TracerBuilder) builds beside the tracer
//! provider when given a metric exporter, how often it exports, and the
//! installation that makes census's integrations measure their calls
//! ([`census_core::metrics`]).

mod config;

pub use config::MetricExportConfig;
