use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;

use super::{ConsoleExporter, JsonLinesExporter};
use crate::test_support::SharedBuffer;

/// A server span with an internal and a client child; returns its trace id.
fn record_operation(provider: &SdkTracerProvider) -> String {
    let tracer = provider.tracer("test");
    let server = tracer
        .span_builder("GET /items/{id}")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("http.route", "/items/{id}")])
        .start(&tracer);
    let cx = Context::new().with_span(server);
    let mut internal = tracer
        .span_builder("compute")
        .with_kind(SpanKind::Internal)
        .start_with_context(&tracer, &cx);
    internal.end();
    let mut client = tracer
        .span_builder("SELECT items")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("db.query.text", "SELECT * FROM items WHERE id = ?"),
            KeyValue::new("server.port", 5432),
        ])
        .start_with_context(&tracer, &cx);
    client.set_status(Status::error("boom"));
    client.end();
    let trace_id = cx.span().span_context().trace_id().to_string();
    cx.span().end();
    trace_id
}

#[test]
fn json_lines_carry_ids_links_kinds_times_status_and_attributes() {
    let buffer = SharedBuffer::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(JsonLinesExporter::new(buffer.clone()))
        .build();
    let trace_id = record_operation(&provider);
    let text = buffer.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let by_name = |name: &str| lines.iter().find(|l| l["name"] == name).unwrap().clone();
    let (server, internal, client) = (
        by_name("GET /items/{id}"),
        by_name("compute"),
        by_name("SELECT items"),
    );

    assert_eq!(server["parent_span_id"], Value::Null);
    assert_eq!(server["kind"], "server");
    assert_eq!(server["status"], "unset");
    assert_eq!(
        server["attributes"],
        serde_json::json!({"http.route": "/items/{id}"})
    );
    for line in &lines {
        assert_eq!(line["trace_id"], trace_id.as_str());
        assert_eq!(line["span_id"].as_str().unwrap().len(), 16);
        for field in ["start_time", "end_time"] {
            let time = line[field].as_str().unwrap();
            assert!(time.ends_with('Z') && time.len() == 30, "{field}: {time}");
            humantime::parse_rfc3339(time).unwrap();
        }
    }
    assert_eq!(internal["parent_span_id"], server["span_id"]);
    assert_eq!(internal["kind"], "internal");
    assert_eq!(client["parent_span_id"], server["span_id"]);
    assert_eq!(client["kind"], "client");
    assert_eq!(client["status"], "error");
    assert_eq!(client["status_message"], "boom");
    assert_eq!(
        client["attributes"],
        serde_json::json!({"db.query.text": "SELECT * FROM items WHERE id = ?", "server.port": 5432})
    );
}

#[test]
fn console_prints_the_operation_as_a_tree_when_its_root_ends() {
    let buffer = SharedBuffer::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::with_writer(buffer.clone()))
        .build();
    let trace_id = record_operation(&provider);
    let text = buffer.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("── trace {trace_id} ──"));
    assert!(lines[1].starts_with("GET /items/{id} [server] "), "{text}");
    assert_eq!(lines[2], "│  http.route=/items/{id}");
    assert!(lines[3].starts_with("├─ compute [internal] "), "{text}");
    assert!(
        lines[4].starts_with("└─ SELECT items [client] ") && lines[4].ends_with("ERROR: boom"),
        "{text}"
    );
    assert_eq!(
        lines[5],
        "      db.query.text=\"SELECT * FROM items WHERE id = ?\" server.port=5432"
    );
    assert_eq!(lines[6], "", "a blank line closes the tree");
    assert_eq!(lines.len(), 7, "{text}");
}

#[test]
fn console_prints_orphans_on_shutdown() {
    let buffer = SharedBuffer::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::with_writer(buffer.clone()))
        .build();
    let tracer = provider.tracer("test");
    // A child of a remote parent: its root lives in another process.
    let remote = opentelemetry::trace::SpanContext::new(
        opentelemetry::trace::TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        opentelemetry::trace::SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        opentelemetry::trace::TraceFlags::SAMPLED,
        true,
        Default::default(),
    );
    let parent = Context::new().with_remote_span_context(remote);
    tracer.start_with_context("GET /orphan", &parent).end();
    assert_eq!(buffer.text(), "", "nothing before the root or shutdown");
    provider.shutdown().unwrap();
    let text = buffer.text();
    assert!(text.starts_with("── trace 4bf92f3577b34da6a3ce929d0e0e4736 ──\n(parent 00f067aa0ba902b7 is in another process)\nGET /orphan [internal]"), "{text}");
}
