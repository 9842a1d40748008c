use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanExporter as _};
use serde_json::Value;

use super::{ConsoleExporter, JsonLinesExporter};
use crate::testing::SharedBuffer;

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

/// `text` with every span's duration written as `_`, so trees compare exactly.
fn without_durations(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match (line.find("] "), line.find(" ms")) {
            (Some(kind_end), Some(ms)) if kind_end < ms => {
                out.push_str(&line[..kind_end + 2]);
                out.push('_');
                out.push_str(&line[ms..]);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// `lines`, each ended by a newline.
fn lines(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

fn console_provider() -> (SdkTracerProvider, SharedBuffer) {
    let buffer = SharedBuffer::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(ConsoleExporter::with_writer(buffer.clone()))
        .build();
    (provider, buffer)
}

/// The context a server extracts from `traceparent` when `caller` made the call.
fn continued_from(caller: &SpanContext) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        caller.trace_id(),
        caller.span_id(),
        caller.trace_flags(),
        true,
        caller.trace_state().clone(),
    ))
}

fn remote_caller() -> SpanContext {
    SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        Default::default(),
    )
}

#[test]
fn console_prints_a_continued_operation_when_its_local_root_ends() {
    let (provider, buffer) = console_provider();
    let tracer = provider.tracer("test");
    let server = tracer
        .span_builder("GET /orders/{id}")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &continued_from(&remote_caller()));
    let cx = Context::new().with_span(server);
    tracer
        .span_builder("SELECT items")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &cx)
        .end();
    assert_eq!(buffer.text(), "", "the server span is still running");
    cx.span().end();
    assert_eq!(
        without_durations(&buffer.text()),
        lines(&[
            "── trace 4bf92f3577b34da6a3ce929d0e0e4736 ──",
            "(parent 00f067aa0ba902b7 is in another process)",
            "GET /orders/{id} [server] _ ms",
            "└─ SELECT items [client] _ ms",
            "",
        ]),
        "printed without waiting for shutdown"
    );
}

/// The quickstart's shape: a client call comes back into this process as a
/// server span continuing it, whose own call comes back again. Returns the
/// trace id and the outer client span's id; the spans end innermost first,
/// as requests do.
fn record_a_process_calling_itself(provider: &SdkTracerProvider) -> (TraceId, SpanId) {
    let tracer = provider.tracer("test");
    let client = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .start(&tracer);
    let client = Context::new().with_span(client);
    let order = tracer
        .span_builder("GET /orders/{sku}")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &continued_from(client.span().span_context()));
    let order = Context::new().with_span(order);
    tracer
        .span_builder("validate order")
        .start_with_context(&tracer, &order)
        .end();
    let call = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &order);
    let call = order.with_span(call);
    tracer
        .span_builder("GET /stock/{sku}")
        .with_kind(SpanKind::Server)
        .start_with_context(&tracer, &continued_from(call.span().span_context()))
        .end();
    call.span().end();
    order.span().end();
    client.span().end();
    let ids = client.span().span_context().clone();
    (ids.trace_id(), ids.span_id())
}

#[test]
fn console_prints_each_span_of_a_process_calling_itself_once() {
    // Span by span, the client's span ends after the server span that
    // continues it: the server's tree prints when it ends (a remote parent
    // may be in this process or another; the exporter cannot tell), the
    // client's after. The inner call's server span waits for its caller,
    // still running, because that caller's other children wait for it too.
    let (provider, buffer) = console_provider();
    let (trace_id, client_id) = record_a_process_calling_itself(&provider);
    assert_eq!(
        without_durations(&buffer.text()),
        lines(&[
            &format!("── trace {trace_id} ──"),
            &format!("(parent {client_id} is in another process)"),
            "GET /orders/{sku} [server] _ ms",
            "├─ validate order [internal] _ ms",
            "└─ GET [client] _ ms",
            "   └─ GET /stock/{sku} [server] _ ms",
            "",
            &format!("── trace {trace_id} ──"),
            "GET [client] _ ms",
            "",
        ])
    );
}

#[tokio::test]
async fn console_prints_a_process_calling_itself_as_one_tree_from_one_batch() {
    // The batch processor hands over the whole operation at once.
    let recorded = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(recorded.clone())
        .build();
    let (trace_id, _) = record_a_process_calling_itself(&provider);
    let buffer = SharedBuffer::default();
    let console = ConsoleExporter::with_writer(buffer.clone());
    console
        .export(recorded.get_finished_spans().unwrap())
        .await
        .unwrap();
    assert_eq!(
        without_durations(&buffer.text()),
        lines(&[
            &format!("── trace {trace_id} ──"),
            "GET [client] _ ms",
            "└─ GET /orders/{sku} [server] _ ms",
            "   ├─ validate order [internal] _ ms",
            "   └─ GET [client] _ ms",
            "      └─ GET /stock/{sku} [server] _ ms",
            "",
        ])
    );
}

