//! Runs the quickstart example as a newcomer would and checks the trees it
//! prints and the JSON lines it writes. `cargo test` builds examples before
//! running tests, so the binary sits next to this test's.

use std::path::PathBuf;
use std::process::Command;

use std::collections::BTreeSet;
use std::time::Duration;

use census_integration_tests::ingestion::Ingestion;
use serde_json::Value;

fn example_binary() -> PathBuf {
    census_integration_tests::process::example_binary("quickstart")
}

/// The spans a run wrote to `path`, which is removed.
fn take_json_lines(path: &std::path::Path) -> Vec<Value> {
    let spans = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(path);
    spans
}

fn find(spans: &[Value], pred: impl Fn(&Value) -> bool) -> Vec<&Value> {
    spans.iter().filter(|s| pred(s)).collect()
}

#[test]
fn quickstart_prints_linked_trees_and_writes_the_same_links_as_json_lines() {
    let jsonl =
        std::env::temp_dir().join(format!("census-quickstart-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let output = Command::new(example_binary())
        .env("CENSUS_EXPORT_JSONL", &jsonl)
        .env_remove("CENSUS_INTEGRATIONS")
        .env_remove("CENSUS_DISABLED_INTEGRATIONS")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The console tree: server span with internal, SQLite and HTTP children,
    // the HTTP child continued by the stock server span.
    let tree = stdout
        .split("── trace ")
        .skip(1)
        .find(|t| t.contains("url.path=/orders/sku-42"))
        .expect("a tree for the first order");
    let lines: Vec<&str> = tree.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix:?} in\n{tree}"))
    };
    let client = at("GET [client]");
    let server = at("└─ GET /orders/{sku} [server]");
    let internal = at("   ├─ validate order [internal]");
    let sql = at("   ├─ SELECT products [client]");
    let http = at("   └─ GET [client]");
    let stock = at("      └─ GET /stock/{sku} [server]");
    assert!(
        client < server && server < internal && internal < sql && sql < http && http < stock,
        "{tree}"
    );
    assert!(
        lines[sql + 1].contains(
            r#"db.query.text="SELECT name, price FROM products WHERE sku = ? AND status = ?""#
        ),
        "{tree}"
    );
    assert!(!stdout.contains("'active'"), "the literal never prints");
    // After the trees, every call measured: three orders, each one query.
    let table = stdout
        .split("── metrics ──\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no metrics table in\n{stdout}"));
    let calls = |what: &str| {
        table
            .lines()
            .find(|line| line.ends_with(what))
            .and_then(|line| line.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{what:?} in\n{table}"))
    };
    assert_eq!(calls("http server GET /orders/{sku}"), 3, "{table}");
    assert_eq!(calls("database sqlite SELECT products"), 3, "{table}");

    // The JSON lines: the same spans and links.
    let spans = take_json_lines(&jsonl);
    let orders = find(&spans, |s| {
        s["name"] == "GET /orders/{sku}" && s["attributes"]["url.path"] == "/orders/sku-42"
    });
    let [order] = orders.as_slice() else {
        panic!("{orders:?}")
    };
    assert_eq!(order["kind"], "server");
    let children = find(&spans, |s| s["parent_span_id"] == order["span_id"]);
    let kinds: Vec<(&str, &str)> = children
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for expected in [
        ("validate order", "internal"),
        ("SELECT products", "client"),
        ("GET", "client"),
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected:?} not among {kinds:?}"
        );
    }
    let sql = children
        .iter()
        .find(|s| s["name"] == "SELECT products")
        .unwrap();
    assert_eq!(sql["attributes"]["db.system.name"], "sqlite");
    assert_eq!(sql["attributes"]["db.query.summary"], "SELECT products");
    assert_eq!(
        sql["attributes"]["db.query.text"],
        "SELECT name, price FROM products WHERE sku = ? AND status = ?"
    );
    let call = children.iter().find(|s| s["name"] == "GET").unwrap();
    let continued = find(&spans, |s| s["parent_span_id"] == call["span_id"]);
    let [stock] = continued.as_slice() else {
        panic!("{continued:?}")
    };
    assert_eq!(stock["name"], "GET /stock/{sku}");
    assert_eq!(stock["kind"], "server");
    assert_eq!(stock["trace_id"], order["trace_id"]);
    assert_eq!(call["trace_id"], order["trace_id"]);
    // The order itself continues the outer client call, whose span is the root.
    let roots = find(&spans, |s| s["span_id"] == order["parent_span_id"]);
    let [root] = roots.as_slice() else {
        panic!("{roots:?}")
    };
    assert_eq!(
        (root["kind"].as_str(), root["parent_span_id"].is_null()),
        (Some("client"), true)
    );
}

