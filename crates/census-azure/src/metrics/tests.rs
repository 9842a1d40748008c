use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{InMemoryMetricExporterBuilder, SdkMeterProvider, Temporality};
use serde_json::{Value, json};

use super::*;
use crate::mapping::{RequestSuccess, sdk_version};

fn identity() -> Identity {
    Identity {
        standard_metrics: true,
        ..crate::mapping::tests::identity()
    }
}

/// The envelopes of what `record` records on a meter, collected as the
/// Application Insights exporter collects (delta), sorted by their
/// properties' text so that tests need not know the SDK's order.
fn map(identity: &Identity, record: impl FnOnce(&opentelemetry::metrics::Meter)) -> Vec<Value> {
    let memory = InMemoryMetricExporterBuilder::new()
        .with_temporality(Temporality::LowMemory)
        .build();
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(memory.clone())
        .with_resource(Resource::builder_empty().build())
        .build();
    record(&provider.meter("census-test"));
    provider.force_flush().unwrap();
    let mut items: Vec<Value> = memory
        .get_finished_metrics()
        .unwrap()
        .iter()
        .flat_map(|metrics| metric_envelopes(identity, metrics))
        .map(|envelope| serde_json::to_value(envelope).unwrap())
        .collect();
    items.sort_by_key(|item| item["data"]["baseData"]["properties"].to_string());
    items
}

fn duration(
    meter: &opentelemetry::metrics::Meter,
    name: &'static str,
    calls: &[(f64, &[KeyValue])],
) {
    let histogram = meter.f64_histogram(name).with_unit("s").build();
    for (seconds, attributes) in calls {
        histogram.record(*seconds, attributes);
    }
}

fn base(item: &Value) -> &Value {
    &item["data"]["baseData"]
}

#[test]
fn server_durations_become_the_requests_duration_standard_metric() {
    let ok = [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new("http.route", "/users/{id}"),
        KeyValue::new("http.response.status_code", 200),
    ];
    let failed = [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("url.scheme", "http"),
        KeyValue::new("http.route", "/users/{id}"),
        KeyValue::new("http.response.status_code", 503),
        KeyValue::new("error.type", "503"),
    ];
    let items = map(&identity(), |meter| {
        duration(
            meter,
            "http.server.request.duration",
            &[(0.25, &ok), (0.5, &ok), (0.125, &ok), (2.0, &failed)],
        );
    });
    let [failed, ok] = items.as_slice() else {
        panic!("{items:#?}")
    };
    assert_eq!(ok["name"], "Microsoft.ApplicationInsights.Metric");
    assert_eq!(ok["data"]["baseType"], "MetricData");
    assert_eq!(ok.get("sampleRate"), None, "metrics are not sampled");
    assert_eq!(
        ok["tags"],
        json!({
            "ai.cloud.role": "shop",
            "ai.cloud.roleInstance": "host-1",
            "ai.device.id": "host-1",
            "ai.device.locale": "en_US",
            "ai.device.type": "Other",
            "ai.internal.nodeName": "host-1",
            "ai.internal.sdkVersion": sdk_version("0.33.1"),
        })
    );
    assert_eq!(
        base(ok),
        &json!({
            "ver": 2,
            "metrics": [{"name": "http.server.request.duration", "value": 0.875, "count": 3, "min": 0.125, "max": 0.5}],
            "properties": {
                "_MS.MetricId": "requests/duration",
                "_MS.IsAutocollected": "True",
                "Request.Success": "True",
                "request/resultCode": "200",
                "cloud/roleInstance": "host-1",
                "cloud/roleName": "shop",
            },
        })
    );
    assert_eq!(
        base(failed)["metrics"],
        json!([{"name": "http.server.request.duration", "value": 2.0, "count": 1, "min": 2.0, "max": 2.0}])
    );
    assert_eq!(base(failed)["properties"]["Request.Success"], "False");
    assert_eq!(base(failed)["properties"]["request/resultCode"], "503");
}

#[test]
fn the_exporters_request_success_rule_decides_the_metric_too() {
    let mut identity = identity();
    identity.request_success = RequestSuccess(std::sync::Arc::new(|r: &RequestOutcome| {
        r.status_code() == Some(404) || r.default_success()
    }));
    let not_found = [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 404),
    ];
    let items = map(&identity, |meter| {
        duration(meter, "http.server.request.duration", &[(0.1, &not_found)]);
    });
    assert_eq!(base(&items[0])["properties"]["Request.Success"], "True");
}

#[test]
fn database_durations_are_dependencies_with_the_items_type_and_target() {
    let select = [
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("server.address", "db.internal"),
        KeyValue::new("server.port", 5432),
        KeyValue::new("db.namespace", "shop"),
        KeyValue::new("db.operation.name", "SELECT"),
        KeyValue::new("db.collection.name", "orders"),
    ];
    let duplicate = [
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("server.address", "db.internal"),
        KeyValue::new("server.port", 5432),
        KeyValue::new("db.namespace", "shop"),
        KeyValue::new("db.operation.name", "INSERT"),
        KeyValue::new("error.type", "23505"),
        KeyValue::new("db.response.status_code", "23505"),
    ];
    let sqlite = [
        KeyValue::new("db.system.name", "sqlite"),
        KeyValue::new("db.operation.name", "SELECT"),
    ];
    let items = map(&identity(), |meter| {
        duration(
            meter,
            "db.client.operation.duration",
            &[
                (0.002, &select),
                (0.004, &select),
                (0.003, &duplicate),
                (0.001, &sqlite),
            ],
        );
    });
    let properties: Vec<&Value> = items.iter().map(|i| &base(i)["properties"]).collect();
    let common = |kind: &str, target: &str, code: &str, success: &str| {
        json!({
            "_MS.MetricId": "dependencies/duration",
            "_MS.IsAutocollected": "True",
            "Dependency.Type": kind,
            "Dependency.Success": success,
            "dependency/target": target,
            "dependency/resultCode": code,
            "cloud/roleInstance": "host-1",
            "cloud/roleName": "shop",
        })
    };
    assert_eq!(
        properties,
        [
            &common("postgresql", "db.internal:5432|shop", "23505", "False"),
            &common("SQL", "sqlite", "0", "True"),
            &common("postgresql", "db.internal:5432|shop", "0", "True"),
        ],
        "one point per attribute set; the operation splits points but is not a dimension"
    );
    assert_eq!(base(&items[2])["metrics"][0]["count"], 2);
}