#[test]
fn console_waits_for_a_child_that_outlives_its_root() {
    let (provider, buffer) = console_provider();
    let tracer = provider.tracer("test");
    let root = Context::new().with_span(tracer.start("handle"));
    let task = root.with_span(tracer.start_with_context("background", &root));
    tracer.start_with_context("write", &task).end();
    root.span().end();
    assert_eq!(buffer.text(), "", "`background` is still running");
    task.span().end();
    let trace_id = root.span().span_context().trace_id();
    assert_eq!(
        without_durations(&buffer.text()),
        lines(&[
            &format!("── trace {trace_id} ──"),
            "handle [internal] _ ms",
            "└─ background [internal] _ ms",
            "   └─ write [internal] _ ms",
            "",
        ])
    );
}

#[test]
fn console_prints_spans_still_waiting_for_their_parent_on_shutdown() {
    let (provider, buffer) = console_provider();
    let tracer = provider.tracer("test");
    let open = Context::new().with_span(tracer.start("never ends"));
    let child = tracer.start_with_context("GET /orphan", &open);
    let child_parent = open.span().span_context().span_id();
    drop(child);
    assert_eq!(buffer.text(), "", "nothing before its parent or shutdown");
    provider.shutdown().unwrap();
    let trace_id = open.span().span_context().trace_id();
    assert_eq!(
        without_durations(&buffer.text()),
        lines(&[
            &format!("── trace {trace_id} ──"),
            &format!("(parent {child_parent} was not exported with these spans)"),
            "GET /orphan [internal] _ ms",
            "",
        ])
    );
}

#[test]
fn console_log_lines_print_under_their_span_or_at_once() {
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _, Severity};

    let buffer = SharedBuffer::default();
    let spans = ConsoleExporter::with_writer(buffer.clone());
    let tracer = crate::Tracer::builder()
        .log_exporter_simple(spans.log_exporter())
        .span_processor(opentelemetry_sdk::trace::SimpleSpanProcessor::new(spans))
        .install(false)
        .build();
    let logger = tracer.logger_provider().unwrap().logger("shop");
    let log = |level: Severity, text: &'static str, attrs: Vec<(&'static str, &'static str)>| {
        let mut record = logger.create_log_record();
        record.set_severity_number(level);
        record.set_severity_text(level.name());
        record.set_body(text.into());
        for (key, value) in attrs {
            record.add_attribute(key, value);
        }
        logger.emit(record);
    };
    log(
        Severity::Info,
        "listening",
        vec![("addr", "127.0.0.1:3000")],
    );
    let started = buffer.text();
    {
        let _request = tracer.span("handle order");
        log(
            Severity::Info,
            "order accepted",
            vec![("note", "gift wrap")],
        );
        let _query = tracer.span("load order");
        log(Severity::Warn, "stock low", vec![]);
    }
    let text = buffer.text();
    assert_eq!(started, "▸ INFO listening addr=127.0.0.1:3000\n");
    let tree: Vec<_> = text
        .lines()
        .skip(2)
        .map(|l| l.split(" [").next().unwrap())
        .collect();
    assert_eq!(
        tree,
        [
            "handle order",
            "│  ▸ INFO order accepted note=\"gift wrap\"",
            "└─ load order",
            "      ▸ WARN stock low",
            "",
        ],
        "{text}"
    );
    tracer.shutdown(std::time::Duration::from_secs(1)).unwrap();
}

#[test]
fn console_log_lines_alone_print_at_once_even_inside_a_sampled_span() {
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};

    let buffer = SharedBuffer::default();
    let tracer = crate::Tracer::builder()
        .log_exporter_simple(super::ConsoleLogExporter::alone_with_writer(buffer.clone()))
        .install(false)
        .build();
    let logger = tracer.logger_provider().unwrap().logger("shop");
    let _request = tracer.span("handle order");
    let mut record = logger.create_log_record();
    record.set_severity_text("INFO");
    record.set_body("order accepted".into());
    logger.emit(record);
    assert_eq!(buffer.text(), "▸ INFO order accepted\n");
}
