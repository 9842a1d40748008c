//! `Tracer::from_env()`: the exporters an operator chooses with
//! environment variables, so one binary can print locally, send to
//! Application Insights, or send OTLP to a collector without a rebuild.
//!
//! This lives in the facade, not in `census-core`, because choosing an
//! exporter means depending on every exporter; core depends on none.

use std::ffi::OsString;
use std::path::PathBuf;

use census_pipeline::export::{
    ConsoleExporter, ConsoleLogExporter, ConsoleMetricsExporter, JsonLinesExporter,
};
use census_pipeline::{ENV_EXPORT_JSONL, Tracer, TracerBuilder};

use crate::settings::{Settings, SettingsError};

/// Environment variable (OpenTelemetry): the trace exporters to use, a
/// comma-separated list of `otlp`, `console` and `none`.
pub const ENV_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// Environment variable (OpenTelemetry): the metric exporters to use, a
/// comma-separated list of `otlp`, `console` and `none`; unset, metrics go
/// where the traces go.
pub const ENV_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// Environment variable (OpenTelemetry): the log exporters to use, a
/// comma-separated list of `otlp`, `console` and `none`; unset, log
/// records go where the traces go.
pub const ENV_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
pub(crate) const ENV_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub(crate) const ENV_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
pub(crate) const ENV_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
pub(crate) const ENV_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
const ENV_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const ENV_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const ENV_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
const ENV_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";

/// The variables that say where one signal goes.
#[derive(Debug)]
struct Signal {
    /// Its exporter list, e.g. `OTEL_TRACES_EXPORTER`.
    exporters: &'static str,
    /// Endpoints that select OTLP when the list is unset, the signal's own
    /// first.
    endpoints: &'static [&'static str],
    /// Protocol variables, the signal's own first.
    protocols: [&'static str; 2],
}

const TRACES: Signal = Signal {
    exporters: ENV_TRACES_EXPORTER,
    endpoints: &[ENV_OTLP_TRACES_ENDPOINT, ENV_OTLP_ENDPOINT],
    protocols: [ENV_OTLP_TRACES_PROTOCOL, ENV_OTLP_PROTOCOL],
};

/// Metrics follow the traces when their list is unset, so only their own
/// endpoint adds OTLP.
const METRICS: Signal = Signal {
    exporters: ENV_METRICS_EXPORTER,
    endpoints: &[ENV_OTLP_METRICS_ENDPOINT],
    protocols: [ENV_OTLP_METRICS_PROTOCOL, ENV_OTLP_PROTOCOL],
};

/// Log records follow the traces when their list is unset, as metrics do.
const LOGS: Signal = Signal {
    exporters: ENV_LOGS_EXPORTER,
    endpoints: &[ENV_OTLP_LOGS_ENDPOINT],
    protocols: [ENV_OTLP_LOGS_PROTOCOL, ENV_OTLP_PROTOCOL],
};

