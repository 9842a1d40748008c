use std::collections::HashMap;

use census_core::http::RequestInfo;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};

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
        propagators: Some(vec![PropagatorName::B3Multi]),
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
            propagators: Some(PropagatorName::DEFAULT.to_vec()),
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

/// Whether a tracer from these settings keeps a span of `trace_id` under
/// a caller whose sampled flag is `caller_sampled`, and the
/// `_MS.sampleRate` the kept span carries.
fn decides(settings: &Settings, trace_id: TraceId, caller_sampled: bool) -> (bool, Option<f64>) {
    let exporter = InMemorySpanExporter::default();
    let tracer = settings
        .tracer_builder()
        .unwrap()
        .span_processor(SimpleSpanProcessor::new(exporter.clone()))
        .install(false)
        .build();
    let flags = if caller_sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::NOT_SAMPLED
    };
    let caller = SpanContext::new(trace_id, SpanId::from(7), flags, true, TraceState::NONE);
    let parent = opentelemetry::Context::new().with_remote_span_context(caller);
    let mut span = opentelemetry::trace::TracerProvider::tracer(tracer.provider(), "probe")
        .build_with_context(
            opentelemetry::trace::SpanBuilder::from_name("probe"),
            &parent,
        );
    span.end();
    // Before shutdown, which empties the in-memory exporter.
    let spans = exporter.get_finished_spans().unwrap();
    tracer.shutdown(std::time::Duration::from_secs(5)).unwrap();
    match spans.as_slice() {
        [] => (false, None),
        [kept] => (
            true,
            kept.attributes
                .iter()
                .find(|kv| kv.key.as_str() == census_pipeline::sampling::SAMPLE_RATE_ATTRIBUTE)
                .and_then(|kv| match kv.value {
                    opentelemetry::Value::F64(rate) => Some(rate),
                    _ => None,
                }),
        ),
        more => panic!("{more:?}"),
    }
}

#[test]
fn microsoft_fixed_percentage_is_the_application_insights_rule_from_the_environment_too() {
    let env = env(&[
        ("OTEL_TRACES_SAMPLER", "microsoft.fixed_percentage"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ("OTEL_TRACES_EXPORTER", "none"),
    ]);
    let from_env = Settings::default().overridden_by(&env).unwrap();
    let from_file = Settings::from_toml(
        "sampler = \"microsoft.fixed_percentage\"\nsampler_arg = 0.5\nexporter = \"none\"",
    )
    .unwrap();
    assert_eq!(from_env.sampler, SamplerName::MicrosoftFixedPercentage);
    assert_eq!(from_env, from_file);
    let (mut kept, mut dropped) = (0, 0);
    for i in 0..200u128 {
        let trace_id = TraceId::from(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834) | 1);
        let below = census_pipeline::sampling::sampling_score(&trace_id.to_string()) < 50.0;
        // The caller's flag does not count: the trace id alone decides.
        for caller_sampled in [true, false] {
            let expected = (below, below.then_some(50.0));
            assert_eq!(
                decides(&from_env, trace_id, caller_sampled),
                expected,
                "{trace_id}"
            );
        }
        if below { kept += 1 } else { dropped += 1 }
    }
    assert!(kept > 50 && dropped > 50, "{kept} kept, {dropped} dropped");
}

#[test]
fn opentelemetry_sampler_names_keep_the_sdk_meaning() {
    // `traceidratio` is the SDK's rule: the same decisions as its sampler,
    // and no Application Insights rate.
    let settings =
        Settings::from_toml("sampler = \"traceidratio\"\nsampler_arg = 0.5\nexporter = \"none\"")
            .unwrap();
    let sdk = Sampler::TraceIdRatioBased(0.5);
    for i in 0..100u128 {
        let trace_id = TraceId::from(i.wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15) | 1);
        let expected = opentelemetry_sdk::trace::ShouldSample::should_sample(
            &sdk,
            None,
            trace_id,
            "probe",
            &opentelemetry::trace::SpanKind::Internal,
            &[],
            &[],
        )
        .decision
            == opentelemetry_sdk::trace::SamplingDecision::RecordAndSample;
        assert_eq!(
            decides(&settings, trace_id, true),
            (expected, None),
            "{trace_id}"
        );
    }
    // `parentbased_always_on`, the default, follows the caller.
    let default = Settings::from_toml("exporter = \"none\"").unwrap();
    assert_eq!(decides(&default, TraceId::from(5), true), (true, None));
    assert_eq!(decides(&default, TraceId::from(5), false), (false, None));
    // So does `parentbased_traceidratio`, whatever its ratio says.
    for (ratio, caller_sampled) in [(0.0, true), (1.0, false)] {
        let settings = Settings::from_toml(&format!(
            "sampler = \"parentbased_traceidratio\"\nsampler_arg = {ratio:?}\nexporter = \"none\""
        ))
        .unwrap();
        assert_eq!(
            decides(&settings, TraceId::from(5), caller_sampled),
            (caller_sampled, None),
            "{ratio}"
        );
    }
}

#[test]
fn microsoft_rate_limited_takes_operations_per_second_and_ignores_the_caller() {
    let settings = Settings::default()
        .overridden_by(&env(&[
            ("OTEL_TRACES_SAMPLER", "microsoft.rate_limited"),
            ("OTEL_TRACES_SAMPLER_ARG", "0"),
        ]))
        .unwrap();
    assert_eq!(settings.sampler_arg, Some(0.0));
    // At 0 a second nothing is kept, whatever the caller decided.
    assert_eq!(decides(&settings, TraceId::from(5), true), (false, None));
    let many = Settings::default()
        .overridden_by(&env(&[
            ("OTEL_TRACES_SAMPLER", "microsoft.rate_limited"),
            ("OTEL_TRACES_SAMPLER_ARG", "250"),
        ]))
        .unwrap();
    assert_eq!(many.sampler_arg, Some(250.0), "more than 1 is a rate here");
    for bad in ["-1", "fast"] {
        let error = Settings::default()
            .overridden_by(&env(&[
                ("OTEL_TRACES_SAMPLER", "microsoft.rate_limited"),
                ("OTEL_TRACES_SAMPLER_ARG", bad),
            ]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(bad) && error.contains("operations per second"),
            "{error}"
        );
    }
    let unknown = Settings::default()
        .overridden_by(&env(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")]))
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("jaeger_remote") && unknown.contains("microsoft.fixed_percentage"),
        "{unknown}"
    );
}
