//! The exporter's own statistics, as Microsoft's exporters send them:
//! after a run with successes, a 503 that was retried and a batch the
//! endpoint refused, the resource receives `Item_Success_Count`,
//! `Item_Retry_Count` and `Item_Dropped_Count` with the right counts,
//! codes and reasons; the statistics never count themselves; and
//! `disable_sdk_stats` sends none.

use std::collections::BTreeMap;
use std::time::Duration;

use census::azure::AzureExporter;
use census_integration_tests::ingestion::{Ingestion, Reply, export_now, internal_spans};
use opentelemetry_sdk::trace::SpanExporter as _;
use serde_json::Value;

fn exporter(ingestion: &Ingestion, stats: bool) -> AzureExporter {
    let builder = AzureExporter::builder()
        .connection_string(ingestion.connection_string())
        .disable_storage()
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(100))
        .export_wait(Duration::from_secs(5));
    if stats {
        builder
    } else {
        builder.disable_sdk_stats()
    }
    .build()
    .unwrap()
}

/// The statistics items received, as `name {dimensions} = value`.
fn statistics(items: &[Value]) -> BTreeMap<String, f64> {
    items
        .iter()
        .filter(|i| i["data"]["baseType"] == "MetricData")
        .map(|i| {
            let base = &i["data"]["baseData"];
            let point = &base["metrics"][0];
            let mut properties: BTreeMap<String, Value> = base["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect();
            for fixed in ["language", "version", "computeType"] {
                assert!(
                    properties.remove(fixed).is_some(),
                    "{fixed} on every statistic"
                );
            }
            let key = format!(
                "{} {}",
                point["name"].as_str().unwrap(),
                serde_json::to_string(&properties).unwrap()
            );
            (key, point["value"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn successes_retries_and_drops_arrive_as_microsofts_statistics() {
    let ingestion = Ingestion::start();
    ingestion.script([Reply::Accept, Reply::Status(503, None)]);
    let exporter = exporter(&ingestion, true);
    export_now(&exporter, internal_spans("work", 2));
    export_now(&exporter, internal_spans("work", 3));
    // The 503'd batch is stored and resent.
    assert_eq!(ingestion.wait_accepted(5, Duration::from_secs(10)).len(), 5);
    ingestion.script([Reply::Status(400, None)]);
    export_now(&exporter, internal_spans("work", 1));
    exporter
        .shutdown_with_timeout(Duration::from_secs(10))
        .unwrap();

    let accepted = ingestion.accepted();
    let found = statistics(&accepted);
    let expected: BTreeMap<String, f64> = [
        (r#"Item_Success_Count {"telemetryType":"DEPENDENCY"}"#, 5.0),
        (
            r#"Item_Retry_Count {"retryCode":"503","retryReason":"Service unavailable","telemetryType":"DEPENDENCY"}"#,
            3.0,
        ),
        (
            r#"Item_Dropped_Count {"dropCode":"400","dropReason":"Bad request","telemetrySuccess":"True","telemetryType":"DEPENDENCY"}"#,
            1.0,
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(found, expected);
    assert_eq!(ingestion.violations(), Vec::<String>::new());
}

#[test]
fn turned_off_they_are_not_sent() {
    let ingestion = Ingestion::start();
    let exporter = exporter(&ingestion, false);
    export_now(&exporter, internal_spans("work", 2));
    exporter
        .shutdown_with_timeout(Duration::from_secs(10))
        .unwrap();
    assert!(statistics(&ingestion.accepted()).is_empty());
    assert_eq!(ingestion.accepted().len(), 2);
}
