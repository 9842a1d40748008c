//! Issue 24's first acceptance point: `examples/axum_app` with
//! `OTEL_TRACES_SAMPLER=microsoft.rate_limited` at 5 a second, under a
//! steady 200 requests a second for 10 s. About 50 requests are kept, the
//! kept items' `sampleRate` estimates the 2,000 requests, and the
//! `requests/duration` standard metric counts every one.

use std::time::Duration;

use census_integration_tests::ingestion::{Ingestion, standard_counts};
use census_integration_tests::process::{start_server_example, stop_gracefully};
use serde_json::Value;

const PER_SECOND: u64 = 200;
const SECONDS: u64 = 10;

#[test]
fn a_steady_200_a_second_is_kept_at_about_5_a_second_and_estimated_right() {
    let ingestion = Ingestion::start();
    let (child, port) = start_server_example(
        "axum_app",
        &[
            (
                "APPLICATIONINSIGHTS_CONNECTION_STRING",
                ingestion.connection_string(),
            ),
            ("OTEL_TRACES_SAMPLER", "microsoft.rate_limited".to_owned()),
            ("OTEL_TRACES_SAMPLER_ARG", "5".to_owned()),
            ("OTEL_SERVICE_NAME", "users".to_owned()),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sent = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / PER_SECOND));
        let mut sent = 0u64;
        for i in 0..PER_SECOND * SECONDS {
            tick.tick().await;
            let url = format!("http://127.0.0.1:{port}/users/{}", i + 1);
            assert!(client.get(url).send().await.unwrap().status().is_success());
            sent += 1;
        }
        sent
    });
    stop_gracefully(child);

    let items = ingestion.accepted();
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    let requests: Vec<&Value> = items
        .iter()
        .filter(|i| i["name"] == "Microsoft.ApplicationInsights.Request")
        .collect();
    assert!(
        (35..=65).contains(&requests.len()),
        "{} requests kept, about 50 expected",
        requests.len()
    );
    let estimate: f64 = requests
        .iter()
        .map(|r| 100.0 / r["sampleRate"].as_f64().unwrap_or(100.0))
        .sum();
    assert!(
        (0.8 * sent as f64..=1.2 * sent as f64).contains(&estimate),
        "the kept items stand for {estimate} requests of {sent}"
    );
    let counted: u64 = standard_counts(&items, "requests/duration", "cloud/roleName")
        .values()
        .sum();
    assert_eq!(counted, sent, "the standard metric is not sampled");
    eprintln!(
        "rate-limited at 5/s: {} of {sent} requests kept, standing for {estimate:.0}",
        requests.len()
    );
}