#[test]
fn client_durations_are_http_dependencies_with_microsofts_target() {
    let call = |scheme: &'static str, port: i64, status: i64| {
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.scheme", scheme),
            KeyValue::new("server.address", "api.example.com"),
            KeyValue::new("server.port", port),
            KeyValue::new("http.response.status_code", status),
        ]
    };
    let items = map(&identity(), |meter| {
        duration(
            meter,
            "http.client.request.duration",
            &[
                (0.1, &call("https", 443, 200)),
                (0.1, &call("http", 8080, 404)),
            ],
        );
    });
    let dims: Vec<_> = items
        .iter()
        .map(|i| {
            let p = &base(i)["properties"];
            (
                p["Dependency.Type"].clone(),
                p["dependency/target"].clone(),
                p["dependency/resultCode"].clone(),
                p["Dependency.Success"].clone(),
            )
        })
        .collect();
    assert_eq!(
        dims,
        [
            (
                json!("http"),
                json!("api.example.com:8080"),
                json!("404"),
                json!("False")
            ),
            (
                json!("http"),
                json!("api.example.com"),
                json!("200"),
                json!("True")
            ),
        ]
    );
}

#[test]
fn rpc_durations_are_requests_and_grpc_dependencies() {
    let server = [
        KeyValue::new("rpc.system.name", "grpc"),
        KeyValue::new("rpc.method", "demo.Greeter/SayHello"),
        KeyValue::new("rpc.response.status_code", "OK"),
    ];
    let client = [
        KeyValue::new("rpc.system.name", "grpc"),
        KeyValue::new("rpc.method", "demo.Greeter/SayHello"),
        KeyValue::new("server.address", "greeter"),
        KeyValue::new("server.port", 50051),
        KeyValue::new("rpc.response.status_code", "UNAVAILABLE"),
        KeyValue::new("error.type", "UNAVAILABLE"),
    ];
    let items = map(&identity(), |meter| {
        duration(meter, "rpc.server.call.duration", &[(0.01, &server)]);
        duration(meter, "rpc.client.call.duration", &[(0.02, &client)]);
    });
    let by_id = |id: &str| {
        items
            .iter()
            .map(|i| &base(i)["properties"])
            .find(|p| p["_MS.MetricId"] == id)
            .unwrap()
            .clone()
    };
    let request = by_id("requests/duration");
    assert_eq!(
        (&request["request/resultCode"], &request["Request.Success"]),
        (&json!("OK"), &json!("True"))
    );
    let dependency = by_id("dependencies/duration");
    assert_eq!(
        [
            &dependency["Dependency.Type"],
            &dependency["dependency/target"],
            &dependency["dependency/resultCode"],
            &dependency["Dependency.Success"]
        ],
        [
            &json!("grpc"),
            &json!("greeter:50051"),
            &json!("UNAVAILABLE"),
            &json!("False")
        ]
    );
}

#[test]
fn other_instruments_are_custom_metrics_with_their_attributes_as_dimensions() {
    // Booleans are written as Microsoft's exporters write them.
    let items = map(&identity(), |meter| {
        let placed = meter.u64_counter("orders.placed").build();
        let web = [
            KeyValue::new("channel", "web"),
            KeyValue::new("express", true),
        ];
        placed.add(2, &web);
        placed.add(3, &web);
        let active = meter
            .i64_up_down_counter("http.server.active_requests")
            .build();
        active.add(1, &[KeyValue::new("http.request.method", "GET")]);
        let sizes = meter.u64_histogram("batch.size").build();
        sizes.record(7, &[KeyValue::new("k".repeat(200), "v".repeat(9000))]);
    });
    let [channel, method, long] = items.as_slice() else {
        panic!("{items:#?}")
    };
    assert_eq!(
        base(channel),
        &json!({"ver": 2, "metrics": [{"name": "orders.placed", "value": 5.0, "count": 1}], "properties": {"channel": "web", "express": "True"}})
    );
    assert_eq!(
        base(method),
        &json!({"ver": 2, "metrics": [{"name": "http.server.active_requests", "value": 1.0, "count": 1}], "properties": {"http.request.method": "GET"}})
    );
    assert_eq!(
        base(long)["metrics"],
        json!([{"name": "batch.size", "value": 7.0, "count": 1, "min": 7.0, "max": 7.0}])
    );
    crate::mapping::tests::assert_first_property_cut_to_the_limits(&base(long)["properties"]);
}

#[test]
fn synthetic_requests_are_tagged_and_split() {
    let bot = [
        KeyValue::new("http.request.method", "GET"),
        KeyValue::new("http.response.status_code", 200),
        KeyValue::new("user_agent.synthetic.type", "bot"),
    ];
    let items = map(&identity(), |meter| {
        duration(meter, "http.server.request.duration", &[(0.1, &bot)]);
    });
    assert_eq!(items[0]["tags"]["ai.operation.syntheticSource"], "True");
    assert_eq!(base(&items[0])["properties"]["operation/synthetic"], "True");
}
