//! The batch processor's sizes and delay, from the `OTEL_BSP_*` variables
//! as the OpenTelemetry SDK reads them.

use std::time::Duration;

use opentelemetry_sdk::trace::{
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY,
    OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
};

/// How many spans the [batch processor](super::BatchSpanProcessor) holds, how
/// many it exports at once, and how long a span may wait.
///
/// ```
/// use census_pipeline::batch::BatchConfig;
/// let config = BatchConfig::default().max_export_batch_size(100);
/// assert_eq!(config.batch_size(), 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct BatchConfig {
    max_queue_size: usize,
    max_export_batch_size: usize,
    scheduled_delay: Duration,
}

impl Default for BatchConfig {
    /// The SDK's defaults (2048 spans queued, batches of 512, every 5 s),
    /// without reading the environment.
    fn default() -> Self {
        Self {
            max_queue_size: OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
            max_export_batch_size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
            scheduled_delay: OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
        }
    }
}

impl BatchConfig {
    /// The defaults, changed by `OTEL_BSP_MAX_QUEUE_SIZE`,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` and `OTEL_BSP_SCHEDULE_DELAY`
    /// (milliseconds). A value that is not a number is ignored, as the SDK
    /// ignores it, with a warning that names it.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables `var` gives.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        let read = |name: &str| crate::env::whole_number(&var, name);
        let mut config = Self::default();
        if let Some(size) = read(OTEL_BSP_MAX_QUEUE_SIZE) {
            config = config.max_queue_size(usize::try_from(size).unwrap_or(usize::MAX));
        }
        if let Some(size) = read(OTEL_BSP_MAX_EXPORT_BATCH_SIZE) {
            config = config.max_export_batch_size(usize::try_from(size).unwrap_or(usize::MAX));
        }
        if let Some(millis) = read(OTEL_BSP_SCHEDULE_DELAY) {
            config = config.scheduled_delay(Duration::from_millis(millis));
        }
        config
    }

    /// The most spans waiting for export; more are dropped (and counted)
    /// rather than make the application wait. At least 1.
    pub fn max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// The most spans given to the exporter at once. At least 1; at most
    /// the queue size, which a larger value becomes.
    pub fn max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// The longest a span waits before its batch is exported although it
    /// is not full.
    pub fn scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// The queue's size.
    pub fn queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// The batch size, never above the queue's.
    pub fn batch_size(&self) -> usize {
        self.max_export_batch_size.min(self.max_queue_size)
    }

    /// The delay.
    pub fn delay(&self) -> Duration {
        self.scheduled_delay
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_configuration_comes_from_the_otel_bsp_variables() {
        let vars = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            BatchConfig::from_vars(move |name| map.get(name).cloned())
        };
        assert_eq!(vars(&[]), BatchConfig::default());
        let set = vars(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", " 10 "),
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
        ]);
        assert_eq!(
            (set.queue_size(), set.batch_size(), set.delay()),
            (100, 10, Duration::from_millis(250))
        );
        // A batch larger than the queue is the queue; what is not a number
        // leaves the default.
        let clamped = vars(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
            ("OTEL_BSP_SCHEDULE_DELAY", "5s"),
        ]);
        assert_eq!(
            (clamped.queue_size(), clamped.batch_size(), clamped.delay()),
            (8, 8, Duration::from_secs(5))
        );
        let zero = vars(&[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0")]);
        assert_eq!(zero.batch_size(), 1);
    }
}
