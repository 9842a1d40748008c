//! census for actix-web servers, the counterpart of OpenCensus's Django
//! and Flask middleware: each incoming request becomes a Server span that
//! continues the caller's W3C trace context, named `{method} {route}`
//! (`GET /users/{id}`, from actix's `match_pattern`) — never the raw
//! path — with the same attributes as `census-tower`, built by the same
//! core function: `http.request.method`, `url.path`, `url.scheme`,
//! `http.route`, `server.address` and `server.port`, `client.address`
//! (`X-Forwarded-For`, else the peer), `user_agent.original` and
//! `http.response.status_code`.
//!
//! The handler runs inside the span's context, so the dependencies it
//! calls are its children. A 5xx response fails the span, with an
//! `exception` event when the handler returned an error; 4xx does not (it
//! is the client's error). A handler that panics fails the span with the
//! panic's message and is answered with a 500, so the client gets a
//! response and the worker goes on. The span ends when the response body
//! ends, so streamed responses are timed whole, and when the client goes
//! away mid-response.
//!
//! Tracing is on while the `actix` integration is enabled
//! (`census::config_integration::trace_integrations(&["actix"])`; alias
//! `actix-web`).
//!
//! # Features
//!
//! None.
//!
//! ```
//! use actix_web::{App, web};
//! let app = App::new()
//!     .wrap(census_actix::Trace::new())
//!     .route("/users/{id}", web::get().to(|| async { "hello" }));
//! ```

// docs.rs builds with `--cfg docsrs` on nightly: items behind a cargo
// feature are marked with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod future;
mod request;
mod service;

pub use body::TracedBody;
pub use future::TraceFuture;
pub use service::{Trace, TraceService};

/// The `actix` integration (alias `actix-web`): its switch and tracer.
pub static INTEGRATION: census_core::registry::Integration =
    census_core::registry::Integration::new(
        "actix",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    )
    .with_aliases(&["actix-web", "actix_web"]);
