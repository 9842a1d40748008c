//! The exporter's own statistics ("customer SDK stats"), as Microsoft's
//! exporters send them to the user's resource: items sent, dropped and
//! retried, per telemetry type, with Microsoft's codes and reasons, so
//! that data loss shows in the portal (`customMetrics`:
//! `Item_Success_Count`, `Item_Dropped_Count`, `Item_Retry_Count`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};

use crate::metric_exporter::AzureMetricExporter;

/// Environment variable: `true` turns the exporter's statistics off.
pub const ENV_SDKSTATS_DISABLED: &str = "APPLICATIONINSIGHTS_SDKSTATS_DISABLED";

/// Environment variable: seconds between two exports of the statistics
/// (default 900, Microsoft's).
pub const ENV_SDKSTATS_EXPORT_INTERVAL: &str = "APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL";

/// Microsoft's interval: 15 minutes.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Why items were dropped or retried: an ingestion status, or one of
/// Microsoft's client codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Code {
    /// The endpoint answered this status (for the batch or the item).
    Status(u16),
    /// Sending failed before an answer: network, TLS, compression.
    ClientException,
    /// The request timed out.
    ClientTimeout,
    /// Local storage was full, or the items too old to send.
    ClientPersistenceCapacity,
    /// Kept in memory only, and unsent at shutdown.
    ClientStorageDisabled,
}

impl Code {
    /// The `dropCode` / `retryCode` dimension: the status as a number,
    /// a client code as its name.
    fn value(self) -> opentelemetry::Value {
        match self {
            Self::Status(status) => i64::from(status).into(),
            Self::ClientException => "CLIENT_EXCEPTION".into(),
            Self::ClientTimeout => "CLIENT_TIMEOUT".into(),
            Self::ClientPersistenceCapacity => "CLIENT_PERSISTENCE_CAPACITY".into(),
            Self::ClientStorageDisabled => "CLIENT_STORAGE_DISABLED".into(),
        }
    }

    /// The `dropReason` / `retryReason` dimension, in Microsoft's words.
    fn reason(self) -> String {
        match self {
            Self::Status(status) => status_reason(status),
            Self::ClientException => "Client exception".into(),
            Self::ClientTimeout => "Client timeout".into(),
            Self::ClientPersistenceCapacity => "Client persistence capacity".into(),
            Self::ClientStorageDisabled => "Client local storage disabled".into(),
        }
    }
}

/// Microsoft's words for an ingestion status.
fn status_reason(status: u16) -> String {
    let known = match status {
        400 => "Bad request",
        401 => "Unauthorized",
        402 => "Daily quota exceeded",
        403 => "Forbidden",
        404 => "Not found",
        408 => "Request timeout",
        413 => "Payload too large",
        429 => "Too many requests",
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ if (400..500).contains(&status) => "Client error 4xx",
        _ if (500..600).contains(&status) => "Server error 5xx",
        _ => return format!("status_{status}"),
    };
    known.to_owned()
}

/// Telemetry types, as the statistics name them.
const REQUEST: &str = "REQUEST";
const DEPENDENCY: &str = "DEPENDENCY";

