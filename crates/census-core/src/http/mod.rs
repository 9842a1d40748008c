//! What every HTTP integration (server middleware and clients alike) lets
//! its user configure, as tower-http and reqwest-tracing users expect:
//! which requests are traced ([`Exclusions`], a filter, a per-request
//! [`Untraced`] extension), what the span is called, and callbacks that
//! add attributes from the request and the response. Defaults trace
//! everything with no configuration.
//!
//! ```
//! use census_core::http::{Exclusions, HttpHooks};
//! use opentelemetry::KeyValue;
//! let hooks = HttpHooks::new()
//!     .exclusions(Exclusions::new().path("/health").path("/static/*"))
//!     .filter(|request| request.method() != http::Method::OPTIONS)
//!     .on_request(|request, span| {
//!         if let Some(user) = request.header("x-user-id") {
//!             span.set_attribute(KeyValue::new("enduser.id", user.to_owned()));
//!         }
//!     });
//! # let _ = hooks;
//! ```

pub(crate) mod authority;
mod exclusions;
pub(crate) mod header;
mod hooks;
mod opt_out;
mod request;

pub use exclusions::Exclusions;
pub use hooks::{HttpHooks, ResponseHook};
pub use opt_out::{Unpropagated, Untraced};
pub use request::RequestInfo;
