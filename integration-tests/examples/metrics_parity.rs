//! One scenario for `scripts/parity`: an axum service with census's
//! middleware answers 200, 404 and 500, each lookup one SQLite query
//! through sqlx, called through census's reqwest client; the program also
//! records its own counter and histogram through OpenTelemetry's global
//! meter. It prints one JSON document: the resource and every metric point
//! the SDK aggregated (delta, as the Application Insights exporter asks),
//! and the envelopes census's exporter makes of exactly those points. The
//! script feeds the same points to Microsoft's exporter and compares.

use std::error::Error;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use census::Tracer;
use census::sqlx::Traced;
use opentelemetry::{KeyValue, Value as OtelValue};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporterBuilder, Temporality};
use serde_json::{Map, Value, json};
use sqlx::SqlitePool;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let memory = InMemoryMetricExporterBuilder::new()
        .with_temporality(Temporality::LowMemory)
        .build();
    let tracer = Tracer::builder()
        .service_name("parity")
        .metric_exporter(memory.clone())
        .build();
    census::config_integration::try_trace_integrations(&["axum", "reqwest", "sqlx"])?;
    scenario().await?;
    let provider = tracer.meter_provider().ok_or("no meter provider")?;
    provider.force_flush()?;
    let metrics = memory.get_finished_metrics()?;
    let exporter = census::azure::AzureExporter::builder()
        .connection_string(
            "InstrumentationKey=0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b;\
             IngestionEndpoint=http://127.0.0.1:9/",
        )
        .disable_storage()
        .build()?
        .metric_exporter();
    let mut census_items = Vec::new();
    let mut points = Vec::new();
    for resource_metrics in &metrics {
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&exporter.encode(resource_metrics)?[..])
            .read_to_string(&mut plain)?;
        // The body is one JSON array of envelopes.
        census_items.extend(serde_json::from_str::<Vec<Value>>(&plain)?);
        points.extend(describe(resource_metrics));
    }
    let resource: Map<String, Value> = metrics
        .first()
        .map(|m| {
            m.resource()
                .iter()
                .map(|(k, v)| (k.to_string(), attribute(v)))
                .collect()
        })
        .unwrap_or_default();
    println!(
        "{}",
        json!({"resource": resource, "points": points, "census": census_items})
    );
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

async fn scenario() -> Result<(), Box<dyn Error>> {
    let db = Traced::new(SqlitePool::connect("sqlite::memory:").await?);
    let app = Router::new()
        .route("/users/{id}", get(user))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .with_state(db)
        .layer(census::tower::TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(axum::serve(listener, app).into_future());
    let client = census::reqwest::client();
    for path in ["/users/1", "/users/2", "/users/3", "/users/-1", "/fail"] {
        client.get(format!("http://{addr}{path}")).send().await?;
    }
    let meter = opentelemetry::global::meter("shop");
    let web = [
        KeyValue::new("channel", "web"),
        KeyValue::new("express", true),
    ];
    let placed = meter.u64_counter("orders.placed").build();
    placed.add(2, &web);
    placed.add(1, &web);
    let basket = meter.f64_histogram("basket.value").with_unit("EUR").build();
    for value in [12.5, 40.0, 7.25] {
        basket.record(value, &[KeyValue::new("channel", "web")]);
    }
    Ok(())
}

async fn user(
    State(db): State<Traced<SqlitePool>>,
    Path(id): Path<i64>,
) -> Result<String, StatusCode> {
    let name: Option<String> = sqlx::query_scalar("SELECT 'user-' || ? WHERE ? > 0")
        .bind(id)
        .bind(id)
        .fetch_optional(&db)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    name.ok_or(StatusCode::NOT_FOUND)
}

/// Every point, with what Microsoft's exporter reads of it.
fn describe(metrics: &ResourceMetrics) -> Vec<Value> {
    let mut out = Vec::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let points = match metric.data() {
                AggregatedMetrics::F64(data) => points(data, |v| json!(v)),
                AggregatedMetrics::U64(data) => points(data, |v| json!(v)),
                AggregatedMetrics::I64(data) => points(data, |v| json!(v)),
            };
            for point in points {
                let mut point = point;
                point["name"] = json!(metric.name());
                point["scope"] = json!(scope.scope().name());
                out.push(point);
            }
        }
    }
    out
}

fn points<T: Copy>(data: &MetricData<T>, number: impl Fn(T) -> Value) -> Vec<Value> {
    let attributes = |attrs: &mut dyn Iterator<Item = &KeyValue>| -> Map<String, Value> {
        attrs
            .map(|kv| (kv.key.to_string(), attribute(&kv.value)))
            .collect()
    };
    let number_point = |time, attrs: &mut dyn Iterator<Item = &KeyValue>, value| {
        json!({"kind": "number", "time": nanos(time),
               "attributes": attributes(attrs), "value": number(value)})
    };
    match data {
        MetricData::Sum(sum) => sum
            .data_points()
            .map(|p| number_point(sum.time(), &mut p.attributes(), p.value()))
            .collect(),
        MetricData::Gauge(gauge) => gauge
            .data_points()
            .map(|p| number_point(gauge.time(), &mut p.attributes(), p.value()))
            .collect(),
        MetricData::Histogram(histogram) => histogram
            .data_points()
            .map(|p| {
                json!({"kind": "histogram", "time": nanos(histogram.time()),
                       "attributes": attributes(&mut p.attributes()),
                       "sum": number(p.sum()), "count": p.count(),
                       "min": p.min().map(&number), "max": p.max().map(&number)})
            })
            .collect(),
        MetricData::ExponentialHistogram(_) => Vec::new(),
    }
}

fn attribute(value: &OtelValue) -> Value {
    match value {
        OtelValue::Bool(b) => json!(b),
        OtelValue::I64(i) => json!(i),
        OtelValue::F64(f) => json!(f),
        other => json!(other.to_string()),
    }
}

fn nanos(time: SystemTime) -> u128 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}
