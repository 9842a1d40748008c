//! Metric capture: the process's meter provider, exporting cumulative
//! points to memory when a test asks for them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{
    InMemoryMetricExporter, InMemoryMetricExporterBuilder, PeriodicReader, SdkMeterProvider,
    Temporality,
};

use super::attribute_map;

/// The process's metric capture.
#[derive(Debug)]
pub struct MetricCapture {
    exporter: InMemoryMetricExporter,
    provider: SdkMeterProvider,
}

/// One histogram point: a call's duration metric for one attribute set.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramPoint {
    /// The instrumentation scope (the integration's crate).
    pub scope: String,
    /// The metric's unit.
    pub unit: String,
    /// The point's attributes.
    pub attributes: BTreeMap<String, Value>,
    /// How many calls.
    pub count: u64,
    /// Their total.
    pub sum: f64,
    /// The bucket boundaries.
    pub bounds: Vec<f64>,
}

/// One point of a sum (a counter or up-down counter).
#[derive(Debug, Clone, PartialEq)]
pub struct SumPoint {
    /// The point's attributes.
    pub attributes: BTreeMap<String, Value>,
    /// The value.
    pub value: i64,
}

/// Installs the capture on first use, as the meter provider census's
/// integrations measure with: cumulative points, exported only when a
/// test reads them.
///
/// ```
/// let capture = census_pipeline::testing::metrics();
/// assert!(census_core::metrics::is_measuring());
/// assert!(capture.histogram("db.client.operation.duration").is_empty());
/// ```
pub fn metrics() -> &'static MetricCapture {
    static CAPTURE: OnceLock<MetricCapture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = MetricCapture::new();
        census_core::metrics::set_meter_provider_binding(capture.provider().clone());
        capture
    })
}

impl MetricCapture {
    /// A meter provider of its own, not installed, whose cumulative
    /// points a test reads: for a test that installs providers itself.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let exporter = InMemoryMetricExporterBuilder::new()
            .with_temporality(Temporality::Cumulative)
            .build();
        // Exports when asked (force_flush); the interval only bounds how
        // stale a point can get between two tests' reads.
        let reader = PeriodicReader::builder(exporter.clone())
            .with_interval(std::time::Duration::from_secs(3600))
            .build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        MetricCapture { exporter, provider }
    }

    /// The meter provider whose points it reads.
    pub fn provider(&self) -> &SdkMeterProvider {
        &self.provider
    }

    /// The latest export, taken now (or by a test running beside: the
    /// points are cumulative, so a later export holds everything an
    /// earlier one did).
    fn collect(&self) -> Option<ResourceMetrics> {
        self.provider.force_flush().expect("metrics flushed");
        self.exporter
            .get_finished_metrics()
            .expect("exported")
            .pop()
    }

    /// What `points` makes of each metric named `name` in the latest
    /// export, with its scope's name.
    fn points<P>(&self, name: &str, points: impl Fn(&str, &Metric) -> Vec<P>) -> Vec<P> {
        let Some(exported) = self.collect() else {
            return Vec::new();
        };
        exported
            .scope_metrics()
            .flat_map(|scope| {
                scope
                    .metrics()
                    .filter(|metric| metric.name() == name)
                    .flat_map(|metric| points(scope.scope().name(), metric))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Every point of the histogram `name` so far.
    pub fn histogram(&self, name: &str) -> Vec<HistogramPoint> {
        self.points(name, |scope, metric| match metric.data() {
            AggregatedMetrics::F64(MetricData::Histogram(histogram)) => histogram
                .data_points()
                .map(|point| HistogramPoint {
                    scope: scope.to_owned(),
                    unit: metric.unit().to_owned(),
                    attributes: attribute_map(point.attributes().cloned()),
                    count: point.count(),
                    sum: point.sum(),
                    bounds: point.bounds().collect(),
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    /// The points of `name`'s histogram whose attributes include `having`.
    pub fn histogram_with(&self, name: &str, having: &[(&str, Value)]) -> Vec<HistogramPoint> {
        self.histogram(name)
            .into_iter()
            .filter(|point| {
                having
                    .iter()
                    .all(|(key, value)| point.attributes.get(*key) == Some(value))
            })
            .collect()
    }

    /// Each point of `name`'s histogram whose attributes include
    /// `having`, as `(attributes, count)` in a fixed order
    /// ([`sorted_counts`]), checking that the integration `scope` recorded
    /// them all: what a test compares with the calls it made.
    pub fn counts(
        &self,
        name: &str,
        having: &[(&str, Value)],
        scope: &str,
    ) -> Vec<(BTreeMap<String, Value>, u64)> {
        let points = self.histogram_with(name, having);
        for point in &points {
            assert_eq!(point.scope, scope, "{point:?}");
            assert_eq!(point.unit, "s", "{point:?}");
        }
        sorted_counts(
            points
                .into_iter()
                .map(|p| (p.attributes, p.count))
                .collect(),
        )
    }

    /// The `http.server.active_requests` point of requests with
    /// `method`, if any was counted.
    pub fn active_requests(&self, method: &str) -> Option<SumPoint> {
        let method = Value::from(method.to_owned());
        self.sum("http.server.active_requests")
            .into_iter()
            .find(|point| point.attributes.get("http.request.method") == Some(&method))
    }

    /// Asserts that plain-HTTP `GET` requests were counted as active and
    /// that every one has ended: the point is 0, with the method and scheme
    /// as its only attributes.
    pub fn assert_no_active_get_requests(&self) {
        let active = self.active_requests("GET").expect("requests were counted");
        assert_eq!(active.value, 0);
        assert_eq!(
            active.attributes,
            attribute_map([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.scheme", "http"),
            ])
        );
    }

    /// Every point of the integer sum `name` so far.
    pub fn sum(&self, name: &str) -> Vec<SumPoint> {
        self.points(name, |_, metric| match metric.data() {
            AggregatedMetrics::I64(MetricData::Sum(sum)) => sum
                .data_points()
                .map(|point| SumPoint {
                    attributes: attribute_map(point.attributes().cloned()),
                    value: point.value(),
                })
                .collect(),
            _ => Vec::new(),
        })
    }
}

/// `counts` in the order [`MetricCapture::counts`] gives them (by
/// attributes), for a test's expected points.
pub fn sorted_counts(
    mut counts: Vec<(BTreeMap<String, Value>, u64)>,
) -> Vec<(BTreeMap<String, Value>, u64)> {
    // Values have no order of their own; their text gives one, whether a
    // string is held as static, owned or shared (their `Debug` forms
    // differ).
    counts.sort_by_cached_key(|(attributes, _)| {
        attributes
            .iter()
            .map(|(key, value)| format!("{key}={}\n", value.as_str()))
            .collect::<String>()
    });
    counts
}

/// The attributes of an HTTP call's duration metric: what `known` says of
/// the call (method, route or target), then its status code and, for an
/// error, `error.type`.
pub fn http_attributes(
    known: impl IntoIterator<Item = KeyValue>,
    status: i64,
    error: Option<&str>,
) -> BTreeMap<String, Value> {
    attribute_map(
        known
            .into_iter()
            .chain([KeyValue::new("http.response.status_code", status)])
            .chain(error.map(|e| KeyValue::new("error.type", e.to_owned()))),
    )
}

/// [`http_attributes`] of a plain-HTTP `GET` a server matched to `route`.
pub fn get_route_attributes(
    route: &str,
    status: i64,
    error: Option<&str>,
) -> BTreeMap<String, Value> {
    http_attributes(
        [
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.scheme", "http"),
            KeyValue::new("http.route", route.to_owned()),
        ],
        status,
        error,
    )
}
