//! The console's metrics table: each measured route and dependency, its
//! calls, failures and latency percentiles, printed once at shutdown,
//! after the trees.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Mutex;

use census_core::metrics::CallKind;
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, HistogramDataPoint, MetricData, ResourceMetrics,
};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_semantic_conventions::attribute::{
    DB_COLLECTION_NAME, DB_OPERATION_NAME, DB_SYSTEM_NAME, ERROR_TYPE, HTTP_REQUEST_METHOD,
    HTTP_ROUTE, RPC_METHOD, SERVER_ADDRESS, SERVER_PORT,
};

/// The duration metrics census's integrations record, and how the table
/// names the side of a call each describes.
const DURATIONS: [(CallKind, &str); 5] = [
    (CallKind::HttpServer, "http server"),
    (CallKind::HttpClient, "http client"),
    (CallKind::Database, "database"),
    (CallKind::RpcServer, "rpc server"),
    (CallKind::RpcClient, "rpc client"),
];

/// Prints, when the meter provider shuts down, one line per route and per
/// dependency measured since start: calls, failures (`error.type` set),
/// and the 50th and 99th percentile latencies estimated from the
/// histogram's buckets.
///
/// ```text
/// ── metrics ──
///  calls  failed   p50 ms   p99 ms  what
///      3       0     1.07     1.92  http server GET /orders/{sku}
///      3       0     0.17     0.24  database sqlite SELECT products
/// ```
///
/// Exports in between only keep the latest (cumulative) figures: the
/// console shows them once, complete.
///
/// ```
/// let exporter = census_pipeline::export::ConsoleMetricsExporter::new();
/// ```
pub struct ConsoleMetricsExporter {
    state: Mutex<Table>,
}

struct Table {
    out: Box<dyn Write + Send>,
    rows: BTreeMap<(usize, String), Row>,
    printed: bool,
}

/// One line: every point of one call description, whatever its outcome.
#[derive(Debug, Default, Clone, PartialEq)]
struct Row {
    calls: u64,
    failed: u64,
    bounds: Vec<f64>,
    buckets: Vec<u64>,
    /// The fastest and slowest call, which narrow the first and last
    /// buckets a percentile falls in (seconds).
    min: f64,
    max: f64,
}

impl std::fmt::Debug for ConsoleMetricsExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleMetricsExporter")
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleMetricsExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleMetricsExporter {
    /// Prints to standard output.
    pub fn new() -> Self {
        Self::with_writer(io::stdout())
    }

    /// Prints to `writer`.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            state: Mutex::new(Table {
                out: Box::new(writer),
                rows: BTreeMap::new(),
                printed: false,
            }),
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PushMetricExporter for ConsoleMetricsExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut rows = BTreeMap::new();
        for scope in metrics.scope_metrics() {
            for metric in scope.metrics() {
                let Some(side) = DURATIONS
                    .iter()
                    .position(|(kind, _)| kind.metric_name() == metric.name())
                else {
                    continue;
                };
                if let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() {
                    for point in histogram.data_points() {
                        let row: &mut Row = rows.entry((side, describe(side, point))).or_default();
                        row.add(point);
                    }
                }
            }
        }
        // Cumulative: the latest export holds everything so far.
        self.table().rows = rows;
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        let mut table = self.table();
        if table.printed || table.rows.is_empty() {
            return Ok(());
        }
        table.printed = true;
        let text = render(&table.rows);
        table
            .out
            .write_all(text.as_bytes())
            .and_then(|()| table.out.flush())
            .map_err(|error| OTelSdkError::InternalFailure(error.to_string()))
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

impl Row {
    fn add(&mut self, point: &HistogramDataPoint<f64>) {
        self.calls += point.count();
        if point.attributes().any(|kv| kv.key.as_str() == ERROR_TYPE) {
            self.failed += point.count();
        }
        if self.bounds.is_empty() {
            self.bounds = point.bounds().collect();
            self.buckets = vec![0; self.bounds.len() + 1];
            self.min = f64::INFINITY;
        }
        self.min = self.min.min(point.min().unwrap_or(f64::INFINITY));
        self.max = self.max.max(point.max().unwrap_or(0.0));
        for (total, count) in self.buckets.iter_mut().zip(point.bucket_counts()) {
            *total += count;
        }
    }