/// The quickstart with Application Insights and JSON lines on together:
/// every envelope validates against the Track API, the mapped values match
/// each integration's spans, and both exporters got the same spans.
#[test]
fn quickstart_sends_valid_correlated_telemetry_to_application_insights() {
    let server = Ingestion::start();
    let jsonl =
        std::env::temp_dir().join(format!("census-quickstart-ai-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&jsonl);
    let output = Command::new(example_binary())
        .env(
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            server.connection_string(),
        )
        .env("CENSUS_EXPORT_JSONL", &jsonl)
        .env("OTEL_SERVICE_NAME", "quickstart")
        .env_remove("CENSUS_INTEGRATIONS")
        .env_remove("CENSUS_DISABLED_INTEGRATIONS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        !stdout.contains("── trace"),
        "no console trees while sending to Application Insights"
    );

    let spans = take_json_lines(&jsonl);
    for span in &spans {
        let attributes = span["attributes"].as_object().unwrap();
        assert!(
            attributes.keys().all(|key| !key.starts_with("census.")),
            "the JSON lines get no operation name attribute: {attributes:?}"
        );
    }
    let accepted = server.wait_accepted(spans.len(), Duration::from_secs(10));
    assert_eq!(server.violations(), Vec::<String>::new());
    let (metrics, items): (Vec<Value>, Vec<Value>) = accepted
        .into_iter()
        .partition(|i| i["name"] == "Microsoft.ApplicationInsights.Metric");
    assert_eq!(
        items.len(),
        spans.len(),
        "one envelope per span, no events in the quickstart"
    );
    // Every call measured once, in the standard metrics the items defer to.
    let counted = |id: &str| -> u64 {
        metrics
            .iter()
            .filter(|m| m["data"]["baseData"]["properties"]["_MS.MetricId"] == id)
            .map(|m| {
                m["data"]["baseData"]["metrics"][0]["count"]
                    .as_u64()
                    .unwrap()
            })
            .sum()
    };
    let marked = |name: &str| {
        items
            .iter()
            .filter(|i| i["name"] == name)
            .inspect(|i| {
                assert_eq!(
                    i["data"]["baseData"]["properties"]["_MS.ProcessedByMetricExtractors"], "True",
                    "{i:#}"
                )
            })
            .count() as u64
    };
    assert_eq!(
        counted("requests/duration"),
        marked("Microsoft.ApplicationInsights.Request")
    );
    let in_process = items
        .iter()
        .filter(|i| i["data"]["baseData"]["type"] == "InProc")
        .count() as u64;
    let dependencies = items
        .iter()
        .filter(|i| i["name"] == "Microsoft.ApplicationInsights.RemoteDependency")
        .count() as u64;
    assert_eq!(
        counted("dependencies/duration"),
        dependencies - in_process,
        "in-process work is not a measured call"
    );
    let ids = |list: &[Value], key: &dyn Fn(&Value) -> &Value| -> BTreeSet<String> {
        list.iter()
            .map(|v| key(v).as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids(&items, &|i| &i["data"]["baseData"]["id"]),
        ids(&spans, &|s| &s["span_id"]),
        "same spans to both exporters"
    );

    let base = |item: &Value| item["data"]["baseData"].clone();
    let find = |name: &str, url_or_data: &str| -> Value {
        items
            .iter()
            .find(|i| {
                let b = &i["data"]["baseData"];
                b["name"] == name
                    && (b["url"] == url_or_data
                        || b["data"] == url_or_data
                        || url_or_data.is_empty())
            })
            .unwrap_or_else(|| panic!("no {name} {url_or_data} in {items:#?}"))
            .clone()
    };
    let port = stdout
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_owned();
    let host = format!("127.0.0.1:{port}");

    let order = find("GET /orders/{sku}", &format!("http://{host}/orders/sku-42"));
    assert_eq!(order["name"], "Microsoft.ApplicationInsights.Request");
    assert_eq!(
        (
            base(&order)["responseCode"].clone(),
            base(&order)["success"].clone()
        ),
        (Value::from("200"), Value::from(true))
    );
    let tags = &order["tags"];
    let trace = tags["ai.operation.id"].as_str().unwrap().to_owned();
    assert_eq!(tags["ai.operation.name"], "GET /orders/{sku}");
    assert_eq!(tags["ai.cloud.role"], "quickstart");
    // Microsoft's layout, with the OpenTelemetry SDK's version from its
    // resource: `ulm_rs1.95.0:otel0.33.1:ext0.1.0`.
    let version = tags["ai.internal.sdkVersion"].as_str().unwrap();
    assert!(
        version.starts_with("ulm_rs1.")
            && version.contains(":otel0.33.")
            && version.contains(":ext0.1."),
        "{version}"
    );
    let order_id = base(&order)["id"].as_str().unwrap().to_owned();

    let in_trace = |i: &&Value| i["tags"]["ai.operation.id"] == trace.as_str();
    let children: Vec<&Value> = items
        .iter()
        .filter(in_trace)
        .filter(|i| i["tags"]["ai.operation.parentId"] == order_id.as_str())
        .collect();
    assert_eq!(children.len(), 3, "{children:#?}");
    for child in &children {
        assert_eq!(
            child["name"],
            "Microsoft.ApplicationInsights.RemoteDependency"
        );
        assert_eq!(child["tags"]["ai.operation.name"], "GET /orders/{sku}");
    }
    let of_type = |kind: &str| {
        children
            .iter()
            .find(|c| c["data"]["baseData"]["type"] == kind)
            .unwrap_or_else(|| panic!("{kind}"))
    };
    let inproc = base(of_type("InProc"));
    assert_eq!(inproc["name"], "validate order");
    let sql = base(of_type("SQL"));
    assert_eq!(sql["name"], "SELECT products");
    assert_eq!(
        sql["data"],
        "SELECT name, price FROM products WHERE sku = ? AND status = ?"
    );
    assert!(
        sql["target"].as_str().unwrap().contains("sqlx-in-memory"),
        "{sql}"
    );
    assert_eq!(sql["resultCode"], "0");
    assert_eq!(
        sql["properties"],
        serde_json::json!({"_MS.ProcessedByMetricExtractors": "True"}),
        "standard attributes are not repeated as properties, as Microsoft's exporter does: {sql}"
    );
    let call = base(of_type("HTTP"));
    assert_eq!(call["name"], "GET /stock/sku-42");
    assert_eq!(call["target"], host.as_str());
    assert_eq!(call["data"], format!("http://{host}/stock/sku-42"));
    assert_eq!(
        (call["resultCode"].clone(), call["success"].clone()),
        (Value::from("200"), Value::from(true))
    );

    // The stock request continues the HTTP dependency across `traceparent`.
    let stock = items
        .iter()
        .filter(in_trace)
        .find(|i| i["data"]["baseData"]["name"] == "GET /stock/{sku}")
        .unwrap();
    assert_eq!(stock["tags"]["ai.operation.parentId"], call["id"]);
    assert_eq!(stock["tags"]["ai.operation.name"], "GET /stock/{sku}");

    // A 404 fails the request in Application Insights (as Microsoft's
    // exporters send it), though its span status stays unset.
    let missing = find(
        "GET /orders/{sku}",
        &format!("http://{host}/orders/sku-404"),
    );
    assert_eq!(
        (
            base(&missing)["responseCode"].clone(),
            base(&missing)["success"].clone()
        ),
        (Value::from("404"), Value::from(false))
    );
    let caller = find("GET /orders/sku-404", "");
    assert_eq!(
        (
            base(&caller)["resultCode"].clone(),
            base(&caller)["success"].clone()
        ),
        (Value::from("404"), Value::from(false))
    );
    assert!(
        caller["tags"].get("ai.operation.parentId").is_none(),
        "the caller's span is the root"
    );
}