/// Why the exporters the environment asks for cannot be set up (inside
/// [`SettingsError::Export`] from [`TracerFromEnv::from_env`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FromEnvError {
    /// `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` or
    /// `OTEL_LOGS_EXPORTER` names an exporter census does not have.
    #[error(
        "{variable}={list:?} names the exporter `{name}`, which census does not \
         have; use `otlp`, `console` or `none` (or a comma-separated list of them), or unset it"
    )]
    UnknownExporter {
        /// The variable.
        variable: &'static str,
        /// The unknown entry.
        name: String,
        /// The whole value of the variable.
        list: String,
    },
    /// An exporter list has `none` together with real exporters.
    #[error(
        "{variable}={list:?} lists `none` together with other exporters; \
         `none` means no export at all, so set it alone or remove it"
    )]
    NoneWithOthers {
        /// The variable.
        variable: &'static str,
        /// The whole value of the variable.
        list: String,
    },
    /// The environment asks for an exporter whose cargo feature is off.
    #[error(
        "{variable}={value:?} asks for {what}, but census was built without its cargo \
         feature `{feature}`; enable it (census = {{ features = [\"{feature}\"] }}) or \
         unset {variable}"
    )]
    FeatureOff {
        /// The variable that asked.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What it asked for.
        what: &'static str,
        /// The census cargo feature that provides it.
        feature: &'static str,
    },
    /// `OTEL_EXPORTER_OTLP_[TRACES_|METRICS_|LOGS_]PROTOCOL` names a protocol
    /// census does not speak.
    #[error(
        "{variable}={value:?} is not an OTLP protocol census speaks; use `http/protobuf` \
         (the default) or `grpc` (cargo feature `otlp-grpc`)"
    )]
    UnknownProtocol {
        /// The variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// The JSON-lines file could not be opened.
    #[error(
        "cannot open the JSON-lines file `{}` named by {ENV_EXPORT_JSONL}: {source}; \
         point {ENV_EXPORT_JSONL} at a writable file, or unset it",
        path.display()
    )]
    JsonLinesFile {
        /// The path given.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `APPLICATIONINSIGHTS_CONNECTION_STRING` is set but unusable.
    #[cfg(feature = "azure")]
    #[error(transparent)]
    Azure(#[from] census_azure::AzureExporterError),
    /// The `OTEL_EXPORTER_OTLP_*` variables do not make a working exporter.
    #[cfg(feature = "otlp")]
    #[error(
        "cannot build the OTLP exporter from the OTEL_EXPORTER_OTLP_* variables: {source}; \
         fix or unset the variable it names"
    )]
    Otlp {
        /// What `opentelemetry-otlp` reported.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The thread that runs the gRPC client could not start.
    #[cfg(feature = "otlp-grpc")]
    #[error(
        "cannot start the thread that runs the OTLP gRPC client: {source}; \
         use {ENV_OTLP_PROTOCOL}=http/protobuf, which needs no extra thread"
    )]
    GrpcRuntime {
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// `Tracer::from_env()` (and `TracerBuilder::from_env()`): the tracer the
/// environment describes — exporters, sampler, service name, propagators.
/// Bring it into scope with `use census::prelude::*`.
///
/// It is [`Settings::from_env`](crate::settings::Settings::from_env) built:
/// every variable means the same here and there (see
/// [`settings`](crate::settings) for `OTEL_TRACES_SAMPLER`,
/// `OTEL_TRACES_SAMPLER_ARG`, `OTEL_SERVICE_NAME`, `OTEL_PROPAGATORS` and
/// the exclusions).
///
/// It is a trait because [`Tracer`] is `census-core`'s type, re-exported
/// unchanged so that tracers built either way are the same type; only the
/// facade knows every exporter, so only the facade can offer this
/// constructor, and a trait keeps the call spelled `Tracer::from_env()`.
///
/// The exporters follow these rules, in order:
///
/// 1. `OTEL_TRACES_EXPORTER` (a comma-separated list) decides when set:
///    `otlp` sends OTLP (cargo feature `otlp`), `console` prints trees,
///    `none` (alone) exports nothing, not even to Application Insights.
///    Anything else is an error that names the value.
/// 2. Unset, an `OTEL_EXPORTER_OTLP_ENDPOINT` or
///    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` selects OTLP.
/// 3. `APPLICATIONINSIGHTS_CONNECTION_STRING` adds Application Insights
///    (cargo feature `azure`; without it the variable is ignored), beside
///    what the rules above chose unless that was `none`.
/// 4. With none of these set, trees print to the console (unlike the
///    OpenTelemetry default of `otlp`: a first run shows its telemetry).
/// 5. `CENSUS_EXPORT_JSONL=PATH` always adds JSON lines written to `PATH`.
///
/// Metrics (every call the integrations measure, and the instruments of
/// `opentelemetry::global::meter`) follow `OTEL_METRICS_EXPORTER` the same
/// way (`otlp`, `console`: a table after the trees, `none`); unset, they go
/// where the traces go, and `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` adds OTLP.
/// Application Insights receives them as standard and custom metrics;
/// OTLP with the temporality `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`
/// asks for (cumulative by default), every `OTEL_METRIC_EXPORT_INTERVAL`
/// milliseconds (default 60 000) and at shutdown.
///
/// Log records (what the log bridges write: `census::tracing::logs_layer`,
/// `census::log::install`) follow `OTEL_LOGS_EXPORTER` the same way
/// (`otlp`, `console`: each line under its span in the trees, `none`);
/// unset, they go where the traces go, and
/// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` adds OTLP. Application Insights
/// receives them as traces (messages), exceptions and custom events. A
/// record written inside an operation that sampling dropped is dropped
/// too.
///
/// OTLP goes over HTTP/protobuf unless `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`
/// (`..._METRICS_PROTOCOL`, `..._LOGS_PROTOCOL` for the other signals) or `OTEL_EXPORTER_OTLP_PROTOCOL`
/// says `grpc` (cargo feature `otlp-grpc`). `opentelemetry-otlp` reads the
/// endpoint (appending `/v1/traces`, `/v1/metrics` or `/v1/logs` to
/// `OTEL_EXPORTER_OTLP_ENDPOINT` for HTTP, using the signal's own endpoint
/// variable as it is), headers, compression and
/// timeout variables itself. Every exporter runs behind a batch processor
/// sized by the `OTEL_BSP_*` variables ([`BatchConfig`](crate::batch::BatchConfig)).
///
/// An empty variable counts as unset. Empty entries are skipped, so
/// `otlp,` is `otlp`. Exporter and protocol names are case-insensitive.
///
/// ```
/// use census::prelude::*;
///
/// let tracer = Tracer::from_env()?; // console trees when nothing is set
/// {
///     let _span = tracer.span("compute totals");
/// }
/// tracer.shutdown(std::time::Duration::from_secs(5))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TracerFromEnv: Sized + sealed::Sealed {
    /// Configured from the environment as described on [`TracerFromEnv`].
    fn from_env() -> Result<Self, SettingsError>;
}