/// An item's telemetry type and, for requests and dependencies, whether
/// it succeeded, read from its serialized envelope.
fn classify(item: &str) -> (&'static str, Option<bool>) {
    let kind = match between(item, "\"baseType\":\"", "\"") {
        Some("RequestData") => REQUEST,
        Some("RemoteDependencyData") => DEPENDENCY,
        Some("ExceptionData") => "EXCEPTION",
        Some("MessageData") => "TRACE",
        Some("EventData") => "CUSTOM_EVENT",
        Some("MetricData") => "CUSTOM_METRIC",
        _ => "UNKNOWN",
    };
    let success = matches!(kind, REQUEST | DEPENDENCY).then(|| !item.contains("\"success\":false"));
    (kind, success)
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Counts since the last export.
#[derive(Debug, Default)]
struct Counts {
    sent: BTreeMap<&'static str, u64>,
    dropped: BTreeMap<(&'static str, Code, Option<bool>), u64>,
    retried: BTreeMap<(&'static str, Code), u64>,
}

/// What the delivery thread counts for the statistics.
#[derive(Debug, Default)]
pub(crate) struct SdkStats {
    counts: Mutex<Counts>,
}

impl SdkStats {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn sent<'a>(&self, items: impl IntoIterator<Item = &'a String>) {
        let mut counts = self.counts();
        for item in items {
            *counts.sent.entry(classify(item).0).or_default() += 1;
        }
    }

    pub(crate) fn dropped<'a>(&self, items: impl IntoIterator<Item = &'a String>, code: Code) {
        let mut counts = self.counts();
        for item in items {
            let (kind, success) = classify(item);
            *counts.dropped.entry((kind, code, success)).or_default() += 1;
        }
    }

    /// Items dropped whose envelopes are gone (storage cap, retention).
    pub(crate) fn dropped_unread(&self, count: u64, code: Code) {
        if count > 0 {
            *self
                .counts()
                .dropped
                .entry(("UNKNOWN", code, None))
                .or_default() += count;
        }
    }

    pub(crate) fn retried<'a>(&self, items: impl IntoIterator<Item = &'a String>, code: Code) {
        let mut counts = self.counts();
        for item in items {
            *counts.retried.entry((classify(item).0, code)).or_default() += 1;
        }
    }

    /// The `Item_Success_Count` observations since the last call.
    pub(crate) fn take_sent(&self) -> Vec<(u64, Vec<KeyValue>)> {
        std::mem::take(&mut self.counts().sent)
            .into_iter()
            .map(|(kind, n)| (n, vec![KeyValue::new("telemetryType", kind)]))
            .collect()
    }

    /// The `Item_Dropped_Count` observations since the last call.
    pub(crate) fn take_dropped(&self) -> Vec<(u64, Vec<KeyValue>)> {
        std::mem::take(&mut self.counts().dropped)
            .into_iter()
            .map(|((kind, code, success), n)| {
                let mut attributes = vec![
                    KeyValue::new("dropCode", code.value()),
                    KeyValue::new("dropReason", code.reason()),
                    KeyValue::new("telemetryType", kind),
                ];
                if let Some(success) = success {
                    attributes.push(KeyValue::new("telemetrySuccess", success));
                }
                (n, attributes)
            })
            .collect()
    }

    /// The `Item_Retry_Count` observations since the last call.
    pub(crate) fn take_retried(&self) -> Vec<(u64, Vec<KeyValue>)> {
        std::mem::take(&mut self.counts().retried)
            .into_iter()
            .map(|((kind, code), n)| {
                let attributes = vec![
                    KeyValue::new("retryCode", code.value()),
                    KeyValue::new("retryReason", code.reason()),
                    KeyValue::new("telemetryType", kind),
                ];
                (n, attributes)
            })
            .collect()
    }
}

