//! Starting and finishing dependency spans the same way in every integration.

mod sql;

pub use sql::SqlSpans;

use std::borrow::Cow;

use opentelemetry::trace::{SpanKind, SpanRef, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE,
};

use crate::registry::Integration;

/// Starts a span of `kind` for `integration` as a child of `parent`, and
/// returns `parent` with the new span as its active span.
///
/// ```
/// use census_core::registry::Integration;
/// use opentelemetry::{Context, trace::SpanKind};
/// let cx = census_core::span::start(Integration::Sqlx, SpanKind::Client, "SELECT users", vec![], &Context::current());
/// ```
pub fn start(
    integration: Integration,
    kind: SpanKind,
    name: impl Into<Cow<'static, str>>,
    attributes: Vec<KeyValue>,
    parent: &Context,
) -> Context {
    let tracer = integration.tracer();
    let span = tracer
        .span_builder(name)
        .with_kind(kind)
        .with_attributes(attributes)
        .start_with_context(&tracer, parent);
    parent.with_span(span)
}

/// Marks the span failed: `error.type`, error status with `message`, and an
/// `exception` event. `message` must already be free of secrets.
pub fn record_failure(
    span: &SpanRef<'_>,
    error_type: impl Into<Cow<'static, str>>,
    message: impl Into<Cow<'static, str>>,
) {
    let error_type = error_type.into();
    let message = message.into();
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type.clone()));
    span.add_event(
        "exception",
        vec![
            KeyValue::new(EXCEPTION_TYPE, error_type),
            KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
        ],
    );
    span.set_status(Status::error(message));
}
