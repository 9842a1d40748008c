//! How often metrics are exported, from `OTEL_METRIC_EXPORT_INTERVAL`.

use std::time::Duration;

use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRIC_EXPORT_INTERVAL_DEFAULT, PeriodicReader,
};

/// The export interval of a metric exporter: every 60 s unless
/// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds) says otherwise.
///
/// ```
/// use census_pipeline::metrics::MetricExportConfig;
/// use std::time::Duration;
/// let config = MetricExportConfig::default().interval(Duration::from_secs(10));
/// assert_eq!(config.export_interval(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct MetricExportConfig {
    interval: Duration,
}

impl Default for MetricExportConfig {
    /// The SDK's default, 60 s, without reading the environment.
    fn default() -> Self {
        Self {
            interval: OTEL_METRIC_EXPORT_INTERVAL_DEFAULT,
        }
    }
}

impl MetricExportConfig {
    /// The default, changed by `OTEL_METRIC_EXPORT_INTERVAL`
    /// (milliseconds). A value that is not a whole number, or 0, is
    /// ignored with a warning that names it.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables `var` gives.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let config = Self::default();
        match crate::env::whole_number(&var, OTEL_METRIC_EXPORT_INTERVAL) {
            Some(0) => {
                census_core::diagnostics::warn(&format!(
                    "{OTEL_METRIC_EXPORT_INTERVAL}=0 would export without pause: the default applies"
                ));
                config
            }
            Some(millis) => config.interval(Duration::from_millis(millis)),
            None => config,
        }
    }

    /// Exports every `interval` (a zero interval leaves the current one).
    pub fn interval(mut self, interval: Duration) -> Self {
        if !interval.is_zero() {
            self.interval = interval;
        }
        self
    }

    /// The interval.
    pub fn export_interval(&self) -> Duration {
        self.interval
    }

    /// The SDK's periodic reader that feeds `exporter` at this interval,
    /// on a thread of its own.
    pub fn reader<E: PushMetricExporter>(&self, exporter: E) -> PeriodicReader<E> {
        PeriodicReader::builder(exporter)
            .with_interval(self.interval)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_comes_from_otel_metric_export_interval() {
        let with = |value: &'static str| {
            MetricExportConfig::from_vars(move |name| {
                (name == "OTEL_METRIC_EXPORT_INTERVAL").then(|| value.to_owned())
            })
        };
        assert_eq!(with("1500").export_interval(), Duration::from_millis(1500));
        assert_eq!(with(" 250 ").export_interval(), Duration::from_millis(250));
        // Not a whole number, or zero: the default, with a warning.
        assert_eq!(with("5s").export_interval(), Duration::from_secs(60));
        assert_eq!(with("0").export_interval(), Duration::from_secs(60));
        assert_eq!(
            MetricExportConfig::from_vars(|_| None),
            MetricExportConfig::default()
        );
    }
}
