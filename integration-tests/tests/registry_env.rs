//! `CENSUS_INTEGRATIONS` and `CENSUS_DISABLED_INTEGRATIONS` read from a
//! real process environment, through the `census` facade.

use std::process::Command;

use serde_json::{Value, json};

/// What the errors list: the integrations of the facade features this
/// crate turns on.
const BUILD: &str = "integrations census offers: tower, actix, reqwest, hyper, sqlx, postgres, mysql, mongodb, diesel; \
                     compiled into this build: tower, actix, reqwest, hyper, sqlx, postgres, mysql, mongodb, diesel";

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_registry_probe"));
    command
        .args(args)
        .env_remove("CENSUS_INTEGRATIONS")
        .env_remove("CENSUS_DISABLED_INTEGRATIONS");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    output
}

fn probe(args: &[&str], env: &[(&str, &str)]) -> Value {
    serde_json::from_slice(&run(args, env).stdout).unwrap()
}

#[test]
fn code_names_and_the_enable_variable_add_up() {
    let out = probe(&["axum"], &[("CENSUS_INTEGRATIONS", "sqlx,requests")]);
    assert_eq!(
        out,
        json!({ "outcome": { "returned": ["tower", "sqlx", "reqwest"] }, "enabled": ["tower", "reqwest", "sqlx"] })
    );
}

#[test]
fn the_disable_variable_wins() {
    let out = probe(
        &["sqlx", "tower"],
        &[
            ("CENSUS_INTEGRATIONS", "reqwest"),
            ("CENSUS_DISABLED_INTEGRATIONS", "sqlx,requests"),
        ],
    );
    assert_eq!(
        out,
        json!({ "outcome": { "returned": ["tower"] }, "enabled": ["tower"] })
    );
}

#[test]
fn environment_only_configuration() {
    let out = probe(&[], &[("CENSUS_INTEGRATIONS", "sqlx")]);
    assert_eq!(
        out,
        json!({ "outcome": { "returned": ["sqlx"] }, "enabled": ["sqlx"] })
    );
}

#[test]
fn a_name_that_does_not_ship_is_unknown_and_the_error_lists_what_does() {
    // An OpenCensus integration with no Rust counterpart: no feature to suggest.
    let out = probe(&["sqlx"], &[("CENSUS_INTEGRATIONS", "django")]);
    assert_eq!(
        out,
        json!({
            "outcome": { "error":
                format!("unknown integration `django` (from CENSUS_INTEGRATIONS); {BUILD}") },
            "enabled": []
        })
    );
}

#[test]
fn without_a_tracing_subscriber_problems_are_printed_on_stderr() {
    let output = run(
        &["--lenient", "sqlx", "postgress"],
        &[("CENSUS_INTEGRATIONS", "django")],
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        out,
        json!({ "outcome": { "returned": ["sqlx"] }, "enabled": ["sqlx"] })
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        [
            format!("census: warning: unknown integration `postgress`; {BUILD}"),
            format!(
                "census: warning: unknown integration `django` (from CENSUS_INTEGRATIONS); {BUILD}"
            ),
        ]
    );
}