/// Whether the statistics are on: unless [`ENV_SDKSTATS_DISABLED`] says
/// `true`.
pub(crate) fn enabled(env: impl Fn(&str) -> Option<String>) -> bool {
    !env(ENV_SDKSTATS_DISABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The export interval: [`ENV_SDKSTATS_EXPORT_INTERVAL`] seconds, else 15
/// minutes (also for a value that is not a whole number, as Microsoft's).
pub(crate) fn interval(env: impl Fn(&str) -> Option<String>) -> Duration {
    env(ENV_SDKSTATS_EXPORT_INTERVAL)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(DEFAULT_INTERVAL, Duration::from_secs)
}

/// The dimensions every statistic carries: language, exporter version and
/// where the process runs, as Microsoft's `computeType`.
pub(crate) fn base_attributes(env: impl Fn(&str) -> Option<String>) -> Vec<KeyValue> {
    let compute = if env("FUNCTIONS_WORKER_RUNTIME").is_some() {
        "functions"
    } else if env("WEBSITE_SITE_NAME").is_some() {
        "appsvc"
    } else if env("AKS_ARM_NAMESPACE_ID").is_some() || env("KUBERNETES_SERVICE_HOST").is_some() {
        "aks"
    } else {
        "unknown"
    };
    vec![
        KeyValue::new("language", "rust"),
        KeyValue::new("version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("computeType", compute),
    ]
}

/// Reads one kind of count since the last export.
type Take = fn(&SdkStats) -> Vec<(u64, Vec<KeyValue>)>;

/// A meter provider of its own that reports `stats` through `exporter`
/// every `interval`, as Microsoft's three observable gauges.
pub(crate) fn provider(
    stats: Arc<SdkStats>,
    exporter: AzureMetricExporter,
    interval: Duration,
) -> SdkMeterProvider {
    let reader = PeriodicReader::builder(exporter)
        .with_interval(interval)
        .build();
    let provider = SdkMeterProvider::builder().with_reader(reader).build();
    let meter = provider.meter("census-azure.sdkstats");
    let base = base_attributes(|name| std::env::var(name).ok());
    let gauges: [(&'static str, Take); 3] = [
        ("Item_Success_Count", SdkStats::take_sent),
        ("Item_Dropped_Count", SdkStats::take_dropped),
        ("Item_Retry_Count", SdkStats::take_retried),
    ];
    for (name, take) in gauges {
        let stats = stats.clone();
        let base = base.clone();
        meter
            .u64_observable_gauge(name)
            .with_callback(move |observer| {
                for (count, mut attributes) in take(&stats) {
                    attributes.extend(base.iter().cloned());
                    observer.observe(count, &attributes);
                }
            })
            .build();
    }
    provider
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(base_type: &str, success: Option<bool>) -> String {
        let success = success.map_or(String::new(), |s| format!(",\"success\":{s}"));
        format!(
            "{{\"name\":\"x\",\"data\":{{\"baseType\":\"{base_type}\",\"baseData\":{{\"ver\":2{success}}}}}}}"
        )
    }

    fn text(observations: &[(u64, Vec<KeyValue>)]) -> Vec<String> {
        observations
            .iter()
            .map(|(n, attributes)| {
                let attributes: Vec<String> = attributes
                    .iter()
                    .map(|kv| format!("{}={}", kv.key, kv.value))
                    .collect();
                format!("{n} {}", attributes.join(","))
            })
            .collect()
    }

    #[test]
    fn items_are_counted_by_type_code_and_success_then_reset() {
        let stats = SdkStats::default();
        let request_ok = item("RequestData", Some(true));
        let request_failed = item("RequestData", Some(false));
        let message = item("MessageData", None);
        stats.sent([&request_ok, &request_ok, &message]);
        stats.dropped([&request_failed, &request_ok], Code::Status(400));
        stats.dropped_unread(3, Code::ClientPersistenceCapacity);
        stats.retried([&message], Code::Status(503));
        stats.retried([&message], Code::ClientTimeout);
        assert_eq!(
            text(&stats.take_sent()),
            ["2 telemetryType=REQUEST", "1 telemetryType=TRACE"]
        );
        assert_eq!(
            text(&stats.take_dropped()),
            [
                "1 dropCode=400,dropReason=Bad request,telemetryType=REQUEST,telemetrySuccess=false",
                "1 dropCode=400,dropReason=Bad request,telemetryType=REQUEST,telemetrySuccess=true",
                "3 dropCode=CLIENT_PERSISTENCE_CAPACITY,dropReason=Client persistence capacity,telemetryType=UNKNOWN",
            ]
        );
        assert_eq!(
            text(&stats.take_retried()),
            [
                "1 retryCode=503,retryReason=Service unavailable,telemetryType=TRACE",
                "1 retryCode=CLIENT_TIMEOUT,retryReason=Client timeout,telemetryType=TRACE",
            ]
        );
        assert!(
            stats.take_sent().is_empty(),
            "each export reports what is new"
        );
    }

    #[test]
    fn statuses_read_as_microsoft_words_them() {
        for (status, reason) in [
            (402, "Daily quota exceeded"),
            (418, "Client error 4xx"),
            (507, "Server error 5xx"),
            (302, "status_302"),
        ] {
            assert_eq!(status_reason(status), reason);
        }
    }

    #[test]
    fn the_environment_turns_them_off_and_sets_the_interval() {
        let none = |_: &str| None;
        assert!(enabled(none));
        assert_eq!(interval(none), Duration::from_secs(900));
        let set = |name: &str| match name {
            ENV_SDKSTATS_DISABLED => Some("TRUE".to_owned()),
            ENV_SDKSTATS_EXPORT_INTERVAL => Some("60".to_owned()),
            "WEBSITE_SITE_NAME" => Some("shop".to_owned()),
            _ => None,
        };
        assert!(!enabled(set));
        assert_eq!(interval(set), Duration::from_secs(60));
        assert_eq!(
            base_attributes(set)[2],
            KeyValue::new("computeType", "appsvc")
        );
        let bad = |_: &str| Some("soon".to_owned());
        assert_eq!(interval(bad), Duration::from_secs(900));
    }
}
