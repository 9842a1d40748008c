//! Issue 22's acceptance: 200 requests to `examples/axum_app` sampled at
//! 10 %, sent to Application Insights (a local ingestion endpoint) and to
//! an OTLP collector (a local receiver) at once. About 20 requests arrive
//! as items; the metrics count all 200 requests and all 200 SQLite calls.

use std::collections::BTreeMap;

use census_integration_tests::ingestion::{Ingestion, standard_counts};
use census_integration_tests::otlp::OtlpReceiver;
use census_integration_tests::process::{start_server_example, stop_gracefully};
use serde_json::Value;

const REQUESTS: usize = 200;
/// Every tenth id is not a user: 404 after the same one query.
fn id(i: usize) -> i64 {
    if i.is_multiple_of(10) {
        -(i as i64)
    } else {
        i as i64
    }
}

fn base(item: &Value) -> &Value {
    &item["data"]["baseData"]
}

#[test]
fn two_hundred_requests_sampled_at_ten_percent_are_all_counted_by_the_metrics() {
    let ingestion = Ingestion::start();
    let collector = OtlpReceiver::start();
    let (child, port) = start_server_example(
        "axum_app",
        &[
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                ingestion.connection_string(),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
            (
                "OTEL_TRACES_SAMPLER",
                "microsoft.fixed_percentage".to_owned(),
            ),
            ("OTEL_TRACES_SAMPLER_ARG", "0.1".to_owned()),
            ("OTEL_SERVICE_NAME", "users".to_owned()),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = BTreeMap::new();
        for i in 1..=REQUESTS {
            let url = format!("http://127.0.0.1:{port}/users/{}", id(i));
            let status = client.get(url).send().await.unwrap().status().as_u16();
            *statuses.entry(status).or_insert(0) += 1;
        }
        statuses
    });
    assert_eq!(statuses, BTreeMap::from([(200, 180), (404, 20)]));
    stop_gracefully(child);

    let items = ingestion.accepted();
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    let requests: Vec<&Value> = items
        .iter()
        .filter(|i| i["name"] == "Microsoft.ApplicationInsights.Request")
        .collect();
    // Binomial(200, 0.1): 20 ± 4.2; this range fails about once in 10^5 runs.
    assert!(
        (4..=40).contains(&requests.len()),
        "{} request items",
        requests.len()
    );
    for request in &requests {
        assert_eq!(request["sampleRate"], 10.0);
        assert_eq!(
            base(request)["properties"]["_MS.ProcessedByMetricExtractors"],
            "True",
            "the portal must take the counts from the standard metrics"
        );
    }

    assert_eq!(
        standard_counts(&items, "requests/duration", "request/resultCode"),
        BTreeMap::from([("200".to_owned(), 180), ("404".to_owned(), 20)])
    );
    assert_eq!(
        standard_counts(&items, "requests/duration", "Request.Success"),
        BTreeMap::from([("False".to_owned(), 20), ("True".to_owned(), 180)])
    );
    assert_eq!(
        standard_counts(&items, "requests/duration", "cloud/roleName"),
        BTreeMap::from([("users".to_owned(), 200)])
    );
    assert_eq!(
        standard_counts(&items, "dependencies/duration", "Dependency.Type"),
        BTreeMap::from([("SQL".to_owned(), 200)])
    );
    let dependency = items
        .iter()
        .find(|i| i["name"] == "Microsoft.ApplicationInsights.RemoteDependency")
        .expect("a sampled request's query");
    assert_eq!(
        standard_counts(&items, "dependencies/duration", "dependency/target"),
        BTreeMap::from([(base(dependency)["target"].as_str().unwrap().to_owned(), 200)]),
        "the standard metric and the items name the same target"
    );

    let counts = collector.counts("http.server.request.duration");
    assert_eq!(
        counts.values().sum::<u64>(),
        REQUESTS as u64,
        "over OTLP: {counts:#?}"
    );
    assert_eq!(
        counts
            .keys()
            .filter(|k| k.contains("http.route=/users/{id}"))
            .count(),
        2,
        "one series per status: {counts:#?}"
    );
    assert_eq!(
        collector
            .counts("db.client.operation.duration")
            .values()
            .sum::<u64>(),
        REQUESTS as u64
    );
    assert_eq!(
        collector
            .spans()
            .iter()
            .filter(|s| s.name == "GET /users/{id}")
            .count(),
        requests.len(),
        "OTLP gets the same sampled spans"
    );
}
