//! census for reqwest: each request through a client with
//! [`TracingMiddleware`] becomes a Client span (named by its method) with
//! `http.request.method`, `url.full` (credentials and secret query
//! parameters redacted), `server.address`, `server.port` and
//! `http.response.status_code`, a child of the current context. The
//! request carries what OpenTelemetry's global propagator writes
//! (`traceparent`, `tracestate` and `baggage` with census's default), so
//! the called service continues the same operation. 4xx and 5xx responses and transport
//! failures set `error.type` and the error status.
//!
//! Tracing is on while the `reqwest` integration is enabled
//! (`census::config_integration::trace_integrations(&["reqwest"])`).
//!
//! # Features
//!
//! None: TLS and other reqwest features are the application's choice.
//!
//! ```
//! let client = census_reqwest::client();
//! // client.get("http://inventory/items/42").send().await?
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod middleware;

pub use middleware::TracingMiddleware;
pub use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};

/// The `reqwest` integration (alias `requests`): its switch and tracer.
pub static INTEGRATION: census_core::registry::Integration =
    census_core::registry::Integration::new(
        "reqwest",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .with_aliases(&["requests"]);

/// A new reqwest client with [`TracingMiddleware`].
pub fn client() -> ClientWithMiddleware {
    traced(reqwest::Client::new())
}

/// `client` with [`TracingMiddleware`]; add other middleware with
/// `reqwest_middleware::ClientBuilder` and `TracingMiddleware` directly.
pub fn traced(client: reqwest::Client) -> ClientWithMiddleware {
    ClientBuilder::new(client)
        .with(TracingMiddleware::new())
        .build()
}
