//! `Tracer::from_env()` sending metrics to Application Insights from a real
//! process (the `otlp_probe` program, with its own counter) to a local
//! ingestion endpoint: beside the spans, and alone when the traces are off.

use std::process::Command;

use census_integration_tests::ingestion::Ingestion;
use serde_json::Value;

/// Runs the probe with exactly these variables and its counter on.
fn probe(vars: &[(&str, &str)]) {
    let output = Command::new(env!("CARGO_BIN_EXE_otlp_probe"))
        .env_clear()
        .envs(vars.iter().copied())
        .env("PROBE_COUNTER", "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn names(items: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn counter(items: &[Value]) -> &Value {
    let metric = items
        .iter()
        .find(|i| i["name"] == "Microsoft.ApplicationInsights.Metric")
        .expect("the counter");
    &metric["data"]["baseData"]
}

#[test]
fn the_programs_own_counter_goes_beside_its_spans() {
    let ingestion = Ingestion::start();
    probe(&[
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            &ingestion.connection_string(),
        ),
        ("OTEL_SERVICE_NAME", "probe"),
    ]);
    let items = ingestion.accepted();
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    assert_eq!(
        names(&items),
        [
            "Microsoft.ApplicationInsights.Metric",
            "Microsoft.ApplicationInsights.RemoteDependency",
            "Microsoft.ApplicationInsights.RemoteDependency",
        ]
    );
    assert_eq!(
        counter(&items),
        &serde_json::json!({
            "ver": 2,
            "metrics": [{"name": "checkout.placed", "value": 1.0, "count": 1}],
            "properties": {"channel": "web"},
        })
    );
}

#[test]
fn metrics_alone_when_the_traces_are_off() {
    let ingestion = Ingestion::start();
    probe(&[
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            &ingestion.connection_string(),
        ),
        ("OTEL_TRACES_EXPORTER", "none"),
        ("OTEL_METRICS_EXPORTER", "console"),
    ]);
    let items = ingestion.accepted();
    assert_eq!(names(&items), ["Microsoft.ApplicationInsights.Metric"]);
    assert_eq!(counter(&items)["metrics"][0]["name"], "checkout.placed");
}
