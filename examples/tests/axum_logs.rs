//! Issue 23's acceptance: `examples/axum_app`'s `tracing` events reach
//! Application Insights (a local ingestion endpoint) and an OTLP collector
//! (a local receiver) as log records of the request that wrote them; the
//! start-up line belongs to no operation; the failing lookup's `error!`
//! with an `error` field is an exception; with 10 % sampling, only the
//! kept operations' records are sent.

use std::collections::BTreeSet;
use std::process::Child;

use census_integration_tests::ingestion::Ingestion;
use census_integration_tests::otlp::OtlpReceiver;
use census_integration_tests::process::{start_server_example, stop_gracefully};
use serde_json::Value;

fn base(item: &Value) -> &Value {
    &item["data"]["baseData"]
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|i| i["name"] == format!("Microsoft.ApplicationInsights.{kind}"))
        .collect()
}

/// `axum_app` sending to `ingestion` and `collector`, with `sampling` as
/// the fixed percentage when given; returns it and its port once it
/// listens.
fn start(ingestion: &Ingestion, collector: &OtlpReceiver, sampling: Option<&str>) -> (Child, u16) {
    let mut env = vec![
        (
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            ingestion.connection_string(),
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()),
        ("OTEL_SERVICE_NAME", "users".to_owned()),
    ];
    if let Some(rate) = sampling {
        env.push((
            "OTEL_TRACES_SAMPLER",
            "microsoft.fixed_percentage".to_owned(),
        ));
        env.push(("OTEL_TRACES_SAMPLER_ARG", rate.to_owned()));
    }
    start_server_example("axum_app", &env)
}

fn get_all(port: u16, paths: impl IntoIterator<Item = String>) -> Vec<u16> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for path in paths {
            let url = format!("http://127.0.0.1:{port}{path}");
            statuses.push(client.get(url).send().await.unwrap().status().as_u16());
        }
        statuses
    })
}

