use std::sync::{Mutex, MutexGuard};

use super::*;

static TOWER: Integration = Integration::new("tower", "census-tower", "0").with_aliases(&["axum"]);
static REQWEST: Integration =
    Integration::new("reqwest", "census-reqwest", "0").with_aliases(&["requests"]);
static SQLX: Integration = Integration::new("sqlx", "census-sqlx", "0");
static ALL: [&Integration; 3] = [&TOWER, &REQWEST, &SQLX];

const OFFERED: &[Offer] = &[
    Offer::compiled("tower", &TOWER),
    Offer::compiled("reqwest", &REQWEST),
    Offer::compiled("sqlx", &SQLX),
    Offer::not_compiled("mongodb", &["mongodb", "pymongo"]),
];

/// These integrations are process-wide; the tests take turns.
fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    for integration in ALL {
        integration.set_enabled(false);
    }
    guard
}

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |key| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn enabled() -> Vec<&'static str> {
    ALL.iter()
        .filter(|i| i.is_enabled())
        .map(|i| i.name())
        .collect()
}

#[test]
fn enables_names_and_aliases_once_and_returns_them() {
    let _g = exclusive();
    let returned = try_trace_integrations_with_env(
        OFFERED,
        &["requests", "AXUM", " sqlx ", "reqwest"],
        &env(&[]),
    )
    .unwrap();
    assert_eq!(returned, vec!["reqwest", "tower", "sqlx"]);
    assert_eq!(enabled(), vec!["tower", "reqwest", "sqlx"]);
}

#[test]
fn unknown_name_is_a_typed_error_that_lists_the_choices() {
    let _g = exclusive();
    let err =
        try_trace_integrations_with_env(OFFERED, &["sqlx", "postgress"], &env(&[])).unwrap_err();
    assert_eq!(
        err,
        IntegrationError::Unknown {
            name: "postgress".into(),
            origin: NameOrigin::Code,
            offered: vec!["tower", "reqwest", "sqlx", "mongodb"],
            compiled: vec!["tower", "reqwest", "sqlx"],
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown integration `postgress`; integrations census offers: tower, reqwest, sqlx, \
         mongodb; compiled into this build: tower, reqwest, sqlx"
    );
    // All or nothing: the valid name given alongside was not enabled.
    assert!(enabled().is_empty());
}

#[test]
fn feature_off_name_names_the_feature_to_enable() {
    let _g = exclusive();
    let err = try_trace_integrations_with_env(OFFERED, &["pymongo"], &env(&[])).unwrap_err();
    assert_eq!(
        err,
        IntegrationError::NotCompiled {
            name: "pymongo".into(),
            origin: NameOrigin::Code,
            feature: "mongodb",
            compiled: vec!["tower", "reqwest", "sqlx"],
        }
    );
    assert_eq!(
        err.to_string(),
        "integration `pymongo` is not compiled into this build: enable the `mongodb` cargo \
         feature of `census` (census = { version = \"0.1\", features = [\"mongodb\"] }); \
         compiled into this build: tower, reqwest, sqlx"
    );
}

#[test]
fn environment_adds_and_the_disable_list_wins() {
    let _g = exclusive();
    let vars = [(ENV_ENABLED, "sqlx, reqwest"), (ENV_DISABLED, "requests")];
    let returned =
        try_trace_integrations_with_env(OFFERED, &["tower", "reqwest"], &env(&vars)).unwrap();
    assert_eq!(returned, vec!["tower", "sqlx"]);
    assert_eq!(enabled(), vec!["tower", "sqlx"]);
}

#[test]
fn disable_list_turns_off_what_an_earlier_call_enabled() {
    let _g = exclusive();
    try_trace_integrations_with_env(OFFERED, &["sqlx"], &env(&[])).unwrap();
    assert_eq!(enabled(), vec!["sqlx"]);
    let returned =
        try_trace_integrations_with_env(OFFERED, &[], &env(&[(ENV_DISABLED, "sqlx,pymongo")]))
            .unwrap();
    assert!(returned.is_empty());
    assert!(enabled().is_empty());
}

#[test]
fn environment_errors_say_which_variable() {
    let _g = exclusive();
    let err = try_trace_integrations_with_env(OFFERED, &[], &env(&[(ENV_ENABLED, "sqlx,mongodb")]))
        .unwrap_err();
    assert!(matches!(
        &err,
        IntegrationError::NotCompiled {
            origin: NameOrigin::EnvEnabled,
            feature: "mongodb",
            ..
        }
    ));
    assert!(
        err.to_string()
            .starts_with("integration `mongodb` (from CENSUS_INTEGRATIONS) is not compiled")
    );

    let err = try_trace_integrations_with_env(OFFERED, &[], &env(&[(ENV_DISABLED, "sqlxx")]))
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

/// Captures what `diagnostics::warn` reports through a `tracing`
/// subscriber: one ` LEVEL message` line per event.
fn logged(f: impl FnOnce()) -> String {
    use std::fmt::Write as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    #[derive(Clone, Default)]
    struct Events(std::sync::Arc<Mutex<String>>);

    struct Message<'a>(&'a mut String);

    impl tracing::field::Visit for Message<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if field.name() == "message" {
                let _ = write!(self.0, "{value:?}");
            }
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Events {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            let mut line = format!(" {} ", event.metadata().level());
            event.record(&mut Message(&mut line));
            line.push('\n');
            self.0.lock().unwrap().push_str(&line);
        }
    }

    let events = Events::default();
    let subscriber = tracing_subscriber::registry().with(events.clone());
    tracing::subscriber::with_default(subscriber, f);
    events.0.lock().unwrap().clone()
}

