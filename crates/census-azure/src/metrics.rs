//! Metric points to `MetricData` envelopes, as Microsoft's exporters map
//! them: the call-duration metrics census's integrations record become the
//! standard metrics `requests/duration` and `dependencies/duration` (which
//! the portal's request and dependency charts and alerts read), every
//! other instrument a custom metric (`customMetrics`).

use std::time::SystemTime;

use census_core::metrics::CallKind;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_semantic_conventions::attribute as semconv;

use crate::envelope::{BaseData, Envelope, MetricDataPoint, MetricsData, Properties};
use crate::format::{python_bool, truncate};
use crate::mapping::{
    Attrs, Identity, RequestOutcome, build, database, host_port, process_tags, properties,
};

/// The envelopes of every point in `metrics`, one each.
pub(crate) fn metric_envelopes(identity: &Identity, metrics: &ResourceMetrics) -> Vec<Envelope> {
    let mut out = Vec::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let points = match metric.data() {
                AggregatedMetrics::F64(data) => points(data),
                AggregatedMetrics::U64(data) => points(data),
                AggregatedMetrics::I64(data) => points(data),
            };
            out.extend(
                points
                    .into_iter()
                    .map(|point| envelope(identity, metric.name(), point)),
            );
        }
    }
    out
}

/// One point, whatever its aggregation: a histogram's sum, count, min and
/// max, or a counter's or gauge's value counted once.
struct Point {
    time: SystemTime,
    attributes: Vec<KeyValue>,
    value: f64,
    count: u64,
    min: Option<f64>,
    max: Option<f64>,
}

/// The value types the SDK aggregates, as the `f64` the Track API takes.
trait Number: Copy {
    fn to_f64(self) -> f64;
}

impl Number for f64 {
    fn to_f64(self) -> f64 {
        self
    }
}

impl Number for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Number for i64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

fn points<T: Number>(data: &MetricData<T>) -> Vec<Point> {
    let single = |time, attributes: &mut dyn Iterator<Item = &KeyValue>, value: T| Point {
        time,
        attributes: attributes.cloned().collect(),
        value: value.to_f64(),
        count: 1,
        min: None,
        max: None,
    };
    match data {
        MetricData::Gauge(gauge) => gauge
            .data_points()
            .map(|p| single(gauge.time(), &mut p.attributes(), p.value()))
            .collect(),
        MetricData::Sum(sum) => sum
            .data_points()
            .map(|p| single(sum.time(), &mut p.attributes(), p.value()))
            .collect(),
        MetricData::Histogram(histogram) => histogram
            .data_points()
            .map(|p| Point {
                time: histogram.time(),
                attributes: p.attributes().cloned().collect(),
                value: p.sum().to_f64(),
                count: p.count(),
                min: p.min().map(Number::to_f64),
                max: p.max().map(Number::to_f64),
            })
            .collect(),
        MetricData::ExponentialHistogram(histogram) => histogram
            .data_points()
            .map(|p| Point {
                time: histogram.time(),
                attributes: p.attributes().cloned().collect(),
                value: p.sum().to_f64(),
                count: p.count() as u64,
                min: p.min().map(Number::to_f64),
                max: p.max().map(Number::to_f64),
            })
            .collect(),
    }
}

fn envelope(identity: &Identity, name: &str, point: Point) -> Envelope {
    let attrs = Attrs(&point.attributes);
    let mut tags = process_tags(identity);
    tags.insert("ai.internal.nodeName", identity.role_instance.clone());
    if synthetic(&attrs) {
        tags.insert("ai.operation.syntheticSource", "True".into());
    }
    let properties = match CallKind::from_metric_name(name) {
        Some(kind) => standard(identity, kind, &attrs),
        None => properties(point.attributes.iter()),
    };
    let data = MetricsData {
        ver: 2,
        metrics: vec![MetricDataPoint {
            name: truncate(name.to_owned(), 1024),
            value: point.value,
            count: point.count,
            min: point.min,
            max: point.max,
        }],
        properties,
    };
    build(identity, point.time, None, tags, BaseData::Metric(data))
}

