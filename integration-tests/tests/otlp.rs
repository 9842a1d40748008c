//! `Tracer::from_env()` sending OTLP (HTTP, and gRPC) from a real process (the
//! `otlp_probe` program) to a real receiver on loopback: which URL each
//! endpoint variable gives, headers, compression, retries, and the
//! configurations it refuses. The quickstart's full operation over OTLP is
//! checked in `examples/tests/quickstart_otlp.rs`.

use std::collections::BTreeMap;
use std::process::{Command, Output};

use census_integration_tests::otlp::{
    GRPC_EXPORT_PATH, GRPC_METRICS_EXPORT_PATH, OtlpReceiver, ReceivedPoint, ReceivedSpan, SpanKind,
};

/// Runs the probe with exactly these variables: nothing inherited can
/// pick another exporter.
fn probe(vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otlp_probe"));
    command.env_clear();
    for (key, value) in vars {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The probe's two spans, exactly: `checkout` (a root) and its child
/// `price lines`, both Internal, in one trace, from `service`.
fn assert_probe_spans(spans: &[ReceivedSpan], service: &str) {
    let [lines, checkout] = spans else {
        panic!("two spans expected: {spans:#?}")
    };
    assert_eq!(
        (checkout.name.as_str(), lines.name.as_str()),
        ("checkout", "price lines")
    );
    assert_eq!(
        (checkout.kind, lines.kind),
        (SpanKind::Internal, SpanKind::Internal)
    );
    assert_eq!(checkout.parent_span_id, None);
    assert_eq!(
        lines.parent_span_id.as_deref(),
        Some(checkout.span_id.as_str())
    );
    assert_eq!(lines.trace_id, checkout.trace_id);
    assert_eq!(checkout.trace_id.len(), 32);
    assert_eq!(checkout.span_id.len(), 16);
    assert_eq!(
        checkout.attributes,
        BTreeMap::from([("order.items".to_owned(), "3".to_owned())])
    );
    assert_eq!(lines.attributes, BTreeMap::new());
    for span in spans {
        assert_eq!((span.status, span.status_message.as_str()), ("unset", ""));
        assert_eq!(span.service_name.as_deref(), Some(service));
        assert_eq!(span.scope, "census");
    }
}

#[test]
fn the_traces_endpoint_is_used_as_it_is() {
    let receiver = OtlpReceiver::start();
    let url = format!("{}/collector/traces", receiver.endpoint());
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &url),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    assert_eq!(output.stdout, b"", "no console trees while sending OTLP");

    let requests = receiver.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/collector/traces"]);
    assert!(!requests[0].gzip);
    assert_eq!(
        requests[0].headers["content-type"], "application/x-protobuf",
        "{:?}",
        requests[0].headers
    );
    assert_eq!(receiver.violations(), Vec::<String>::new());
    assert_probe_spans(&receiver.spans(), "probe");
}

#[test]
fn the_general_endpoint_gets_v1_traces_appended() {
    let receiver = OtlpReceiver::start();
    // A trailing slash does not double up.
    let base = format!("{}/otel/", receiver.endpoint());
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &base),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/otel/v1/traces"]);
    assert_probe_spans(&receiver.spans(), "probe");
}

#[test]
fn the_traces_endpoint_wins_over_the_general_one() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{}/v1/traces", receiver.endpoint()),
        ),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    assert_probe_spans(&receiver.spans(), "probe");
}

#[test]
fn headers_from_the_environment_arrive() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer x,x-tenant=shop",
        ),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let requests = receiver.requests();
    let [request] = requests.as_slice() else {
        panic!("{requests:#?}")
    };
    assert_eq!(request.headers["authorization"], "Bearer x");
    assert_eq!(request.headers["x-tenant"], "shop");
    assert_probe_spans(&request.spans, "probe");
}

#[test]
fn gzip_compression_is_chosen_by_the_environment() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let requests = receiver.requests();
    let [request] = requests.as_slice() else {
        panic!("{requests:#?}")
    };
    assert!(request.gzip);
    assert_eq!(request.headers["content-encoding"], "gzip");
    assert_probe_spans(&request.spans, "probe");
}

