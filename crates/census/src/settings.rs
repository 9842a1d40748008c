//! Settings in one place, the counterpart of OpenCensus's
//! `OPENCENSUS = {'TRACE': {...}}` block: sampler and rate, exporters,
//! propagators, and the paths and hosts no integration traces.
//!
//! They come from a TOML file, from the environment (the standard `OTEL_*`
//! variable where one exists), or both, the environment winning:
//!
//! | key | variable | values |
//! |---|---|---|
//! | `service_name` | `OTEL_SERVICE_NAME` | Application Insights' cloud role |
//! | `sampler` | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on` (default), `parentbased_always_off`, `parentbased_traceidratio`, `microsoft.fixed_percentage`, `microsoft.rate_limited` |
//! | `sampler_arg` | `OTEL_TRACES_SAMPLER_ARG` | the ratio of `traceidratio`, `parentbased_traceidratio` and `microsoft.fixed_percentage`, 0.0 to 1.0 (default 1.0); for `microsoft.rate_limited`, operations per second, 0 or more (default 5) |
//! | `exporter` | `OTEL_TRACES_EXPORTER` | `otlp`, `console`, `none`, comma-separated ([`TracerFromEnv`](crate::TracerFromEnv)) |
//! | `otlp_endpoint` | `OTEL_EXPORTER_OTLP_ENDPOINT` | the collector's URL |
//! | `propagators` | `OTEL_PROPAGATORS` | a comma-separated list (in TOML also an array) of `tracecontext`, `baggage`, `b3`, `b3multi`, or `none` alone (census installs no propagator); installed as the global propagator (default `tracecontext,baggage`) |
//! | `excluded_paths` | `CENSUS_EXCLUDED_PATHS` | paths no server traces; `/static/*` is a prefix |
//! | `excluded_hosts` | `CENSUS_EXCLUDED_HOSTS` | hosts (or `host:port`) no client traces |
//!
//! `Tracer::from_env()` is these settings read from the environment, so
//! every variable means the same there. OpenTelemetry's sampler names mean
//! what they mean to the OpenTelemetry SDK (`traceidratio` is the SDK's
//! `TraceIdRatioBased`). `microsoft.fixed_percentage` is Microsoft's
//! Application Insights rule, as its distros name it: census's
//! [`ProbabilitySampler`], which decides from the trace id alone (the
//! caller's sampled flag ignored), so that services in other languages at
//! the same rate keep the same operations, and marks each kept item with
//! its `sampleRate`. `microsoft.rate_limited` is Microsoft's rate-limited
//! sampling ([`RateLimitedSampler`]): at most `sampler_arg` operations a
//! second, by the same score, each kept item with the percentage that
//! applied.
//!
//! ```
//! use census::settings::Settings;
//! let settings = Settings::from_toml(r#"
//!     service_name = "shop"
//!     sampler = "microsoft.fixed_percentage"
//!     sampler_arg = 0.25
//!     exporter = "console"
//!     excluded_paths = ["/health", "/static/*"]
//! "#)?;
//! let tracer = settings.tracer_builder()?.install(false).build();
//! let layer_hooks = settings.http_hooks(); // for TraceLayer::hooks, Trace::hooks, ...
//! # tracer.shutdown(std::time::Duration::from_secs(5))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use census_core::http::{Exclusions, HttpHooks};
use census_pipeline::propagators::PropagatorName;
use census_pipeline::sampling::{ProbabilitySampler, RateLimitedSampler, Sampler};
use census_pipeline::{Tracer, TracerBuilder};
use serde::Deserialize;

use crate::FromEnvError;
use crate::from_env::{ENV_OTLP_ENDPOINT, ENV_TRACES_EXPORTER, builder_from};

/// Why settings could not be read or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A key or variable holds a value census does not accept.
    #[error("{key} = {value:?} is invalid: {expected}")]
    Invalid {
        /// The TOML key or environment variable.
        key: String,
        /// The value given.
        value: String,
        /// What is accepted instead.
        expected: String,
    },
    /// The settings file could not be read.
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The settings are not valid TOML for these keys.
    #[error("invalid settings{}: {source}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Toml {
        /// The file, when they came from one.
        path: Option<PathBuf>,
        /// What is wrong, with the line and key.
        source: toml::de::Error,
    },
    /// The exporters asked for cannot be set up.
    #[error(transparent)]
    Export(#[from] FromEnvError),
}