    /// The `q` quantile in milliseconds, interpolated linearly inside the
    /// bucket it falls in, narrowed to the fastest and slowest call (the
    /// buckets are coarse: a first bucket of 0–5 ms would put every fast
    /// request at 2.5 ms).
    fn quantile_ms(&self, q: f64) -> f64 {
        let rank = q * self.calls as f64;
        let mut below = 0.0;
        for (i, &count) in self.buckets.iter().enumerate() {
            let count = count as f64;
            if count > 0.0 && below + count >= rank {
                let lower = if i == 0 { 0.0 } else { self.bounds[i - 1] };
                let upper = self.bounds.get(i).copied().unwrap_or(self.max);
                let (lower, upper) = (lower.max(self.min), upper.min(self.max));
                let at = if upper > lower {
                    lower + (upper - lower) * ((rank - below) / count)
                } else {
                    lower
                };
                return at * 1000.0;
            }
            below += count;
        }
        0.0
    }
}

/// The line's description of a call: its method and route, its target,
/// or its database operation and table.
fn describe(side: usize, point: &HistogramDataPoint<f64>) -> String {
    let attribute = |key: &str| {
        point
            .attributes()
            .find(|kv: &&KeyValue| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
    };
    let parts: Vec<String> = match DURATIONS[side].0 {
        CallKind::HttpServer => vec![attribute(HTTP_REQUEST_METHOD), attribute(HTTP_ROUTE)],
        CallKind::HttpClient => vec![
            attribute(HTTP_REQUEST_METHOD),
            attribute(SERVER_ADDRESS).map(|host| match attribute(SERVER_PORT) {
                Some(port) => format!("{host}:{port}"),
                None => host,
            }),
        ],
        CallKind::Database => vec![
            attribute(DB_SYSTEM_NAME),
            attribute(DB_OPERATION_NAME),
            attribute(DB_COLLECTION_NAME),
        ],
        _ => vec![attribute(RPC_METHOD)],
    }
    .into_iter()
    .flatten()
    .collect();
    format!("{} {}", DURATIONS[side].1, parts.join(" "))
}

fn render(rows: &BTreeMap<(usize, String), Row>) -> String {
    let mut text = String::from("── metrics ──\n calls  failed   p50 ms   p99 ms  what\n");
    for ((_, what), row) in rows {
        let _ = writeln!(
            text,
            "{:>6}  {:>6}  {:>7.2}  {:>7.2}  {what}",
            row.calls,
            row.failed,
            row.quantile_ms(0.5),
            row.quantile_ms(0.99),
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(bounds: &[f64], buckets: &[u64], min: f64, max: f64) -> Row {
        Row {
            calls: buckets.iter().sum(),
            failed: 0,
            bounds: bounds.to_vec(),
            buckets: buckets.to_vec(),
            min,
            max,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn percentiles_are_interpolated_inside_their_bucket_and_the_extremes() {
        // 10 calls from 1 to 10 ms: 4 under 5 ms, 6 between 5 and 10 ms.
        let r = row(&[0.005, 0.01], &[4, 6, 0], 0.001, 0.010);
        assert!(close(r.quantile_ms(0.5), 5.0 + 5.0 / 6.0));
        assert!(close(r.quantile_ms(0.99), 5.0 + 5.0 * 5.9 / 6.0));
        assert!(
            close(r.quantile_ms(0.2), 1.0 + 4.0 * 0.5),
            "{}",
            r.quantile_ms(0.2)
        );
        // All in one bucket: between the fastest and the slowest call.
        let fast = row(&[0.005, 0.01], &[4, 0, 0], 0.0002, 0.0006);
        assert!(close(fast.quantile_ms(0.5), 0.4));
        // Past the last bound: up to the slowest call.
        let slow = row(&[0.005, 0.01], &[0, 0, 2], 0.012, 0.020);
        assert!(close(slow.quantile_ms(0.5), 16.0));
    }
}
