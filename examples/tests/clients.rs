//! Runs the two client examples as a newcomer would, against a server on
//! loopback and against a port where nothing listens.

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::Value;

/// A server answering `/hello` with the `traceparent` it received.
fn serve() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new().route(
                "/hello",
                get(|headers: HeaderMap| async move {
                    headers
                        .get("traceparent")
                        .map_or("none".to_owned(), |v| v.to_str().unwrap().to_owned())
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// Runs `example` on `url`; returns its output and the spans it wrote.
fn run(example: &str, url: &str) -> (Output, Vec<Value>) {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    let jsonl = std::env::temp_dir().join(format!(
        "census-{example}-{}-{run}.jsonl",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&jsonl);
    let output = Command::new(census_integration_tests::process::example_binary(example))
        .arg(url)
        .env("CENSUS_EXPORT_JSONL", &jsonl)
        .env_remove("CENSUS_INTEGRATIONS")
        .env_remove("CENSUS_DISABLED_INTEGRATIONS")
        .env_remove("APPLICATIONINSIGHTS_CONNECTION_STRING")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()
        .unwrap();
    let spans = std::fs::read_to_string(&jsonl)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(&jsonl);
    (output, spans)
}

fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    spans
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} span in {spans:#?}"))
}

#[test]
fn each_client_example_records_its_call_as_a_child_of_its_work() {
    let addr = serve();
    for example in ["hyper_client", "reqwest_client"] {
        let url = format!("http://{addr}/hello?sig=s3cr3t");
        let (output, spans) = run(example, &url);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{example}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("200 OK, 55 bytes"), "{example}: {stdout}");
        let fetch = named(&spans, "fetch");
        let call = named(&spans, "GET");
        assert_eq!(call["kind"], "client", "{example}: {call}");
        assert_eq!(call["trace_id"], fetch["trace_id"], "{example}");
        assert_eq!(call["parent_span_id"], fetch["span_id"], "{example}");
        assert_eq!(
            call["attributes"]["url.full"],
            format!("http://{addr}/hello?sig=REDACTED"),
            "{example}"
        );
        assert_eq!(call["attributes"]["http.response.status_code"], 200);
        assert!(!serde_json::to_string(&spans).unwrap().contains("s3cr3t"));
    }
}

#[test]
fn a_failed_call_exits_non_zero_and_says_why() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    for example in ["hyper_client", "reqwest_client"] {
        let (output, spans) = run(example, &format!("http://{free}/"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{example}");
        assert!(
            stderr.contains(&format!("the call to http://{free}/ failed"))
                && stderr.contains("refused"),
            "{example}: {stderr}"
        );
        let call = named(&spans, "GET");
        assert_eq!(
            call["attributes"]["error.type"], "connect",
            "{example}: {call}"
        );
    }
    let missing = Command::new(census_integration_tests::process::example_binary(
        "hyper_client",
    ))
    .output()
    .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("pass the URL to call"));
}