/// A sampler, named as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SamplerName {
    /// Keep everything.
    AlwaysOn,
    /// Keep nothing.
    AlwaysOff,
    /// Keep `sampler_arg` of all operations, by trace id (the SDK's
    /// `TraceIdRatioBased`).
    #[serde(rename = "traceidratio")]
    TraceIdRatio,
    /// Follow the caller; keep every new operation (the default).
    #[default]
    ParentbasedAlwaysOn,
    /// Follow the caller; keep no new operation.
    ParentbasedAlwaysOff,
    /// Keep what a sampled caller kept, and `sampler_arg` of the rest.
    #[serde(rename = "parentbased_traceidratio")]
    ParentbasedTraceIdRatio,
    /// Application Insights sampling: keep `sampler_arg` of all
    /// operations by their Application Insights score, whatever the
    /// caller decided ([`ProbabilitySampler`]).
    #[serde(rename = "microsoft.fixed_percentage")]
    MicrosoftFixedPercentage,
    /// Microsoft's rate-limited sampling: keep at most `sampler_arg`
    /// operations a second (default 5), each kept item carrying the
    /// percentage that applied ([`RateLimitedSampler`]).
    #[serde(rename = "microsoft.rate_limited")]
    MicrosoftRateLimited,
}

const SAMPLERS: &str = "always_on, always_off, traceidratio, parentbased_always_on, \
                        parentbased_always_off, parentbased_traceidratio, \
                        microsoft.fixed_percentage or microsoft.rate_limited";

impl std::str::FromStr for SamplerName {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Self::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name.trim()),
        )
        .map_err(|_| ())
    }
}

/// Settings for the tracer and every HTTP integration; see the module
/// docs for the keys.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// `service.name`.
    pub service_name: Option<String>,
    /// The sampler.
    pub sampler: SamplerName,
    /// The ratio samplers' rate.
    pub sampler_arg: Option<f64>,
    /// The exporters, as `OTEL_TRACES_EXPORTER` lists them.
    pub exporter: Option<String>,
    /// Where OTLP goes.
    pub otlp_endpoint: Option<String>,
    /// The global propagator's parts, in order; unset, the tracer
    /// installs `tracecontext,baggage` unless the application installed a
    /// propagator of its own.
    #[serde(deserialize_with = "propagators")]
    pub propagators: Option<Vec<PropagatorName>>,
    /// Paths no server integration traces.
    pub excluded_paths: Vec<String>,
    /// Hosts no client integration traces.
    pub excluded_hosts: Vec<String>,
}

