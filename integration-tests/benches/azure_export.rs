//! The Application Insights exporter on a batch of 512 realistic spans:
//! converting and serializing them to the gzip request body (items/s), and
//! exporting them to the same local ingestion server as the
//! `opentelemetry-application-insights` crate's exporter, in the same run.

use std::time::Duration;

use census::azure::AzureExporter;
use census_integration_tests::ingestion::Ingestion;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;
use opentelemetry::KeyValue;
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData, SpanExporter};

const BATCH: usize = 512;

/// 64 operations of 8 spans, shaped like the quickstart's: a request with
/// in-process work, SQL and HTTP dependencies, and a failing query.
fn realistic_batch() -> Vec<SpanData> {
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("bench");
    for op in 0..BATCH / 8 {
        let server = tracer
            .span_builder("GET /orders/{id}")
            .with_kind(SpanKind::Server)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.path", format!("/orders/{op}")),
                KeyValue::new("url.scheme", "http"),
                KeyValue::new("http.route", "/orders/{id}"),
                KeyValue::new("server.address", "shop.internal"),
                KeyValue::new("server.port", 8080),
                KeyValue::new("http.response.status_code", 200),
                KeyValue::new("user_agent.original", "census-bench/1.0"),
            ])
            .start(&tracer);
        let cx = opentelemetry::Context::new().with_span(server);
        tracer
            .span_builder("validate order")
            .with_kind(SpanKind::Internal)
            .start_with_context(&tracer, &cx)
            .end();
        for table in ["products", "stock", "prices"] {
            tracer
                .span_builder(format!("SELECT {table}"))
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "postgresql"),
                    KeyValue::new("db.query.text", format!("SELECT id, name, price, status FROM {table} WHERE sku = $1 AND status = ?")),
                    KeyValue::new("db.operation.name", "SELECT"),
                    KeyValue::new("db.collection.name", table),
                    KeyValue::new("db.query.summary", format!("SELECT {table}")),
                    KeyValue::new("db.namespace", "shop"),
                    KeyValue::new("server.address", "db.internal"),
                    KeyValue::new("server.port", 5432),
                ])
                .start_with_context(&tracer, &cx)
                .end();
        }
        for path in ["stock", "pricing"] {
            tracer
                .span_builder("GET")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("http.request.method", "GET"),
                    KeyValue::new(
                        "url.full",
                        format!("http://{path}.internal:8081/{path}/{op}?sig=REDACTED"),
                    ),
                    KeyValue::new("server.address", format!("{path}.internal")),
                    KeyValue::new("server.port", 8081),
                    KeyValue::new("http.response.status_code", 200),
                ])
                .start_with_context(&tracer, &cx)
                .end();
        }
        let mut failing = tracer
            .span_builder("INSERT audit")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("db.system.name", "postgresql"),
                KeyValue::new(
                    "db.query.text",
                    "INSERT INTO audit (order_id, at) VALUES ($1, now())",
                ),
                KeyValue::new("error.type", "23505"),
            ])
            .start_with_context(&tracer, &cx);
        failing.set_status(Status::error(
            "duplicate key value violates unique constraint",
        ));
        failing.end();
        cx.span().end();
    }
    let spans = memory.get_finished_spans().unwrap();
    assert_eq!(spans.len(), BATCH);
    spans
}

fn export(c: &mut Criterion) {
    let spans = realistic_batch();
    let server = Ingestion::start();
    server.discard_items();
    let census = AzureExporter::builder()
        .connection_string(server.connection_string())
        .disable_storage()
        .build()
        .unwrap();

    let mut encode = c.benchmark_group("azure_encode");
    encode.throughput(Throughput::Elements(BATCH as u64));
    encode.bench_function("census_gzip_body_512", |b| {
        b.iter(|| census.encode(&spans).unwrap())
    });
    encode.finish();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // Its connection-string parser forces https; `with_endpoint` keeps the
    // plain-http loopback endpoint both exporters must share.
    #[allow(deprecated)]
    let theirs = opentelemetry_application_insights::Exporter::new_from_connection_string(
        server.connection_string(),
        reqwest::Client::new(),
    )
    .unwrap()
    .with_endpoint(&format!("http://{}", server.addr()))
    .unwrap();
    let mut send = c.benchmark_group("azure_export_to_local_ingestion");
    send.throughput(Throughput::Elements(BATCH as u64));
    send.bench_function("census", |b| {
        b.iter(|| {
            census
                .export(spans.clone())
                .now_or_never()
                .unwrap()
                .unwrap()
        })
    });
    send.bench_function("opentelemetry-application-insights", |b| {
        b.iter(|| runtime.block_on(theirs.export(spans.clone())).unwrap())
    });
    send.finish();
    assert_eq!(census.stats().dropped(), 0);
    census
        .shutdown_with_timeout(Duration::from_secs(2))
        .unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = export
}
criterion_main!(benches);
