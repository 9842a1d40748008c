//! The quickstart sending OTLP/HTTP to a receiver on loopback, as it would
//! to an OpenTelemetry Collector: the same spans as its JSON lines, linked
//! into one operation across the `traceparent` hop, in one request or in
//! as many as the batch size variable asks for.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use census_integration_tests::ingestion::Ingestion;
use census_integration_tests::otlp::{OtlpReceiver, ReceivedSpan, SpanKind};
use census_integration_tests::process::example_binary;
use serde_json::Value;

/// Runs the quickstart with exactly these variables and JSON lines to a
/// temporary file; returns its stdout and the span ids it wrote there.
fn run_quickstart(name: &str, vars: &[(&str, &str)]) -> (String, BTreeSet<String>) {
    let jsonl = std::env::temp_dir().join(format!(
        "census-quickstart-{name}-{}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&jsonl);
    let mut command = Command::new(example_binary("quickstart"));
    command.env_clear().env("CENSUS_EXPORT_JSONL", &jsonl);
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (stdout, span_ids(&jsonl))
}

fn span_ids(jsonl: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(jsonl).unwrap();
    let _ = std::fs::remove_file(jsonl);
    text.lines()
        .map(|line| {
            let span: Value = serde_json::from_str(line).unwrap();
            span["span_id"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn ids(spans: &[ReceivedSpan]) -> BTreeSet<String> {
    spans.iter().map(|s| s.span_id.clone()).collect()
}

fn children<'a>(spans: &'a [ReceivedSpan], parent: &ReceivedSpan) -> Vec<&'a ReceivedSpan> {
    spans
        .iter()
        .filter(|s| s.parent_span_id.as_deref() == Some(parent.span_id.as_str()))
        .collect()
}

/// The first order, `GET /orders/sku-42`, as one operation: the outer
/// client call, the server span, its three children, and the stock
/// request continued from the HTTP child.
fn assert_first_order(spans: &[ReceivedSpan]) {
    let orders: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| {
            s.name == "GET /orders/{sku}" && s.attribute("url.path") == Some("/orders/sku-42")
        })
        .collect();
    let [order] = orders.as_slice() else {
        panic!("one first order expected: {spans:#?}")
    };
    assert_eq!(order.kind, SpanKind::Server);
    assert_eq!(order.attribute("http.route"), Some("/orders/{sku}"));
    assert_eq!(order.attribute("http.request.method"), Some("GET"));
    assert_eq!(order.attribute("http.response.status_code"), Some("200"));
    assert_eq!(order.status, "unset");

    let outer = spans
        .iter()
        .find(|s| Some(s.span_id.as_str()) == order.parent_span_id.as_deref())
        .expect("the caller's span");
    assert_eq!(
        (
            outer.name.as_str(),
            outer.kind,
            outer.parent_span_id.as_deref()
        ),
        ("GET", SpanKind::Client, None),
        "the outer client call is the root"
    );

    let mut kids: Vec<(&str, SpanKind)> = children(spans, order)
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    kids.sort_by_key(|(name, _)| *name);
    assert_eq!(
        kids,
        [
            ("GET", SpanKind::Client),
            ("SELECT products", SpanKind::Client),
            ("validate order", SpanKind::Internal),
        ]
    );
    let child = |name: &str| {
        *children(spans, order)
            .iter()
            .find(|s| s.name == name)
            .unwrap()
    };

    let sql = child("SELECT products");
    assert_eq!(sql.attribute("db.system.name"), Some("sqlite"));
    assert_eq!(sql.attribute("db.operation.name"), Some("SELECT"));
    assert_eq!(sql.attribute("db.collection.name"), Some("products"));
    assert_eq!(
        sql.attribute("db.query.text"),
        Some("SELECT name, price FROM products WHERE sku = ? AND status = ?")
    );
    assert!(children(spans, sql).is_empty());

    let call = child("GET");
    assert_eq!(call.attribute("http.request.method"), Some("GET"));
    assert_eq!(call.attribute("http.response.status_code"), Some("200"));
    let continued = children(spans, call);
    let [stock] = continued.as_slice() else {
        panic!("the stock request continues the call: {continued:#?}")
    };
    assert_eq!(
        (stock.name.as_str(), stock.kind),
        ("GET /stock/{sku}", SpanKind::Server)
    );
    assert_eq!(stock.attribute("url.path"), Some("/stock/sku-42"));

    let operation = [outer, order, sql, call, stock, child("validate order")];
    for span in operation {
        assert_eq!(span.trace_id, outer.trace_id, "{} in the trace", span.name);
        assert_eq!(span.service_name.as_deref(), Some("quickstart"));
    }
    for span in spans {
        for (key, value) in &span.attributes {
            assert!(!value.contains("'active'"), "{key}={value} leaks a literal");
            assert!(
                !key.starts_with("census."),
                "{key}={value}: census's own attributes stay inside census"
            );
        }
    }
}

/// OTLP beside Application Insights, one span per batch: the Application
/// Insights items carry their request's operation name although every
/// child leaves before its request, and the OTLP spans carry no
/// attribute of census's own.
#[test]
fn otlp_beside_application_insights_gets_no_operation_name_attribute() {
    let receiver = OtlpReceiver::start();
    let ingestion = Ingestion::start();
    let (_, written) = run_quickstart(
        "otlp-and-ai",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                &ingestion.connection_string(),
            ),
            ("OTEL_SERVICE_NAME", "quickstart"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
        ],
    );
    let spans = receiver.spans();
    assert_eq!(ids(&spans), written);
    assert_first_order(&spans);

    let items = ingestion.wait_accepted(written.len(), Duration::from_secs(10));
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    let order = items
        .iter()
        .find(|i| i["data"]["baseData"]["name"] == "GET /orders/{sku}")
        .unwrap_or_else(|| panic!("no order request in {items:#?}"));
    let children: Vec<&Value> = items
        .iter()
        .filter(|i| i["tags"]["ai.operation.parentId"] == order["data"]["baseData"]["id"])
        .collect();
    assert_eq!(children.len(), 3, "{children:#?}");
    for child in children {
        assert_eq!(child["tags"]["ai.operation.name"], "GET /orders/{sku}");
        let properties = &child["data"]["baseData"]["properties"];
        assert!(
            properties.get("census.operation.name").is_none(),
            "{properties}"
        );
    }
}

#[test]
fn quickstart_sends_its_linked_operations_over_otlp() {
    let receiver = OtlpReceiver::start();
    let (stdout, written) = run_quickstart(
        "otlp",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
            ("OTEL_SERVICE_NAME", "quickstart"),
        ],
    );
    assert!(
        !stdout.contains("── trace"),
        "no console trees while sending OTLP: {stdout}"
    );
    assert_eq!(receiver.violations(), Vec::<String>::new());
    let requests = receiver.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert!(
            ["/v1/traces", "/v1/metrics"].contains(&request.path.as_str()),
            "{}",
            request.path
        );
        assert_eq!(request.status, 200);
    }
    let spans = receiver.spans();
    assert_eq!(ids(&spans), written, "the same spans as the JSON lines");
    assert_eq!(spans.len(), written.len(), "each span sent once");
    assert_first_order(&spans);
    // The metrics went to the same collector: one series per route.
    let servers = spans
        .iter()
        .filter(|s| s.kind == census_integration_tests::otlp::SpanKind::Server)
        .count() as u64;
    let measured = receiver.counts("http.server.request.duration");
    assert_eq!(measured.values().sum::<u64>(), servers, "{measured:#?}");
}

