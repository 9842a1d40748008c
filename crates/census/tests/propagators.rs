//! The tracer installs the global propagator the settings name, which
//! census's integrations and any other OpenTelemetry code then use. Its
//! own process: the global propagator is process-wide.

use census::settings::Settings;

/// The global propagator's fields, sorted: a composite lists them in no
/// set order.
fn global_fields() -> Vec<String> {
    let mut fields: Vec<String> =
        opentelemetry::global::get_text_map_propagator(|p| p.fields().map(str::to_owned).collect());
    fields.sort_unstable();
    fields
}

#[test]
fn the_settings_propagators_become_the_global_propagator_and_default_to_w3c_and_baggage() {
    // Nothing named: OpenTelemetry's default.
    let tracer = Settings::from_toml("exporter = \"none\"")
        .unwrap()
        .tracer()
        .unwrap();
    assert_eq!(global_fields(), ["baggage", "traceparent", "tracestate"]);
    tracer.shutdown(std::time::Duration::from_secs(1)).unwrap();

    let tracer =
        Settings::from_toml("exporter = \"none\"\npropagators = [\"b3multi\", \"baggage\"]")
            .unwrap()
            .tracer()
            .unwrap();
    assert_eq!(
        global_fields(),
        [
            "b3",
            "baggage",
            "x-b3-flags",
            "x-b3-parentspanid",
            "x-b3-sampled",
            "x-b3-spanid",
            "x-b3-traceid"
        ]
    );
    tracer.shutdown(std::time::Duration::from_secs(1)).unwrap();

    // An application's own propagator is kept when the settings name none.
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let tracer = Settings::from_toml("exporter = \"none\"")
        .unwrap()
        .tracer()
        .unwrap();
    assert_eq!(global_fields(), ["traceparent", "tracestate"]);
    tracer.shutdown(std::time::Duration::from_secs(1)).unwrap();

    // `none`: census installs nothing, and the application's stays.
    let tracer = Settings::from_toml("exporter = \"none\"\npropagators = \"none\"")
        .unwrap()
        .tracer()
        .unwrap();
    assert_eq!(global_fields(), ["traceparent", "tracestate"]);
    tracer.shutdown(std::time::Duration::from_secs(1)).unwrap();
    // An empty list counts as unset; `none` with others is refused.
    assert_eq!(
        Settings::from_toml("propagators = []").unwrap().propagators,
        None
    );
    let mixed = Settings::from_toml("propagators = \"none,b3\"")
        .unwrap_err()
        .to_string();
    assert!(
        mixed.contains("`none` together with propagators"),
        "{mixed}"
    );
}
