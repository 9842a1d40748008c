//! How the local exporters spell kinds, statuses, times and values.

use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, Value};

pub(crate) fn kind_name(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Internal => "internal",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

pub(crate) fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Unset => "unset",
        Status::Ok => "ok",
        Status::Error { .. } => "error",
    }
}

/// RFC 3339 in UTC with a `Z`, to the nanosecond.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_nanos(time).to_string()
}

pub(crate) fn elapsed(start: SystemTime, end: SystemTime) -> Duration {
    end.duration_since(start).unwrap_or_default()
}

pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Bool(b) => J::Bool(*b),
        Value::I64(i) => J::from(*i),
        Value::F64(f) => J::from(*f),
        Value::String(s) => J::String(s.as_str().to_owned()),
        Value::Array(array) => J::Array(match array {
            Array::Bool(v) => v.iter().map(|b| J::Bool(*b)).collect(),
            Array::I64(v) => v.iter().map(|i| J::from(*i)).collect(),
            Array::F64(v) => v.iter().map(|f| J::from(*f)).collect(),
            Array::String(v) => v.iter().map(|s| J::String(s.as_str().to_owned())).collect(),
            _ => Vec::new(),
        }),
        _ => J::String(value.to_string()),
    }
}