#[test]
fn lenient_variant_enables_the_valid_names_and_warns_about_the_rest() {
    let _g = exclusive();
    let mut returned = Vec::new();
    let log = logged(|| {
        returned = trace_integrations_with_env(
            OFFERED,
            &["sqlx", "nope", "mongodb"],
            &env(&[(ENV_ENABLED, "tower")]),
        );
    });
    assert_eq!(returned, vec!["sqlx", "tower"]);
    assert_eq!(enabled(), vec!["tower", "sqlx"]);
    assert_eq!(log.matches(" WARN ").count(), 2, "{log}");
    assert!(log.contains("unknown integration `nope`"), "{log}");
    assert!(
        log.contains("enable the `mongodb` cargo feature of `census`"),
        "{log}"
    );
}

#[test]
fn wrapper_used_while_off_warns_exactly_once() {
    let _g = exclusive();
    SQLX.reset_warning_for_tests();
    let log = logged(|| {
        for _ in 0..3 {
            assert!(!SQLX.should_trace());
        }
        SQLX.set_enabled(true);
        assert!(SQLX.should_trace());
        SQLX.set_enabled(false);
        assert!(!SQLX.should_trace());
    });
    assert_eq!(log.matches("is not enabled").count(), 1, "{log}");
    assert!(log.contains("WARN"), "{log}");
    assert!(
        log.contains("trace_integrations(&[\"sqlx\"])") && log.contains("CENSUS_INTEGRATIONS=sqlx"),
        "{log}"
    );
}

static HOOK_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn failing_hook() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    HOOK_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Err("no hook slot".into())
}

static HOOKED: Integration =
    Integration::new("hooked", "census-hooked", "0").with_on_enable(failing_hook);

#[test]
fn the_enable_hook_runs_on_each_switch_on_and_its_failure_is_a_warning() {
    let _g = exclusive();
    let runs = || HOOK_RUNS.load(std::sync::atomic::Ordering::Relaxed);
    let offered = [Offer::compiled("hooked", &HOOKED)];
    let log = logged(|| {
        assert_eq!(
            try_trace_integrations_with_env(&offered, &["hooked"], &env(&[])).unwrap(),
            ["hooked"]
        );
        assert_eq!(runs(), 1);
        // Already on: nothing to set up again.
        HOOKED.set_enabled(true);
        assert_eq!(runs(), 1);
        HOOKED.set_enabled(false);
        assert_eq!(runs(), 1);
        HOOKED.set_enabled(true);
        assert_eq!(runs(), 2);
    });
    assert!(
        HOOKED.is_enabled(),
        "a failed hook leaves the integration on"
    );
    assert_eq!(log.matches(" WARN ").count(), 2, "{log}");
    assert!(
        log.contains("the `hooked` integration is on, but setting it up failed: no hook slot"),
        "{log}"
    );
}

static SLOW_HOOK_DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn slow_hook() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    std::thread::sleep(std::time::Duration::from_millis(200));
    SLOW_HOOK_DONE.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

static SLOW: Integration = Integration::new("slow", "slow", "0").with_on_enable(slow_hook);

#[test]
fn a_concurrent_enabler_returns_only_once_the_hook_has_run() {
    let first = std::thread::spawn(|| SLOW.set_enabled(true));
    std::thread::sleep(std::time::Duration::from_millis(50));
    // The first caller is inside the hook now; this one must wait for it.
    SLOW.set_enabled(true);
    assert!(SLOW_HOOK_DONE.load(std::sync::atomic::Ordering::SeqCst));
    assert!(SLOW.is_enabled());
    first.join().unwrap();
}
