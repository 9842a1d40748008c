//! The precedence rules, over a fake environment (the process environment
//! is shared by every test thread; whole processes are tested in
//! `integration-tests`).

use std::ffi::OsString;
use std::path::PathBuf;

use super::*;

/// Read by `census-azure`, which may not be compiled in.
const ENV_CONNECTION_STRING: &str = "APPLICATIONINSIGHTS_CONNECTION_STRING";

fn plan(vars: &[(&str, &str)]) -> Result<Plan, FromEnvError> {
    let lookup = |name: &str| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| OsString::from(value))
    };
    Plan::read(&lookup)
}

/// Traces, metrics and logs all going to `exports`.
fn both(exports: Exports) -> Plan {
    Plan {
        traces: exports,
        metrics: exports,
        logs: exports,
        json_lines: None,
    }
}

fn console() -> Plan {
    both(Exports {
        console: true,
        ..Exports::default()
    })
}

fn nothing() -> Plan {
    both(Exports::default())
}

#[test]
fn nothing_set_prints_to_the_console() {
    assert_eq!(plan(&[]).unwrap(), console());
}

#[test]
fn empty_variables_count_as_unset() {
    let vars = [
        (ENV_TRACES_EXPORTER, ""),
        (ENV_OTLP_ENDPOINT, ""),
        (ENV_OTLP_TRACES_ENDPOINT, ""),
        (ENV_CONNECTION_STRING, ""),
        (ENV_EXPORT_JSONL, ""),
    ];
    assert_eq!(plan(&vars).unwrap(), console());
    assert_eq!(plan(&[(ENV_TRACES_EXPORTER, " , ")]).unwrap(), console());
}

#[test]
fn json_lines_come_in_addition_whatever_else_is_chosen() {
    for others in [
        &[][..],
        &[(ENV_TRACES_EXPORTER, "none")],
        &[(ENV_TRACES_EXPORTER, "console")],
    ] {
        let mut vars = others.to_vec();
        vars.push((ENV_EXPORT_JSONL, "spans.jsonl"));
        let plan = plan(&vars).unwrap();
        assert_eq!(
            plan.json_lines,
            Some(PathBuf::from("spans.jsonl")),
            "{vars:?}"
        );
    }
}