#[test]
fn a_503_is_retried_and_the_spans_arrive_once() {
    let receiver = OtlpReceiver::start();
    receiver.script([503]);
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let requests = receiver.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 200]);
    assert_eq!(requests[0].spans, requests[1].spans, "the same batch again");
    assert_probe_spans(&receiver.spans(), "probe");
}

#[test]
fn grpc_is_chosen_by_the_protocol_variable() {
    let receiver = OtlpReceiver::start_grpc();
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer x"),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let requests = receiver.requests();
    let [request] = requests.as_slice() else {
        panic!("{requests:#?}")
    };
    assert_eq!(request.path, GRPC_EXPORT_PATH);
    assert_eq!(request.headers["authorization"], "Bearer x");
    assert_probe_spans(&request.spans, "probe");
}

#[test]
fn otlp_and_console_together() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_TRACES_EXPORTER", "otlp,console"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    assert_success(&output);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let checkout = receiver.spans().into_iter().find(|s| s.name == "checkout");
    let trace_id = checkout.expect("checkout over OTLP").trace_id;
    assert!(
        stdout.contains(&format!("── trace {trace_id}")),
        "the same trace prints: {stdout}"
    );
    assert!(stdout.contains("└─ price lines [internal]"), "{stdout}");
}

#[test]
fn none_exports_nothing_even_with_an_endpoint() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
    ]);
    assert_success(&output);
    assert_eq!(output.stdout, b"");
    assert_eq!(receiver.requests().len(), 0);
}

#[test]
fn an_unknown_exporter_stops_the_program_with_the_fix() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_TRACES_EXPORTER", "otlp,jaeger"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(output.stderr).unwrap(),
        "OTEL_TRACES_EXPORTER=\"otlp,jaeger\" names the exporter `jaeger`, which census does \
         not have; use `otlp`, `console` or `none` (or a comma-separated list of them), or \
         unset it\n"
    );
    assert_eq!(receiver.requests().len(), 0);
}

#[test]
fn an_unusable_endpoint_is_reported_by_name() {
    let output = probe(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://bad host/")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr
            .starts_with("cannot build the OTLP exporter from the OTEL_EXPORTER_OTLP_* variables:")
            && stderr.contains("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        "{stderr}"
    );
}

/// The probe's counter, as one point.
fn assert_probe_counter(points: &[ReceivedPoint], delta: bool) {
    let [point] = points else {
        panic!("one point expected: {points:#?}")
    };
    assert_eq!(
        point,
        &ReceivedPoint {
            metric: "checkout.placed".into(),
            unit: String::new(),
            scope: "probe".into(),
            attributes: BTreeMap::from([("channel".to_owned(), "web".to_owned())]),
            count: 1,
            sum: 1.0,
            delta,
        }
    );
}

#[test]
fn metrics_go_where_the_traces_go_over_http() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_SERVICE_NAME", "probe"),
        ("PROBE_COUNTER", "1"),
    ]);
    assert_success(&output);
    let mut paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(paths, ["/v1/metrics", "/v1/traces"]);
    assert_probe_counter(&receiver.points(), false);
    assert_probe_spans(&receiver.spans(), "probe");
}

#[test]
fn metrics_over_grpc_with_the_temporality_asked_for() {
    let receiver = OtlpReceiver::start_grpc();
    let output = probe(&[
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
        ("PROBE_COUNTER", "1"),
    ]);
    assert_success(&output);
    let requests = receiver.requests();
    let [request] = requests.as_slice() else {
        panic!("only metrics: {requests:#?}")
    };
    assert_eq!(request.path, GRPC_METRICS_EXPORT_PATH);
    assert_probe_counter(&request.points, true);
}

#[test]
fn metrics_none_leaves_the_traces() {
    let receiver = OtlpReceiver::start();
    let output = probe(&[
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint()),
        ("OTEL_SERVICE_NAME", "probe"),
        ("PROBE_COUNTER", "1"),
    ]);
    assert_success(&output);
    let paths: Vec<String> = receiver.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/traces"]);
}
