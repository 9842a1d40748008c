//! The log scenario of `scripts/parity`: through census's `tracing` bridge
//! a program writes a line outside any request, a warning and an
//! exception inside one, and a custom event. It prints one JSON document:
//! the resource, every log record as the SDK holds it (what Microsoft's
//! exporter reads of it), and the envelope census's exporter makes of
//! each. `scripts/parity_logs.py` feeds the same records to Microsoft's
//! exporter and compares.

use std::error::Error;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use census::Tracer;
use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::logs::{InMemoryLogExporter, LogBatch, SdkLogRecord};
use serde_json::{Map, Value, json};
use tracing_subscriber::layer::SubscriberExt as _;

fn main() -> Result<(), Box<dyn Error>> {
    let memory = InMemoryLogExporter::default();
    let tracer = Tracer::builder()
        .service_name("parity")
        .log_exporter(memory.clone())
        .install(false)
        .build();
    let subscriber = tracing_subscriber::registry().with(census::tracing::logs_layer(
        &tracer,
        census::tracing::log_filter("info")?,
    ));
    tracing::subscriber::with_default(subscriber, || scenario(&tracer));
    tracer
        .logger_provider()
        .ok_or("no logger provider")?
        .force_flush()?;
    let logs = memory.get_emitted_logs()?;
    let exporter = census::azure::AzureExporter::builder()
        .connection_string(
            "InstrumentationKey=0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b;\
             IngestionEndpoint=http://127.0.0.1:9/",
        )
        .disable_storage()
        .build()?;
    let mut exporter = exporter.log_exporter();
    let resource = logs.first().ok_or("no records")?.resource.clone();
    opentelemetry_sdk::logs::LogExporter::set_resource(&mut exporter, &resource);
    let batch: Vec<_> = logs
        .iter()
        .map(|log| (&log.record, &log.instrumentation))
        .collect();
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&exporter.encode(&LogBatch::new(&batch))?[..])
        .read_to_string(&mut plain)?;
    let census_items: Vec<Value> = serde_json::from_str(&plain)?;
    let records: Vec<Value> = logs.iter().map(|log| describe(&log.record)).collect();
    let resource: Map<String, Value> = resource
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_string())))
        .collect();
    println!(
        "{}",
        json!({"resource": resource, "records": records, "census": census_items})
    );
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

fn scenario(tracer: &Tracer) {
    tracing::info!(port = 8080, "service started");
    let _request = tracer.span("POST /checkout");
    tracing::warn!(order_id = 42, express = true, total = 12.5, "stock low");
    tracing::error!(
        "exception.type" = "GatewayError",
        "exception.message" = "card declined",
        "exception.stacktrace" = "GatewayError: card declined\n    at pay (checkout.rs:42)",
        order_id = 42,
        "payment failed"
    );
    tracing::info!(
        "microsoft.custom_event.name" = "checkout.completed",
        cart.items = 3,
        "checkout"
    );
}

/// What Microsoft's exporter reads of a record.
fn describe(record: &SdkLogRecord) -> Value {
    let nanos = |t: Option<SystemTime>| {
        t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as u64)
    };
    let trace = record.trace_context();
    json!({
        "body": record.body().map(value),
        "severity_number": record.severity_number().map(|s| s as u8),
        "severity_text": record.severity_text(),
        "timestamp": nanos(record.timestamp()),
        "observed_timestamp": nanos(record.observed_timestamp()),
        "trace_id": trace.map(|t| t.trace_id.to_string()),
        "span_id": trace.map(|t| t.span_id.to_string()),
        "sampled": trace.and_then(|t| t.trace_flags).map(|f| f.is_sampled()),
        "target": record.target().map(|t| t.to_string()),
        "attributes": record
            .attributes_iter()
            .map(|(k, v)| (k.to_string(), value(v)))
            .collect::<Map<String, Value>>(),
    })
}

fn value(value: &AnyValue) -> Value {
    match value {
        AnyValue::String(s) => json!(s.as_str()),
        AnyValue::Int(i) => json!(i),
        AnyValue::Double(d) => json!(d),
        AnyValue::Boolean(b) => json!(b),
        other => json!(format!("{other:?}")),
    }
}