#[test]
fn each_requests_log_lines_arrive_with_its_operation_and_the_error_as_an_exception() {
    let ingestion = Ingestion::start();
    let collector = OtlpReceiver::start();
    let (child, port) = start(&ingestion, &collector, None);
    let paths = (1..=5)
        .map(|i| format!("/users/{i}"))
        .chain(["/orders/9".to_owned()]);
    assert_eq!(get_all(port, paths), [200, 200, 200, 200, 200, 500]);
    stop_gracefully(child);

    let items = ingestion.accepted();
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    let requests = of_kind(&items, "Request");
    assert_eq!(requests.len(), 6);
    let messages = of_kind(&items, "Message");
    let lookups: Vec<_> = messages
        .iter()
        .filter(|m| base(m)["message"] == "looking up user")
        .collect();
    assert_eq!(lookups.len(), 5, "{messages:#?}");
    for lookup in &lookups {
        let request = requests
            .iter()
            .find(|r| r["tags"]["ai.operation.id"] == lookup["tags"]["ai.operation.id"])
            .expect("the log line's request");
        assert_eq!(
            lookup["tags"]["ai.operation.parentId"],
            base(request)["id"],
            "written in the request's span"
        );
        assert_eq!(lookup["tags"]["ai.operation.name"], "GET /users/{id}");
        assert_eq!(lookup["tags"]["ai.cloud.role"], "users");
        assert_eq!(base(lookup)["severityLevel"], 1);
        assert_eq!(base(lookup)["properties"]["logger_name"], "axum_app");
        let user_id = base(lookup)["properties"]["user_id"].as_str().unwrap();
        assert_eq!(
            base(request)["url"].as_str().unwrap().rsplit('/').next(),
            Some(user_id)
        );
    }
    let lookup_ids: BTreeSet<_> = lookups
        .iter()
        .map(|l| l["tags"]["ai.operation.id"].as_str().unwrap())
        .collect();
    assert_eq!(lookup_ids.len(), 5, "one line per request");

    let started: Vec<_> = messages
        .iter()
        .filter(|m| base(m)["message"] == "axum_app listening")
        .collect();
    let [started] = started.as_slice() else {
        panic!("{messages:#?}")
    };
    assert_eq!(base(started)["properties"]["port"], port.to_string());
    let tags = started["tags"].as_object().unwrap();
    assert!(
        !tags.keys().any(|k| k.starts_with("ai.operation.")),
        "outside any request: {tags:?}"
    );

    // The failed query's span event is one exception (`severityLevel`
    // named, as span events have it); the `error!` the other.
    let exceptions = of_kind(&items, "Exception");
    let (logged, events): (Vec<&Value>, Vec<&Value>) = exceptions
        .iter()
        .partition(|e| base(e)["severityLevel"].is_number());
    assert_eq!(events.len(), 1, "{exceptions:#?}");
    let [exception] = logged.as_slice() else {
        panic!("{exceptions:#?}")
    };
    let failed = requests
        .iter()
        .find(|r| base(r)["responseCode"] == "500")
        .unwrap();
    assert_eq!(
        exception["tags"]["ai.operation.id"],
        failed["tags"]["ai.operation.id"]
    );
    assert_eq!(
        exception["tags"]["ai.operation.parentId"],
        base(failed)["id"]
    );
    assert_eq!(exception["tags"]["ai.operation.name"], "GET /orders/{id}");
    let details = &base(exception)["exceptions"][0];
    assert_eq!(details["typeName"], "Exception");
    assert_eq!(details["message"], "order lookup failed");
    assert_eq!(base(exception)["severityLevel"], 3);
    assert_eq!(
        base(exception)["properties"]["error"],
        "error returned from database: (code: 1) no such table: orders"
    );
    assert_eq!(base(exception)["properties"]["order_id"], "9");

    // Over OTLP, the same records, with the ids of the spans they were
    // written in.
    let spans = collector.spans();
    let logs = collector.logs();
    assert_eq!(collector.violations(), Vec::<String>::new());
    let otlp_lookups: Vec<_> = logs
        .iter()
        .filter(|l| l.body == "looking up user")
        .collect();
    assert_eq!(otlp_lookups.len(), 5, "{logs:#?}");
    for log in &otlp_lookups {
        let span = spans
            .iter()
            .find(|s| s.span_id == log.span_id)
            .expect("the log record's span");
        assert_eq!(span.trace_id, log.trace_id);
        assert_eq!(span.name, "GET /users/{id}");
        assert_eq!(log.severity_number, 9);
        assert_eq!(log.service_name.as_deref(), Some("users"));
        assert_eq!(
            log.attributes.get("census.operation.name"),
            None,
            "only Application Insights gets the operation name"
        );
    }
    let otlp_started = logs
        .iter()
        .find(|l| l.body == "axum_app listening")
        .unwrap();
    assert_eq!(
        (
            otlp_started.trace_id.as_str(),
            otlp_started.span_id.as_str()
        ),
        ("", "")
    );
    let otlp_error = logs
        .iter()
        .find(|l| l.body == "order lookup failed")
        .unwrap();
    assert_eq!(otlp_error.severity_number, 17);
    assert_eq!(
        spans
            .iter()
            .find(|s| s.span_id == otlp_error.span_id)
            .map(|s| s.name.as_str()),
        Some("GET /orders/{id}")
    );
}

#[test]
fn at_ten_percent_only_the_kept_operations_log_lines_are_sent() {
    const REQUESTS: usize = 200;
    let ingestion = Ingestion::start();
    let collector = OtlpReceiver::start();
    let (child, port) = start(&ingestion, &collector, Some("0.1"));
    let statuses = get_all(port, (1..=REQUESTS).map(|i| format!("/users/{i}")));
    assert!(statuses.iter().all(|&s| s == 200));
    stop_gracefully(child);

    let items = ingestion.accepted();
    assert_eq!(ingestion.violations(), Vec::<String>::new());
    let kept: BTreeSet<_> = of_kind(&items, "Request")
        .iter()
        .map(|r| r["tags"]["ai.operation.id"].as_str().unwrap().to_owned())
        .collect();
    // Binomial(200, 0.1): 20 ± 4.2; this range fails about once in 10^5 runs.
    assert!((4..=40).contains(&kept.len()), "{} kept", kept.len());
    let logged: BTreeSet<_> = of_kind(&items, "Message")
        .iter()
        .filter(|m| base(m)["message"] == "looking up user")
        .map(|m| m["tags"]["ai.operation.id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(logged, kept, "the kept operations' lines, and only theirs");
    assert_eq!(
        of_kind(&items, "Message")
            .iter()
            .filter(|m| base(m)["message"] == "axum_app listening")
            .count(),
        1,
        "a line outside any operation is always sent"
    );
    let otlp_lines = collector
        .logs()
        .iter()
        .filter(|l| l.body == "looking up user")
        .count();
    assert_eq!(otlp_lines, kept.len(), "OTLP drops the same records");
}
