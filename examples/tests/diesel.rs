//! Runs the diesel example as a newcomer would, on SQLite and on the
//! PostgreSQL server, and checks the tree it prints and the JSON lines it
//! writes.

use std::process::Command;

use census_integration_tests::services;
use serde_json::Value;

/// Runs the example with `args`; returns its standard output and the spans
/// it wrote as JSON lines.
fn run(args: &[&str]) -> (String, Vec<Value>) {
    let jsonl = std::env::temp_dir().join(format!(
        "census-diesel-{}-{}.jsonl",
        args.join("-"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&jsonl);
    let output = Command::new(census_integration_tests::process::example_binary("diesel"))
        .args(args)
        .env("CENSUS_EXPORT_JSONL", &jsonl)
        .env("POSTGRES_URL", services::postgres_url())
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
    let spans = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let _ = std::fs::remove_file(&jsonl);
    (stdout, spans)
}

const STATEMENTS: [&str; 7] = [
    "CREATE products",
    "INSERT products",
    "BEGIN",
    "UPDATE products",
    "COMMIT",
    "DELETE products",
    "INSERT products",
];

fn check(stdout: &str, spans: &[Value], system: &str) {
    let tree = stdout.split("── trace ").nth(1).expect("a tree");
    assert!(tree.starts_with(|c: char| c.is_ascii_hexdigit()), "{tree}");
    let lines: Vec<&str> = tree.lines().collect();
    assert!(lines[1].starts_with("restock [internal]"), "{tree}");
    let children: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("├─ ").or_else(|| l.strip_prefix("└─ ")))
        .map(|l| l.split(" [client]").next().unwrap())
        .collect();
    assert_eq!(children, STATEMENTS, "{tree}");
    assert!(
        tree.contains("└─ INSERT products [client]") && tree.contains("ERROR:"),
        "{tree}"
    );

    let [root] = spans
        .iter()
        .filter(|s| s["name"] == "restock")
        .collect::<Vec<_>>()[..]
    else {
        panic!("{spans:?}")
    };
    let statements: Vec<&Value> = spans
        .iter()
        .filter(|s| s["parent_span_id"] == root["span_id"])
        .collect();
    assert_eq!(statements.len(), STATEMENTS.len(), "{statements:?}");
    for span in &statements {
        assert_eq!(span["kind"], "client");
        assert_eq!(span["attributes"]["db.system.name"], system);
    }
    let failed = statements.last().unwrap();
    assert_eq!(
        failed["attributes"]["db.query.text"],
        "INSERT INTO products VALUES (?, ?, ?)"
    );
    for secret in ["sku-42", "teapot", "kettle again", services::PASSWORD] {
        assert!(!stdout.contains(secret), "{secret} printed:\n{stdout}");
        assert!(
            !spans.iter().any(|s| s.to_string().contains(secret)),
            "{secret} exported"
        );
    }
}

#[test]
fn on_sqlite_by_default_the_statements_print_under_their_span() {
    let (stdout, spans) = run(&[]);
    check(&stdout, &spans, "sqlite");
}

#[test]
fn on_postgres_the_target_comes_from_the_url_without_its_password() {
    let (stdout, spans) = run(&["--db", "postgres"]);
    check(&stdout, &spans, "postgresql");
    assert!(
        stdout.contains("server.address=127.0.0.1 server.port=5432 db.namespace=census"),
        "{stdout}"
    );
}
