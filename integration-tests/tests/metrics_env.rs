//! `Tracer::from_env()` sending metrics to Application Insights from a real
//! process (the `otlp_probe` program, with its own counter) to a local
//! ingestion endpoint: beside the spans, alone when the traces are off, and
//! stored like spans when the endpoint refuses them.

use std::process::Command;

use census_integration_tests::ingestion::{Ingestion, Reply};
use serde_json::Value;

/// A folder of the test's own for the exporter's storage (the default is
/// under TMPDIR, per user and key, and so shared by every test that uses
/// the local ingestion endpoint's key).
fn scratch(test: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("census-metrics-env-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the probe with exactly these variables, its counter on, its
/// temporary folder `tmp`, and the exporter's own statistics off (these
/// tests count the program's telemetry; `azure_sdk_stats.rs` tests those).
fn probe(tmp: &std::path::Path, vars: &[(&str, &str)]) {
    let output = Command::new(env!("CARGO_BIN_EXE_otlp_probe"))
        .env_clear()
        .envs(vars.iter().copied())
        .env("APPLICATIONINSIGHTS_SDKSTATS_DISABLED", "true")
        .env("PROBE_COUNTER", "1")
        .env("TMPDIR", tmp)
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
    let tmp = scratch("beside");
    let connection_string = ingestion.connection_string();
    probe(
        &tmp,
        &[
            ("APPLICATIONINSIGHTS_CONNECTION_STRING", &connection_string),
            ("OTEL_SERVICE_NAME", "probe"),
        ],
    );
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
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn metrics_alone_when_the_traces_are_off() {
    let ingestion = Ingestion::start();
    let tmp = scratch("alone");
    let connection_string = ingestion.connection_string();
    probe(
        &tmp,
        &[
            ("APPLICATIONINSIGHTS_CONNECTION_STRING", &connection_string),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "console"),
        ],
    );
    let items = ingestion.accepted();
    assert_eq!(names(&items), ["Microsoft.ApplicationInsights.Metric"]);
    assert_eq!(counter(&items)["metrics"][0]["name"], "checkout.placed");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn refused_metrics_are_stored_and_sent_by_the_next_run() {
    let tmp = scratch("stored");
    let down = Ingestion::start();
    down.reply_otherwise(Reply::Status(503, None));
    let connection_string = down.connection_string();
    probe(
        &tmp,
        &[
            ("APPLICATIONINSIGHTS_CONNECTION_STRING", &connection_string),
            ("OTEL_SERVICE_NAME", "probe"),
        ],
    );
    assert!(!down.received().is_empty());
    assert_eq!(down.accepted(), Vec::<Value>::new());
    // Stored items are due again after the first back-off (1 s ± 20 %).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let up = Ingestion::start();
    let connection_string = up.connection_string();
    probe(
        &tmp,
        &[
            ("APPLICATIONINSIGHTS_CONNECTION_STRING", &connection_string),
            ("OTEL_SERVICE_NAME", "probe"),
        ],
    );
    let items = up.accepted();
    assert_eq!(
        names(&items),
        [
            "Microsoft.ApplicationInsights.Metric",
            "Microsoft.ApplicationInsights.Metric",
            "Microsoft.ApplicationInsights.RemoteDependency",
            "Microsoft.ApplicationInsights.RemoteDependency",
            "Microsoft.ApplicationInsights.RemoteDependency",
            "Microsoft.ApplicationInsights.RemoteDependency",
        ],
        "the first run's spans and metric, stored, and the second run's"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
