//! The operation (incoming request) every span belongs to.
//!
//! Application Insights shows each item under its operation's name, the
//! name of the request that started it in this process. Children end
//! before their request and are often exported in an earlier batch, so
//! the name cannot be looked up at export time: it travels in the context
//! from the request's start, where a span processor reads it with
//! [`name`] when each span starts.

use opentelemetry::{Context, StringValue};

/// The name of the request a context belongs to.
#[derive(Debug, Clone)]
struct OperationName(StringValue);

/// `cx` marked as belonging to the request `name`, for the spans started
/// inside it. Census's lifecycle does this when a Server or Consumer span
/// starts; a hand-written server integration can do the same.
///
/// ```
/// let cx = census_core::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
/// assert_eq!(census_core::operation::name(&cx).map(|n| n.as_str()), Some("GET /orders/{id}"));
/// ```
pub fn within(cx: Context, name: impl Into<StringValue>) -> Context {
    cx.with_value(OperationName(name.into()))
}

/// The name of the request `cx` belongs to, if it belongs to one.
///
/// ```
/// assert!(census_core::operation::name(&opentelemetry::Context::new()).is_none());
/// ```
pub fn name(cx: &Context) -> Option<&StringValue> {
    cx.get::<OperationName>().map(|OperationName(name)| name)
}