/// Installed globally, like [`TracerBuilder::build`].
impl TracerFromEnv for Tracer {
    fn from_env() -> Result<Self, SettingsError> {
        TracerBuilder::from_env().map(TracerBuilder::build)
    }
}

/// The exporters from the environment on a builder that can still take a
/// sampler or a service name:
///
/// ```
/// use census::prelude::*;
/// use census::sampling::ProbabilitySampler;
///
/// let tracer = TracerBuilder::from_env()?
///     .sampler(ProbabilitySampler::new(0.25)?)
///     .install(false)
///     .build();
/// # tracer.shutdown(std::time::Duration::from_secs(5))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl TracerFromEnv for TracerBuilder {
    fn from_env() -> Result<Self, SettingsError> {
        Settings::from_env()?.tracer_builder()
    }
}

/// A builder with the exporters `env` asks for.
pub(crate) fn builder_from(env: Env<'_>) -> Result<TracerBuilder, FromEnvError> {
    Plan::read(env)?.apply(Tracer::builder())
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for census_pipeline::Tracer {}
    impl Sealed for census_pipeline::TracerBuilder {}
}

/// How OTLP travels; a variant exists only when its feature is compiled
/// in, so a plan can never ask for what is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtlpTransport {
    #[cfg(feature = "otlp")]
    HttpProtobuf,
    #[cfg(feature = "otlp-grpc")]
    Grpc,
}

/// Application Insights from its connection string; uninhabited without
/// the `azure` feature, like [`OtlpTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Azure {
    #[cfg(feature = "azure")]
    ConnectionString,
}

/// The exporters the environment asks for.
#[derive(Debug, PartialEq)]
struct Plan {
    traces: Exports,
    metrics: Exports,
    logs: Exports,
    json_lines: Option<PathBuf>,
}

/// Where one signal goes.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Exports {
    azure: Option<Azure>,
    otlp: Option<OtlpTransport>,
    console: bool,
}

/// An exporter list, parsed.
#[derive(Debug, Default)]
struct Listed {
    otlp: bool,
    console: bool,
    none: bool,
}

pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name)
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string_lossy().into_owned())
}

