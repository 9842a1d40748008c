//! census for tower servers (axum, hyper, tonic): each incoming request
//! becomes a Server span that continues the caller's W3C trace context,
//! named `{method} {route}` (`GET /users/{id}`) — the route template,
//! never the raw path — with `http.request.method`, `url.path`,
//! `url.query` (secret values redacted), `url.scheme`, `http.route`,
//! `server.address` and `server.port` (from the `Host` header),
//! `client.address` (from `X-Forwarded-For`, else the peer when the app is
//! served with `into_make_service_with_connect_info`),
//! `user_agent.original` and `http.response.status_code`.
//!
//! A gRPC call (tonic: `Server::builder().layer(TraceLayer::new())`) is
//! named by its method (`demo.Greeter/SayHello`) with `rpc.system.name`,
//! `rpc.method` and `rpc.response.status_code` from its `grpc-status`
//! (in the trailers, or in the head of an error), which decides the
//! outcome: only codes that point at the server fail the span.
//! A 5xx response, a service error or a failing body marks the span
//! failed; 4xx does not (it is the client's error). The handler runs inside
//! the span's context, so the dependencies it calls are children of the
//! request, and the span ends when the response body ends, so streamed
//! responses are timed whole.
//!
//! Tracing is on while the `tower` integration is enabled
//! (`census::config_integration::trace_integrations(&["tower"])`).
//!
//! # Features
//!
//! - `axum` (default): the route template comes from axum's `MatchedPath`;
//!   add the layer with `Router::layer` so that it runs after routing.
//!
//! ```
//! use axum::{Router, routing::get};
//! use census_tower::TraceLayer;
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "hello" }))
//!     .layer(TraceLayer::new());
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod future;
mod layer;
mod service;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::TraceLayer;
pub use service::Trace;

/// The `tower` integration (alias `axum`): its switch and tracer.
pub static INTEGRATION: census_core::registry::Integration =
    census_core::registry::Integration::new(
        "tower",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .with_aliases(&["axum"]);
