//! Runs the two server examples as a newcomer would: requests over
//! loopback, then SIGTERM; each must flush its telemetry and exit 0.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(example: &str, port: u16, jsonl: &std::path::Path) -> Child {
    let child = Command::new(census_integration_tests::process::example_binary(example))
        .env("PORT", port.to_string())
        .env("CENSUS_EXPORT_JSONL", jsonl)
        .env_remove("CENSUS_INTEGRATIONS")
        .env_remove("CENSUS_DISABLED_INTEGRATIONS")
        .env_remove("CENSUS_EXCLUDED_PATHS")
        .env_remove("OTEL_TRACES_SAMPLER")
        .env_remove("OTEL_TRACES_SAMPLER_ARG")
        .env_remove("OTEL_PROPAGATORS")
        .env_remove("CENSUS_EXCLUDED_HOSTS")
        .env_remove("OTEL_TRACES_EXPORTER")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("APPLICATIONINSIGHTS_CONNECTION_STRING")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{example} never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn requests(port: u16) {
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://127.0.0.1:{port}{path}"));
    let hello = get("/").send().await.unwrap();
    // Off unless asked for: it would tell callers the trace ids.
    assert!(!hello.headers().contains_key("traceresponse"));
    assert_eq!(hello.text().await.unwrap(), "Hello World!");
    let user = get("/users/42")
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(user, "user-42");
    assert_eq!(
        get("/health").send().await.unwrap().text().await.unwrap(),
        "ok"
    );
}

fn named<'a>(spans: &'a [Value], name: &str) -> &'a Value {
    let found: Vec<_> = spans.iter().filter(|s| s["name"] == name).collect();
    let [span] = found.as_slice() else {
        panic!("not one {name} span in {spans:#?}")
    };
    span
}

#[test]
fn each_server_example_traces_its_routes_skips_health_and_flushes_on_sigterm() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (example, scope) in [("axum_app", "census-tower"), ("actix_app", "census-actix")] {
        let jsonl =
            std::env::temp_dir().join(format!("census-{example}-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&jsonl);
        let port = free_port();
        let mut child = start(example, port, &jsonl);
        runtime.block_on(requests(port));
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert!(status.success(), "{example} exited with {status}");

        let spans: Vec<Value> = std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let _ = std::fs::remove_file(&jsonl);
        assert_eq!(spans.len(), 3, "{example}: {spans:#?}");
        let root = named(&spans, "GET /");
        assert_eq!(root["kind"], "server");
        assert_eq!(root["scope"], scope);
        let user = named(&spans, "GET /users/{id}");
        assert_eq!(user["trace_id"], CALLER_TRACE, "{example}");
        assert_eq!(user["parent_span_id"], CALLER_SPAN, "{example}");
        assert_eq!(user["attributes"]["http.route"], "/users/{id}");
        assert_eq!(user["attributes"]["http.response.status_code"], 200);
        let query = named(&spans, "SELECT");
        assert_eq!(query["parent_span_id"], user["span_id"], "{example}");
        assert_eq!(query["attributes"]["db.system.name"], "sqlite");
        assert!(
            !spans
                .iter()
                .any(|s| s["attributes"]["url.path"] == "/health"),
            "{example}"
        );
    }
}