impl Plan {
    fn read(env: Env<'_>) -> Result<Self, FromEnvError> {
        let azure = azure(env);
        let traces = Exports::read(env, &TRACES, azure, None)?;
        let metrics = Exports::read(env, &METRICS, azure, Some(&traces))?;
        let logs = Exports::read(env, &LOGS, azure, Some(&traces))?;
        let json_lines = env(ENV_EXPORT_JSONL)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        Ok(Self {
            traces,
            metrics,
            logs,
            json_lines,
        })
    }

    fn apply(self, mut builder: TracerBuilder) -> Result<TracerBuilder, FromEnvError> {
        builder = with_azure(builder, &self)?;
        if let Some(transport) = self.traces.otlp {
            #[cfg(feature = "otlp")]
            {
                builder = builder.exporter(crate::otlp_env::span_exporter(transport)?);
            }
            #[cfg(not(feature = "otlp"))]
            match transport {}
        }
        if let Some(transport) = self.metrics.otlp {
            #[cfg(feature = "otlp")]
            {
                builder = builder.metric_exporter(crate::otlp_env::metric_exporter(transport)?);
            }
            #[cfg(not(feature = "otlp"))]
            match transport {}
        }
        if let Some(transport) = self.logs.otlp {
            #[cfg(feature = "otlp")]
            {
                builder = builder.log_exporter(crate::otlp_env::log_exporter(transport)?);
            }
            #[cfg(not(feature = "otlp"))]
            match transport {}
        }
        match (self.traces.console, self.logs.console) {
            (true, true) => {
                // Log lines print in the trees, under their spans.
                let console = ConsoleExporter::new();
                builder = builder
                    .log_exporter_simple(console.log_exporter())
                    .exporter(console);
            }
            (true, false) => builder = builder.exporter(ConsoleExporter::new()),
            // No trees to join: every record prints at once.
            (false, true) => builder = builder.log_exporter_simple(ConsoleLogExporter::alone()),
            (false, false) => {}
        }
        if self.metrics.console {
            // A table of every call measured, after the trees.
            builder = builder.metric_exporter(ConsoleMetricsExporter::new());
        }
        if let Some(path) = self.json_lines {
            let exporter = JsonLinesExporter::create(&path)
                .map_err(|source| FromEnvError::JsonLinesFile { path, source })?;
            builder = builder.exporter(exporter);
        }
        Ok(builder)
    }
}

impl Exports {
    /// Where `signal` goes: its list decides when set; unset, traces go
    /// to OTLP when an endpoint is set and to the console when neither
    /// that nor Application Insights is, and metrics go where `traces` go.
    fn read(
        env: Env<'_>,
        signal: &Signal,
        azure: Option<Azure>,
        traces: Option<&Exports>,
    ) -> Result<Self, FromEnvError> {
        let listed = var(env, signal.exporters)
            .map(|list| parse_list(signal.exporters, &list))
            .transpose()?
            .flatten();
        let endpoint = signal
            .endpoints
            .iter()
            .find_map(|&name| var(env, name).map(|value| (name, value)));
        let (otlp_asked_by, console, azure) = match (&listed, traces) {
            (Some(Listed { none: true, .. }), _) => return Ok(Self::default()),
            (Some(listed), _) => (
                listed.otlp.then(|| (signal.exporters, "otlp".to_owned())),
                listed.console,
                azure,
            ),
            (None, Some(traces)) => (
                endpoint.or_else(|| {
                    traces
                        .otlp
                        .map(|_| (ENV_TRACES_EXPORTER, "otlp".to_owned()))
                }),
                traces.console,
                traces.azure,
            ),
            (None, None) => {
                let console = endpoint.is_none() && azure.is_none();
                (endpoint, console, azure)
            }
        };
        let otlp = otlp_asked_by
            .map(|(variable, value)| transport(env, signal, variable, value))
            .transpose()?;
        Ok(Self {
            azure,
            otlp,
            console,
        })
    }
}

