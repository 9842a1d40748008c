use std::sync::{Mutex, MutexGuard};

use super::*;
use crate::test_support::SharedBuffer;

/// The registry is process-wide; these tests take turns.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    for integration in Integration::ALL {
        integration.set_enabled(false);
    }
    guard
}

const COMPILED: &[Integration] = &[Integration::Tower, Integration::Reqwest, Integration::Sqlx];

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |key| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_owned())
    }
}

#[test]
fn enables_names_and_aliases_once_and_returns_them() {
    let _g = exclusive();
    let enabled = try_trace_integrations_with_env(
        COMPILED,
        &["requests", "AXUM", " sqlx ", "reqwest"],
        &env(&[]),
    )
    .unwrap();
    assert_eq!(enabled, vec!["reqwest", "tower", "sqlx"]);
    assert!(Integration::Reqwest.is_enabled());
    assert!(Integration::Tower.is_enabled());
    assert!(Integration::Sqlx.is_enabled());
    assert!(!Integration::Postgres.is_enabled());
}

#[test]
fn unknown_name_is_a_typed_error_that_lists_the_choices() {
    let _g = exclusive();
    let err =
        try_trace_integrations_with_env(COMPILED, &["sqlx", "postgress"], &env(&[])).unwrap_err();
    assert_eq!(
        err,
        IntegrationError::Unknown {
            name: "postgress".into(),
            origin: NameOrigin::Code,
            compiled: vec!["tower", "reqwest", "sqlx"],
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown integration `postgress`; known integrations: reqwest, hyper, postgres, mysql, \
         mongodb, sqlx, diesel, tower, actix; compiled into this build: tower, reqwest, sqlx"
    );
    // All or nothing: the valid name given alongside was not enabled.
    assert!(!Integration::Sqlx.is_enabled());
}

#[test]
fn feature_off_name_names_the_feature_to_enable() {
    let _g = exclusive();
    let err = try_trace_integrations_with_env(COMPILED, &["pymongo"], &env(&[])).unwrap_err();
    assert_eq!(
        err,
        IntegrationError::NotCompiled {
            name: "pymongo".into(),
            origin: NameOrigin::Code,
            feature: "mongodb",
            compiled: vec!["tower", "reqwest", "sqlx"],
        }
    );
    let message = err.to_string();
    assert!(
        message.starts_with(
            "integration `pymongo` is not compiled into this build: enable the `mongodb` cargo \
             feature of `census` (census = { version = \"0.1\", features = [\"mongodb\"] })"
        ),
        "{message}"
    );
    assert!(!Integration::MongoDb.is_enabled());
}

#[test]
fn environment_adds_and_the_disable_list_wins() {
    let _g = exclusive();
    let vars = [(ENV_ENABLED, "sqlx, reqwest"), (ENV_DISABLED, "requests")];
    let enabled =
        try_trace_integrations_with_env(COMPILED, &["tower", "reqwest"], &env(&vars)).unwrap();
    assert_eq!(enabled, vec!["tower", "sqlx"]);
    assert!(!Integration::Reqwest.is_enabled());
}

#[test]
fn disable_list_turns_off_what_an_earlier_call_enabled() {
    let _g = exclusive();
    try_trace_integrations_with_env(COMPILED, &["sqlx"], &env(&[])).unwrap();
    assert!(Integration::Sqlx.is_enabled());
    let enabled =
        try_trace_integrations_with_env(COMPILED, &[], &env(&[(ENV_DISABLED, "sqlx")])).unwrap();
    assert!(enabled.is_empty());
    assert!(!Integration::Sqlx.is_enabled());
}

#[test]
fn environment_errors_say_which_variable() {
    let _g = exclusive();
    let err = try_trace_integrations_with_env(COMPILED, &[], &env(&[(ENV_ENABLED, "sqlx,diesel")]))
        .unwrap_err();
    assert!(matches!(
        &err,
        IntegrationError::NotCompiled {
            origin: NameOrigin::EnvEnabled,
            feature: "diesel",
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("integration `diesel` (from CENSUS_INTEGRATIONS) is not compiled")
    );

    let err = try_trace_integrations_with_env(COMPILED, &[], &env(&[(ENV_DISABLED, "sqlxx")]))
        .unwrap_err();
    assert!(matches!(
        &err,
        IntegrationError::Unknown {
            origin: NameOrigin::EnvDisabled,
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("unknown integration `sqlxx` (from CENSUS_DISABLED_INTEGRATIONS)")
    );
}

#[test]
fn lenient_variant_enables_the_valid_names_and_skips_the_rest() {
    let _g = exclusive();
    let enabled = trace_integrations(COMPILED, &["sqlx", "nope", "diesel"]);
    assert_eq!(enabled, vec!["sqlx"]);
    assert!(Integration::Sqlx.is_enabled());
}

#[test]
fn wrapper_used_while_off_warns_exactly_once() {
    let _g = exclusive();
    let buffer = SharedBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // A fresh state: earlier tests may have used up the warning.
        super::integration::reset_warning_for_tests(Integration::Diesel);
        for _ in 0..3 {
            assert!(!Integration::Diesel.should_trace());
        }
        Integration::Diesel.set_enabled(true);
        assert!(Integration::Diesel.should_trace());
        Integration::Diesel.set_enabled(false);
        assert!(!Integration::Diesel.should_trace());
    });
    let logged = buffer.text();
    assert_eq!(logged.matches("is not enabled").count(), 1, "{logged}");
    assert!(logged.contains("WARN"), "{logged}");
    assert!(
        logged.contains("trace_integrations(&[\"diesel\"])")
            && logged.contains("CENSUS_INTEGRATIONS=diesel"),
        "{logged}"
    );
}