/// Microsoft's test for synthetic traffic: a bot or test user agent.
fn synthetic(attrs: &Attrs<'_>) -> bool {
    attrs
        .get(semconv::USER_AGENT_SYNTHETIC_TYPE)
        .is_some_and(|kind| matches!(kind.as_str().as_ref(), "bot" | "test"))
}

/// The standard metric's dimensions for a call of `kind`, in place of the
/// point's attributes (as Microsoft's exporters send them: the portal
/// splits standard metrics by these and nothing else).
fn standard(identity: &Identity, kind: CallKind, attrs: &Attrs<'_>) -> Properties {
    let mut properties = Properties::new();
    let mut put = |key: &str, value: String| {
        properties.insert(key.to_owned(), value);
    };
    let failed = attrs.get(semconv::ERROR_TYPE).is_some();
    let code = |key: &str| attrs.string(key).unwrap_or_else(|| "0".into());
    let status = match attrs.get(semconv::HTTP_RESPONSE_STATUS_CODE) {
        Some(Value::I64(code)) => u16::try_from(*code).ok(),
        _ => None,
    };
    // Microsoft's exporters write a request without a status as 0.
    let http_status = status.map_or(0, i64::from);
    let request = match kind {
        CallKind::HttpServer => {
            put("request/resultCode", http_status.to_string());
            if attrs.get(semconv::USER_AGENT_SYNTHETIC_TYPE).is_some() {
                put("operation/synthetic", "True".into());
            }
            let outcome = RequestOutcome::http(status, failed);
            Some((identity.request_success.0)(&outcome))
        }
        CallKind::RpcServer => {
            put(
                "request/resultCode",
                code(semconv::RPC_RESPONSE_STATUS_CODE),
            );
            Some(!failed)
        }
        _ => None,
    };
    if let Some(success) = request {
        put("_MS.MetricId", "requests/duration".into());
        put("Request.Success", python_bool(success).to_owned());
    } else {
        let (kind, target, result, success) = match kind {
            CallKind::HttpClient => (
                "http".to_owned(),
                http_target(attrs),
                http_status.to_string(),
                (1..400).contains(&http_status),
            ),
            CallKind::Database => {
                let system = attrs
                    .string(semconv::DB_SYSTEM_NAME)
                    .unwrap_or_else(|| "other_sql".into());
                let (kind, target) = database(system, attrs);
                (
                    kind,
                    target,
                    code(semconv::DB_RESPONSE_STATUS_CODE),
                    !failed,
                )
            }
            _ => (
                attrs
                    .string(semconv::RPC_SYSTEM_NAME)
                    .unwrap_or_else(|| "grpc".into()),
                host_port(attrs).unwrap_or_default(),
                code(semconv::RPC_RESPONSE_STATUS_CODE),
                !failed,
            ),
        };
        put("_MS.MetricId", "dependencies/duration".into());
        put("Dependency.Type", kind);
        put("Dependency.Success", python_bool(success).to_owned());
        put("dependency/target", truncate(target, 1024));
        put("dependency/resultCode", result);
    }
    put("_MS.IsAutocollected", "True".into());
    put("cloud/roleInstance", identity.role_instance.clone());
    put("cloud/roleName", identity.role.clone().unwrap_or_default());
    properties
}

/// An HTTP dependency's target as Microsoft's exporters derive it from
/// the metric's attributes: the host, with the port unless it is the
/// scheme's default.
fn http_target(attrs: &Attrs<'_>) -> String {
    let Some(host) = attrs.string(semconv::SERVER_ADDRESS) else {
        return String::new();
    };
    let default_port = match attrs.get(semconv::URL_SCHEME).map(Value::as_str).as_deref() {
        Some("http") => 80,
        Some("https") => 443,
        _ => 0,
    };
    match attrs.get(semconv::SERVER_PORT) {
        Some(Value::I64(port)) if *port == default_port => host,
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

#[cfg(test)]
mod tests;