#[test]
fn batch_size_one_sends_every_span_alone_and_none_is_lost() {
    let receiver = OtlpReceiver::start();
    let (_, written) = run_quickstart(
        "otlp-batch1",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
            ("OTEL_SERVICE_NAME", "quickstart"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1"),
        ],
    );
    let requests: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/traces")
        .collect();
    let sizes: BTreeSet<usize> = requests.iter().map(|r| r.spans.len()).collect();
    assert_eq!(sizes, BTreeSet::from([1]), "one span per request");
    assert_eq!(requests.len(), written.len());
    let spans = receiver.spans();
    assert_eq!(ids(&spans), written);
    assert_first_order(&spans);
}

/// gRPC needs Tokio: census runs the client on a runtime of its own, so it
/// works from inside the quickstart's runtime and still flushes at the
/// blocking shutdown.
#[test]
fn quickstart_sends_over_grpc_too() {
    let receiver = OtlpReceiver::start_grpc();
    let (_, written) = run_quickstart(
        "otlp-grpc",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_SERVICE_NAME", "quickstart"),
        ],
    );
    let spans = receiver.spans();
    assert_eq!(ids(&spans), written);
    assert_eq!(spans.len(), written.len());
    assert_first_order(&spans);
}

#[test]
fn an_unknown_exporter_stops_the_quickstart_with_the_fix() {
    let output = Command::new(example_binary("quickstart"))
        .env_clear()
        .env("OTEL_TRACES_EXPORTER", "zipkin")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(output.stdout, b"", "nothing ran");
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "census quickstart: OTEL_TRACES_EXPORTER=\"zipkin\" names the exporter `zipkin`, which \
         census does not have; use `otlp`, `console` or `none` (or a comma-separated list of \
         them), or unset it\n"
    );
}
