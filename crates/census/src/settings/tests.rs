use std::collections::HashMap;

use census_core::http::RequestInfo;
use opentelemetry::trace::TraceContextExt;

use super::*;

const FILE: &str = r#"
service_name = "shop"
sampler = "parentbased_traceidratio"
sampler_arg = 0.25
exporter = "console"
otlp_endpoint = "http://collector:4318"
propagators = "b3multi"
excluded_paths = ["/health", "/static/*"]
excluded_hosts = ["metadata.internal"]
"#;

fn expected() -> Settings {
    Settings {
        service_name: Some("shop".into()),
        sampler: SamplerName::ParentbasedTraceIdRatio,
        sampler_arg: Some(0.25),
        exporter: Some("console".into()),
        otlp_endpoint: Some("http://collector:4318".into()),
        propagators: Format::B3Multi,
        excluded_paths: vec!["/health".into(), "/static/*".into()],
        excluded_hosts: vec!["metadata.internal".into()],
    }
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

#[test]
fn a_settings_file_gives_every_key() {
    let path = std::env::temp_dir().join(format!("census-settings-{}.toml", std::process::id()));
    std::fs::write(&path, FILE).unwrap();
    let settings = Settings::from_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(settings.unwrap(), expected());
    assert_eq!(Settings::from_toml("").unwrap(), Settings::default());
}

#[test]
fn the_environment_overrides_the_file() {
    let settings = Settings::from_toml(FILE)
        .unwrap()
        .overridden_by(&env(&[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://otel:4318"),
            ("OTEL_PROPAGATORS", "tracecontext,baggage"),
            ("CENSUS_EXCLUDED_PATHS", "/metrics, /ready"),
            ("CENSUS_EXCLUDED_HOSTS", "localhost:9000"),
        ]))
        .unwrap();
    assert_eq!(
        settings,
        Settings {
            service_name: Some("checkout".into()),
            sampler: SamplerName::TraceIdRatio,
            sampler_arg: Some(0.5),
            exporter: Some("otlp".into()),
            otlp_endpoint: Some("http://otel:4318".into()),
            propagators: Format::TraceContext,
            excluded_paths: vec!["/metrics".into(), "/ready".into()],
            excluded_hosts: vec!["localhost:9000".into()],
        }
    );
    // Unset variables change nothing.
    assert_eq!(
        Settings::from_toml(FILE)
            .unwrap()
            .overridden_by(&env(&[]))
            .unwrap(),
        expected()
    );
}

#[test]
fn each_invalid_variable_is_named_with_its_value() {
    for (key, value) in [
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_TRACES_SAMPLER_ARG", "half"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ("OTEL_PROPAGATORS", "jaeger"),
        ("CENSUS_EXCLUDED_PATHS", "health"),
    ] {
        let error = Settings::default()
            .overridden_by(&env(&[(key, value)]))
            .unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, SettingsError::Invalid { .. }), "{message}");
        let named = if key == "CENSUS_EXCLUDED_PATHS" {
            "excluded_paths"
        } else {
            key
        };
        assert!(message.contains(named), "{message}");
        assert!(message.contains(value), "{message}");
    }
}

#[test]
fn each_invalid_key_is_named_with_its_value() {
    for (text, key, value) in [
        ("sampler = \"sometimes\"", "sampler", "sometimes"),
        ("sampler_arg = 2.0", "sampler_arg", "2"),
        ("propagators = \"jaeger\"", "propagators", "jaeger"),
        ("excluded_paths = [\"health\"]", "excluded_paths", "health"),
        ("sampler_rate = 0.5", "sampler_rate", "sampler_rate"),
    ] {
        let message = Settings::from_toml(text).unwrap_err().to_string();
        assert!(
            message.contains(key) && message.contains(value),
            "{text}: {message}"
        );
    }
}

#[test]
fn exclusions_reach_the_http_hooks() {
    let hooks = expected().http_hooks();
    let headers = |_: &str| None;
    let request = |path, host| RequestInfo::new(&http::Method::GET, path, Some(host), &headers);
    assert!(!hooks.traces_incoming(&request("/health", "shop.local")));
    assert!(!hooks.traces_incoming(&request("/static/app.js", "shop.local")));
    assert!(hooks.traces_incoming(&request("/users/1", "shop.local")));
    assert!(!hooks.traces_outgoing(&request("/", "metadata.internal:80")));
    assert!(hooks.traces_outgoing(&request("/health", "shop.local")));
    // A server is not excluded for its own host name, nor a client call
    // for its path.
    assert!(hooks.traces_incoming(&request("/", "metadata.internal")));
}

#[test]
fn the_tracer_gets_the_sampler_asked_for() {
    for (sampler, arg, records) in [
        ("traceidratio", Some(0.0), false),
        ("traceidratio", Some(1.0), true),
        ("always_off", None, false),
        ("always_on", None, true),
        ("parentbased_always_off", None, false),
        ("parentbased_always_on", None, true),
        ("parentbased_traceidratio", Some(1.0), true),
        ("parentbased_traceidratio", Some(0.0), false),
    ] {
        let mut settings = Settings::from_toml(&format!("sampler = \"{sampler}\"")).unwrap();
        settings.sampler_arg = arg;
        settings.exporter = Some("none".into());
        let tracer = settings.tracer_builder().unwrap().install(false).build();
        let span = tracer.span("probe");
        let recording = opentelemetry::Context::current().span().is_recording();
        drop(span);
        assert_eq!(recording, records, "{sampler} {arg:?}");
        tracer.shutdown(std::time::Duration::from_secs(5)).unwrap();
    }
    let mut out_of_range = Settings::from_toml("sampler = \"traceidratio\"").unwrap();
    out_of_range.sampler_arg = Some(3.0);
    let error = out_of_range.tracer_builder().unwrap_err().to_string();
    assert!(
        error.contains("sampler_arg") && error.contains('3'),
        "{error}"
    );
}