/// Application Insights for the signals that go there: one exporter, whose
/// metric exporter shares its delivery thread and marks the items the
/// standard metrics count.
#[cfg(feature = "azure")]
fn with_azure(builder: TracerBuilder, plan: &Plan) -> Result<TracerBuilder, FromEnvError> {
    let (traces, metrics, logs) = (plan.traces.azure, plan.metrics.azure, plan.logs.azure);
    if traces.is_none() && metrics.is_none() && logs.is_none() {
        return Ok(builder);
    }
    let mut spans = census_azure::AzureExporter::from_env()?;
    let builder = match metrics {
        Some(Azure::ConnectionString) => builder.metric_exporter(spans.metric_exporter()),
        None => builder,
    };
    let builder = match logs {
        Some(Azure::ConnectionString) => {
            builder.log_exporter_with_operation_names(spans.log_exporter())
        }
        None => builder,
    };
    Ok(match traces {
        Some(Azure::ConnectionString) => builder.exporter_with_operation_names(spans),
        None => builder,
    })
}

#[cfg(not(feature = "azure"))]
fn with_azure(builder: TracerBuilder, plan: &Plan) -> Result<TracerBuilder, FromEnvError> {
    match plan.traces.azure.or(plan.metrics.azure).or(plan.logs.azure) {
        Some(azure) => match azure {},
        None => Ok(builder),
    }
}

#[cfg(feature = "azure")]
fn azure(env: Env<'_>) -> Option<Azure> {
    var(env, census_azure::ENV_CONNECTION_STRING).map(|_| Azure::ConnectionString)
}

/// Without the feature the connection string is ignored, so a binary built
/// without Application Insights still runs where the variable is set.
#[cfg(not(feature = "azure"))]
fn azure(_: Env<'_>) -> Option<Azure> {
    None
}

/// `None` for a list with no entries (e.g. `,`), which counts as unset.
fn parse_list(variable: &'static str, list: &str) -> Result<Option<Listed>, FromEnvError> {
    let mut listed = Listed::default();
    let mut any = false;
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        any = true;
        match name.to_ascii_lowercase().as_str() {
            "otlp" => listed.otlp = true,
            "console" => listed.console = true,
            "none" => listed.none = true,
            _ => {
                return Err(FromEnvError::UnknownExporter {
                    variable,
                    name: name.to_owned(),
                    list: list.to_owned(),
                });
            }
        }
    }
    if listed.none && (listed.otlp || listed.console) {
        return Err(FromEnvError::NoneWithOthers {
            variable,
            list: list.to_owned(),
        });
    }
    Ok(any.then_some(listed))
}

/// The transport for the OTLP export of `signal` that `asked_by=value`
/// asked for.
fn transport(
    env: Env<'_>,
    signal: &Signal,
    asked_by: &'static str,
    value: String,
) -> Result<OtlpTransport, FromEnvError> {
    let protocol = signal
        .protocols
        .into_iter()
        .find_map(|name| var(env, name).map(|value| (name, value)));
    let Some((variable, protocol)) = protocol else {
        return http_protobuf(asked_by, value);
    };
    match protocol.trim().to_ascii_lowercase().as_str() {
        "http/protobuf" => http_protobuf(asked_by, value),
        "grpc" => grpc(variable, protocol),
        _ => Err(FromEnvError::UnknownProtocol {
            variable,
            value: protocol,
        }),
    }
}

#[cfg(feature = "otlp")]
fn http_protobuf(_: &'static str, _: String) -> Result<OtlpTransport, FromEnvError> {
    Ok(OtlpTransport::HttpProtobuf)
}

#[cfg(not(feature = "otlp"))]
fn http_protobuf(variable: &'static str, value: String) -> Result<OtlpTransport, FromEnvError> {
    Err(FromEnvError::FeatureOff {
        variable,
        value,
        what: "OTLP export",
        feature: "otlp",
    })
}

#[cfg(feature = "otlp-grpc")]
fn grpc(_: &'static str, _: String) -> Result<OtlpTransport, FromEnvError> {
    Ok(OtlpTransport::Grpc)
}

#[cfg(not(feature = "otlp-grpc"))]
fn grpc(variable: &'static str, value: String) -> Result<OtlpTransport, FromEnvError> {
    Err(FromEnvError::FeatureOff {
        variable,
        value,
        what: "OTLP over gRPC",
        feature: "otlp-grpc",
    })
}

#[cfg(test)]
mod tests;