/// `"tracecontext,baggage"` or `["tracecontext", "baggage"]`.
fn propagators<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<PropagatorName>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Text(String),
        Names(Vec<String>),
    }
    let list = match List::deserialize(deserializer)? {
        List::Text(text) => text,
        List::Names(names) => names.join(","),
    };
    PropagatorName::parse_list(&list)
        .map(|names| (!names.is_empty()).then_some(names))
        .map_err(serde::de::Error::custom)
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Settings {
    /// Settings from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, SettingsError> {
        let settings: Self =
            toml::from_str(text).map_err(|source| SettingsError::Toml { path: None, source })?;
        settings.validated()
    }

    /// Settings from a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let settings: Self = toml::from_str(&text).map_err(|source| SettingsError::Toml {
            path: Some(path.to_owned()),
            source,
        })?;
        settings.validated()
    }

    /// Settings from the environment alone.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::default().with_env()
    }

    /// These settings, overridden by whatever the environment sets.
    pub fn with_env(self) -> Result<Self, SettingsError> {
        self.overridden_by(&|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    fn overridden_by(mut self, env: Env<'_>) -> Result<Self, SettingsError> {
        if let Some(name) = env("OTEL_SERVICE_NAME") {
            self.service_name = Some(name);
        }
        if let Some(name) = env("OTEL_TRACES_SAMPLER") {
            self.sampler = name
                .parse()
                .map_err(|()| invalid("OTEL_TRACES_SAMPLER", &name, SAMPLERS))?;
        }
        if let Some(arg) = env("OTEL_TRACES_SAMPLER_ARG") {
            let key = "OTEL_TRACES_SAMPLER_ARG";
            let value = arg
                .trim()
                .parse()
                .map_err(|_| invalid(key, &arg, self.sampler.expected_arg()))?;
            self.sampler_arg = Some(self.sampler.checked_arg(key, value)?);
        }
        if let Some(list) = env(ENV_TRACES_EXPORTER) {
            self.exporter = Some(list);
        }
        if let Some(endpoint) = env(ENV_OTLP_ENDPOINT) {
            self.otlp_endpoint = Some(endpoint);
        }
        if let Some(list) = env("OTEL_PROPAGATORS") {
            let names = PropagatorName::parse_list(&list)
                .map_err(|e| invalid("OTEL_PROPAGATORS", &list, &e.to_string()))?;
            // A list of empty entries counts as unset, as for exporters.
            if !names.is_empty() {
                self.propagators = Some(names);
            }
        }
        if let Some(paths) = env("CENSUS_EXCLUDED_PATHS") {
            self.excluded_paths = list(&paths);
        }
        if let Some(hosts) = env("CENSUS_EXCLUDED_HOSTS") {
            self.excluded_hosts = list(&hosts);
        }
        self.validated()
    }

    fn validated(self) -> Result<Self, SettingsError> {
        if let Some(value) = self.sampler_arg {
            self.sampler.checked_arg("sampler_arg", value)?;
        }
        for path in &self.excluded_paths {
            if !path.starts_with('/') {
                return Err(invalid("excluded_paths", path, "a path starting with `/`"));
            }
        }
        Ok(self)
    }

    /// `builder` with the sampler these settings ask for.
    fn with_sampler(&self, builder: TracerBuilder) -> Result<TracerBuilder, SettingsError> {
        let rate = self.sampler_arg.unwrap_or(1.0);
        let ratio = || checked_rate("sampler_arg", rate);
        let parent_based = |sampler| Sampler::ParentBased(Box::new(sampler));
        Ok(match self.sampler {
            SamplerName::AlwaysOn => builder.sampler(Sampler::AlwaysOn),
            SamplerName::AlwaysOff => builder.sampler(Sampler::AlwaysOff),
            // The builder's default, which census decides for itself.
            SamplerName::ParentbasedAlwaysOn => builder,
            SamplerName::ParentbasedAlwaysOff => builder.sampler(parent_based(Sampler::AlwaysOff)),
            SamplerName::TraceIdRatio => builder.sampler(Sampler::TraceIdRatioBased(ratio()?)),
            SamplerName::ParentbasedTraceIdRatio => {
                builder.sampler(parent_based(Sampler::TraceIdRatioBased(ratio()?)))
            }
            SamplerName::MicrosoftFixedPercentage => builder.sampler(
                ProbabilitySampler::new(rate)
                    .map_err(|_| invalid("sampler_arg", &rate.to_string(), RATE))?,
            ),
            SamplerName::MicrosoftRateLimited => builder.sampler(
                RateLimitedSampler::new(self.sampler_arg.unwrap_or(DEFAULT_RATE_LIMIT))
                    .map_err(|e| invalid("sampler_arg", &rate.to_string(), &e.to_string()))?,
            ),
        })
    }

    /// Exclusions and nothing else, for every HTTP integration's `hooks`.
    pub fn http_hooks(&self) -> HttpHooks {
        let mut exclusions = Exclusions::new();
        for path in &self.excluded_paths {
            exclusions = exclusions.path(path.clone());
        }
        for host in &self.excluded_hosts {
            exclusions = exclusions.host(host.clone());
        }
        HttpHooks::new().exclusions(exclusions)
    }

    /// A tracer builder with these settings' exporters, sampler, service
    /// name and propagators.
    pub fn tracer_builder(&self) -> Result<TracerBuilder, SettingsError> {
        let exporter = self.exporter.clone().map(OsString::from);
        let endpoint = self.otlp_endpoint.clone().map(OsString::from);
        let env = |name: &str| match name {
            ENV_TRACES_EXPORTER if exporter.is_some() => exporter.clone(),
            ENV_OTLP_ENDPOINT if endpoint.is_some() => endpoint.clone(),
            _ => std::env::var_os(name),
        };
        let mut builder = self.with_sampler(builder_from(&env)?)?;
        if let Some(name) = &self.service_name {
            builder = builder.service_name(name.clone());
        }
        if let Some(names) = &self.propagators {
            builder = builder.propagators(names);
        }
        Ok(builder)
    }

    /// [`tracer_builder`](Self::tracer_builder), built and installed.
    pub fn tracer(&self) -> Result<Tracer, SettingsError> {
        Ok(self.tracer_builder()?.build())
    }
}

const RATE: &str = "a number from 0.0 to 1.0, the fraction of operations to keep";

fn invalid(key: &str, value: &str, expected: &str) -> SettingsError {
    SettingsError::Invalid {
        key: key.to_owned(),
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

/// `microsoft.rate_limited`'s target when `sampler_arg` is unset: the
/// default of Microsoft's agents.
const DEFAULT_RATE_LIMIT: f64 = 5.0;

const TARGET: &str = "a number of operations per second, 0 or more (e.g. 5)";

impl SamplerName {
    /// What `sampler_arg` means to this sampler.
    fn expected_arg(self) -> &'static str {
        match self {
            Self::MicrosoftRateLimited => TARGET,
            _ => RATE,
        }
    }

    /// `value` if it is a valid `sampler_arg` for this sampler.
    fn checked_arg(self, key: &str, value: f64) -> Result<f64, SettingsError> {
        match self {
            Self::MicrosoftRateLimited if value.is_finite() && value >= 0.0 => Ok(value),
            Self::MicrosoftRateLimited => Err(invalid(key, &value.to_string(), TARGET)),
            _ => checked_rate(key, value),
        }
    }
}

fn checked_rate(key: &str, rate: f64) -> Result<f64, SettingsError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(invalid(key, &rate.to_string(), RATE))
    }
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;
