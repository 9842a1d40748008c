//! Runs the quickstart example as a newcomer would and checks the trees it
//! prints and the JSON lines it writes. `cargo test` builds examples before
//! running tests, so the binary sits next to this test's.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/quickstart-<hash> -> target/<profile>/examples/quickstart
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("quickstart");
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p census-examples` (it builds the example first)",
        path.display()
    );
    path
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

    // The JSON lines: the same spans and links.
    let spans: Vec<Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(&jsonl);
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
