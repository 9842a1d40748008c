//! census for outgoing HTTP through hyper, the counterpart of OpenCensus's
//! `httplib` integration: [`TraceClientLayer`] wraps any tower
//! `Service<http::Request<B>>` — hyper-util's `Client` is the reference —
//! so that each request becomes a Client span named after its method, with
//! `http.request.method`, `url.full` (credentials and signed or one-time
//! query parameters redacted), `server.address`, `server.port` and
//! `http.response.status_code`. The request carries the span as
//! OpenTelemetry's global propagator writes it (W3C `traceparent`,
//! `tracestate` and `baggage` with census's default), so the server's
//! spans join the same operation. A 4xx or 5xx response fails the span; so does
//! a transport error, whose `error.type` says `connect` or `timeout` when
//! the error shows it.
//!
//! Tracing is on while the `hyper` integration is enabled
//! (`census::config_integration::trace_integrations(&["hyper"])`; alias
//! `httplib`).
//!
//! # Features
//!
//! None: the layer works with any HTTP client service.
//!
//! ```
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use tower_layer::Layer;
//! # fn build<C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static>(connector: C) {
//! let client: Client<C, String> = Client::builder(TokioExecutor::new()).build(connector);
//! let traced = census_hyper::TraceClientLayer::new().layer(client);
//! # }
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod error;
mod layer;
mod service;

pub use layer::TraceClientLayer;
pub use service::{ClientOutcome, ResponseFuture, TraceClient};

/// The `hyper` integration (alias `httplib`): its switch and tracer.
pub static INTEGRATION: census_core::registry::Integration =
    census_core::registry::Integration::new(
        "hyper",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .with_aliases(&["httplib"]);