#[test]
fn the_exporter_list_names_unknown_exporters_and_the_fix() {
    let err = plan(&[(ENV_TRACES_EXPORTER, "otlp,zipkin")]).unwrap_err();
    assert!(
        matches!(&err, FromEnvError::UnknownExporter { variable: ENV_TRACES_EXPORTER, name, list } if name == "zipkin" && list == "otlp,zipkin"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "OTEL_TRACES_EXPORTER=\"otlp,zipkin\" names the exporter `zipkin`, which census does \
         not have; use `otlp`, `console` or `none` (or a comma-separated list of them), or unset it"
    );
}

#[test]
fn none_with_other_exporters_is_refused() {
    let err = plan(&[(ENV_TRACES_EXPORTER, "none,console")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "OTEL_TRACES_EXPORTER=\"none,console\" lists `none` together with other exporters; \
         `none` means no export at all, so set it alone or remove it"
    );
}

#[test]
fn an_unknown_protocol_is_named() {
    let err = plan(&[
        (ENV_TRACES_EXPORTER, "otlp"),
        (ENV_OTLP_PROTOCOL, "http/json"),
    ])
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\" is not an OTLP protocol census speaks; \
         use `http/protobuf` (the default) or `grpc` (cargo feature `otlp-grpc`)"
    );
}

#[test]
fn console_in_the_list_is_the_census_tree() {
    assert_eq!(
        plan(&[(ENV_TRACES_EXPORTER, "console")]).unwrap(),
        console()
    );
}

#[test]
fn metrics_go_where_the_traces_go_unless_their_own_list_says() {
    let traces_off = plan(&[(ENV_TRACES_EXPORTER, "none")]).unwrap();
    assert_eq!(traces_off, nothing());
    let metrics_off = plan(&[(ENV_METRICS_EXPORTER, "none")]).unwrap();
    assert_eq!(metrics_off.traces, console().traces);
    assert_eq!(metrics_off.metrics, Exports::default());
    let metrics_only = plan(&[
        (ENV_TRACES_EXPORTER, "none"),
        (ENV_METRICS_EXPORTER, "console"),
    ])
    .unwrap();
    assert_eq!(metrics_only.traces, Exports::default());
    assert_eq!(metrics_only.metrics, console().metrics);
}

#[test]
fn the_metrics_list_is_checked_like_the_traces_list() {
    let err = plan(&[(ENV_METRICS_EXPORTER, "prometheus")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "OTEL_METRICS_EXPORTER=\"prometheus\" names the exporter `prometheus`, which census \
         does not have; use `otlp`, `console` or `none` (or a comma-separated list of them), or \
         unset it"
    );
    let err = plan(&[(ENV_METRICS_EXPORTER, "console,none")]).unwrap_err();
    assert!(
        matches!(
            err,
            FromEnvError::NoneWithOthers {
                variable: ENV_METRICS_EXPORTER,
                ..
            }
        ),
        "{err:?}"
    );
}

#[cfg(feature = "otlp")]
mod otlp {
    use super::*;

    fn otlp_exports(transport: OtlpTransport) -> Exports {
        Exports {
            otlp: Some(transport),
            ..Exports::default()
        }
    }

    fn otlp(transport: OtlpTransport) -> Plan {
        both(otlp_exports(transport))
    }

    #[test]
    fn either_endpoint_variable_selects_otlp_over_http_protobuf() {
        for endpoint in [ENV_OTLP_ENDPOINT, ENV_OTLP_TRACES_ENDPOINT] {
            assert_eq!(
                plan(&[(endpoint, "http://collector:4318")]).unwrap(),
                otlp(OtlpTransport::HttpProtobuf),
                "{endpoint}"
            );
        }
        assert_eq!(
            plan(&[(ENV_TRACES_EXPORTER, "otlp")]).unwrap(),
            otlp(OtlpTransport::HttpProtobuf)
        );
    }

    #[test]
    fn the_list_decides_over_endpoint_variables() {
        let vars = [
            (ENV_TRACES_EXPORTER, "console"),
            (ENV_OTLP_ENDPOINT, "http://collector:4318"),
        ];
        assert_eq!(plan(&vars).unwrap(), console());
        let vars = [
            (ENV_TRACES_EXPORTER, "none"),
            (ENV_OTLP_ENDPOINT, "http://collector:4318"),
        ];
        assert_eq!(plan(&vars).unwrap(), nothing());
    }

    #[test]
    fn list_entries_are_trimmed_case_insensitive_and_combine() {
        assert_eq!(
            plan(&[(ENV_TRACES_EXPORTER, " OTLP , console,")]).unwrap(),
            both(Exports {
                console: true,
                ..otlp_exports(OtlpTransport::HttpProtobuf)
            })
        );
    }

    #[test]
    fn http_protobuf_may_be_named() {
        let vars = [
            (ENV_OTLP_ENDPOINT, "http://collector:4318"),
            (ENV_OTLP_PROTOCOL, "HTTP/protobuf"),
        ];
        assert_eq!(plan(&vars).unwrap(), otlp(OtlpTransport::HttpProtobuf));
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn grpc_is_chosen_by_protocol_the_traces_variable_first() {
        let vars = [
            (ENV_OTLP_ENDPOINT, "http://collector:4317"),
            (ENV_OTLP_PROTOCOL, "grpc"),
        ];
        assert_eq!(plan(&vars).unwrap(), otlp(OtlpTransport::Grpc));
        let vars = [
            (ENV_OTLP_ENDPOINT, "http://collector:4318"),
            (ENV_OTLP_PROTOCOL, "grpc"),
            (ENV_OTLP_TRACES_PROTOCOL, "http/protobuf"),
        ];
        assert_eq!(
            plan(&vars).unwrap(),
            Plan {
                metrics: otlp_exports(OtlpTransport::Grpc),
                logs: otlp_exports(OtlpTransport::Grpc),
                ..otlp(OtlpTransport::HttpProtobuf)
            },
            "the traces' own variable is not the metrics' or the logs'"
        );
    }

    #[test]
    fn metrics_may_go_to_otlp_alone() {
        let listed = plan(&[(ENV_METRICS_EXPORTER, "otlp")]).unwrap();
        assert_eq!(
            (listed.traces, listed.metrics),
            (console().traces, otlp_exports(OtlpTransport::HttpProtobuf))
        );
        let endpoint = plan(&[(
            ENV_OTLP_METRICS_ENDPOINT,
            "http://collector:4318/v1/metrics",
        )])
        .unwrap();
        assert_eq!(
            (endpoint.traces, endpoint.metrics),
            (
                console().traces,
                Exports {
                    console: true,
                    ..otlp_exports(OtlpTransport::HttpProtobuf)
                }
            ),
            "the metrics endpoint adds OTLP to where the traces go"
        );
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn each_signal_reads_its_own_protocol_first() {
        let vars = [
            (ENV_OTLP_ENDPOINT, "http://collector:4317"),
            (ENV_OTLP_PROTOCOL, "grpc"),
            (ENV_OTLP_METRICS_PROTOCOL, "http/protobuf"),
        ];
        let plan = plan(&vars).unwrap();
        assert_eq!(
            (plan.traces, plan.metrics),
            (
                otlp_exports(OtlpTransport::Grpc),
                otlp_exports(OtlpTransport::HttpProtobuf)
            )
        );
    }

    #[cfg(not(feature = "otlp-grpc"))]
    #[test]
    fn grpc_without_its_feature_names_the_feature() {
        let vars = [(ENV_TRACES_EXPORTER, "otlp"), (ENV_OTLP_PROTOCOL, "grpc")];
        assert_eq!(
            plan(&vars).unwrap_err().to_string(),
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" asks for OTLP over gRPC, but census was built \
             without its cargo feature `otlp-grpc`; enable it (census = { features = \
             [\"otlp-grpc\"] }) or unset OTEL_EXPORTER_OTLP_PROTOCOL"
        );
    }

    #[cfg(feature = "azure")]
    #[test]
    fn application_insights_goes_beside_otlp_unless_the_list_says_none() {
        let vars = [
            (ENV_CONNECTION_STRING, "InstrumentationKey=k"),
            (ENV_OTLP_TRACES_ENDPOINT, "http://collector:4318/v1/traces"),
        ];
        assert_eq!(
            plan(&vars).unwrap(),
            both(Exports {
                azure: Some(Azure::ConnectionString),
                ..otlp_exports(OtlpTransport::HttpProtobuf)
            })
        );
        let vars = [
            (ENV_CONNECTION_STRING, "InstrumentationKey=k"),
            (ENV_TRACES_EXPORTER, "none"),
        ];
        assert_eq!(plan(&vars).unwrap(), nothing());
    }
}

#[cfg(feature = "azure")]
#[test]
fn a_connection_string_alone_sends_to_application_insights_only() {
    let azure = Exports {
        azure: Some(Azure::ConnectionString),
        ..Exports::default()
    };
    assert_eq!(
        plan(&[(ENV_CONNECTION_STRING, "InstrumentationKey=k")]).unwrap(),
        both(azure)
    );
    assert_eq!(
        plan(&[
            (ENV_CONNECTION_STRING, "InstrumentationKey=k"),
            (ENV_TRACES_EXPORTER, "console")
        ])
        .unwrap(),
        both(Exports {
            console: true,
            ..azure
        })
    );
    let metrics_off = plan(&[
        (ENV_CONNECTION_STRING, "InstrumentationKey=k"),
        (ENV_METRICS_EXPORTER, "none"),
    ])
    .unwrap();
    assert_eq!(
        (metrics_off.traces, metrics_off.metrics, metrics_off.logs),
        (azure, Exports::default(), azure),
        "`none` turns a signal off, Application Insights included"
    );
    let logs_off = plan(&[
        (ENV_CONNECTION_STRING, "InstrumentationKey=k"),
        (ENV_LOGS_EXPORTER, "none"),
    ])
    .unwrap();
    assert_eq!(
        (logs_off.metrics, logs_off.logs),
        (azure, Exports::default())
    );
}

#[test]
fn logs_go_where_the_traces_go_unless_their_own_list_says() {
    let logs_off = plan(&[(ENV_LOGS_EXPORTER, "none")]).unwrap();
    assert_eq!(
        (logs_off.traces, logs_off.metrics, logs_off.logs),
        (console().traces, console().metrics, Exports::default())
    );
    let logs_only = plan(&[
        (ENV_TRACES_EXPORTER, "none"),
        (ENV_METRICS_EXPORTER, "none"),
        (ENV_LOGS_EXPORTER, "Console"),
    ])
    .unwrap();
    assert_eq!(
        (logs_only.traces, logs_only.logs),
        (Exports::default(), console().logs)
    );
    let err = plan(&[(ENV_LOGS_EXPORTER, "syslog")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "OTEL_LOGS_EXPORTER=\"syslog\" names the exporter `syslog`, which census does \
         not have; use `otlp`, `console` or `none` (or a comma-separated list of them), or unset it"
    );
}

#[cfg(feature = "otlp")]
#[test]
fn the_logs_endpoint_adds_otlp_for_logs_only() {
    let plan = plan(&[(ENV_OTLP_LOGS_ENDPOINT, "http://collector:4318/v1/logs")]).unwrap();
    assert_eq!(plan.traces, console().traces);
    assert_eq!(
        plan.logs,
        Exports {
            otlp: Some(OtlpTransport::HttpProtobuf),
            console: true,
            ..Exports::default()
        }
    );
}

#[cfg(not(feature = "azure"))]
#[test]
fn without_the_azure_feature_the_connection_string_is_ignored() {
    assert_eq!(
        plan(&[(ENV_CONNECTION_STRING, "InstrumentationKey=k")]).unwrap(),
        console()
    );
}

#[cfg(not(feature = "otlp"))]
#[test]
fn otlp_without_its_feature_names_the_variable_and_the_feature() {
    assert_eq!(
        plan(&[(ENV_OTLP_ENDPOINT, "http://collector:4318")])
            .unwrap_err()
            .to_string(),
        "OTEL_EXPORTER_OTLP_ENDPOINT=\"http://collector:4318\" asks for OTLP export, but census \
         was built without its cargo feature `otlp`; enable it (census = { features = \
         [\"otlp\"] }) or unset OTEL_EXPORTER_OTLP_ENDPOINT"
    );
    assert!(matches!(
        plan(&[(ENV_TRACES_EXPORTER, "otlp")]).unwrap_err(),
        FromEnvError::FeatureOff {
            variable: "OTEL_TRACES_EXPORTER",
            feature: "otlp",
            ..
        }
    ));
}
