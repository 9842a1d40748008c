//! `CENSUS_INTEGRATIONS` and `CENSUS_DISABLED_INTEGRATIONS` read from a
//! real process environment, through the `census` facade.

use std::process::Command;

use serde_json::{Value, json};

fn probe(args: &[&str], env: &[(&str, &str)]) -> Value {
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
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn code_names_and_the_enable_variable_add_up() {
    let out = probe(&["axum"], &[("CENSUS_INTEGRATIONS", "sqlx,requests")]);
    assert_eq!(
        out,
        json!({ "outcome": { "returned": ["tower", "sqlx", "reqwest"] }, "enabled": ["reqwest", "sqlx", "tower"] })
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
fn a_feature_off_name_in_the_environment_is_reported_with_its_fix() {
    let out = probe(&["sqlx"], &[("CENSUS_INTEGRATIONS", "pymongo")]);
    assert_eq!(
        out,
        json!({
            "outcome": { "error":
                "integration `pymongo` (from CENSUS_INTEGRATIONS) is not compiled into this build: \
                 enable the `mongodb` cargo feature of `census` (census = { version = \"0.1\", \
                 features = [\"mongodb\"] }); compiled into this build: tower, reqwest, sqlx" },
            "enabled": []
        })
    );
}
