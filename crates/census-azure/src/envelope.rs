//! The Track API v2.1 envelope and its data types, as serialized.

use std::collections::BTreeMap;

use serde::Serialize;

/// One JSON text per envelope; one that cannot be serialized is left out.
pub(crate) fn serialize(envelopes: &[Envelope]) -> Vec<String> {
    envelopes
        .iter()
        .filter_map(|envelope| serde_json::to_string(envelope).ok())
        .collect()
}

/// One telemetry item.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope {
    pub(crate) ver: u8,
    pub(crate) name: &'static str,
    pub(crate) time: String,
    /// Spans carry the rate their sampler kept them at; metrics are not
    /// sampled and, as in Microsoft's exporters, carry none.
    #[serde(rename = "sampleRate", skip_serializing_if = "Option::is_none")]
    pub(crate) sample_rate: Option<f64>,
    #[serde(rename = "iKey")]
    pub(crate) ikey: String,
    pub(crate) tags: BTreeMap<&'static str, String>,
    pub(crate) data: Data,
}

#[derive(Debug, Serialize)]
pub(crate) struct Data {
    #[serde(rename = "baseType")]
    pub(crate) base_type: &'static str,
    #[serde(rename = "baseData")]
    pub(crate) base_data: BaseData,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum BaseData {
    Request(RequestData),
    Dependency(RemoteDependencyData),
    Exception(ExceptionData),
    Message(MessageData),
    Event(EventData),
    Metric(MetricsData),
}

impl BaseData {
    /// Envelope name and `baseType`, which must agree.
    pub(crate) fn names(&self) -> (&'static str, &'static str) {
        match self {
            Self::Request(_) => ("Microsoft.ApplicationInsights.Request", "RequestData"),
            Self::Dependency(_) => (
                "Microsoft.ApplicationInsights.RemoteDependency",
                "RemoteDependencyData",
            ),
            Self::Exception(_) => ("Microsoft.ApplicationInsights.Exception", "ExceptionData"),
            Self::Message(_) => ("Microsoft.ApplicationInsights.Message", "MessageData"),
            Self::Event(_) => ("Microsoft.ApplicationInsights.Event", "EventData"),
            Self::Metric(_) => ("Microsoft.ApplicationInsights.Metric", "MetricData"),
        }
    }
}

pub(crate) type Properties = BTreeMap<String, String>;

#[derive(Debug, Serialize)]
pub(crate) struct RequestData {
    pub(crate) ver: u8,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) duration: String,
    #[serde(rename = "responseCode")]
    pub(crate) response_code: String,
    pub(crate) success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) source: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

#[derive(Debug, Serialize)]
pub(crate) struct RemoteDependencyData {
    pub(crate) ver: u8,
    pub(crate) name: String,
    pub(crate) id: String,
    #[serde(rename = "resultCode", skip_serializing_if = "Option::is_none")]
    pub(crate) result_code: Option<String>,
    pub(crate) duration: String,
    pub(crate) success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) target: Option<String>,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

/// How severe a message or exception is: span events name it, log records
/// number it (0 Verbose to 4 Critical), each as Microsoft's exporters send
/// it.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(untagged)]
pub(crate) enum SeverityLevel {
    Named(&'static str),
    Number(u8),
}

#[derive(Debug, Serialize)]
pub(crate) struct ExceptionData {
    pub(crate) ver: u8,
    pub(crate) exceptions: Vec<ExceptionDetails>,
    #[serde(rename = "severityLevel")]
    pub(crate) severity_level: SeverityLevel,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

#[derive(Debug, Serialize)]
pub(crate) struct ExceptionDetails {
    #[serde(rename = "typeName")]
    pub(crate) type_name: String,
    pub(crate) message: String,
    #[serde(rename = "hasFullStack")]
    pub(crate) has_full_stack: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stack: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MessageData {
    pub(crate) ver: u8,
    pub(crate) message: String,
    #[serde(rename = "severityLevel")]
    pub(crate) severity_level: SeverityLevel,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

/// A custom event (`customEvents`).
#[derive(Debug, Serialize)]
pub(crate) struct EventData {
    pub(crate) ver: u8,
    pub(crate) name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

#[derive(Debug, Serialize)]
pub(crate) struct MetricsData {
    pub(crate) ver: u8,
    pub(crate) metrics: Vec<MetricDataPoint>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}

/// One aggregated point: a histogram's sum, count, min and max, or a
/// counter's value with a count of 1.
#[derive(Debug, Serialize)]
pub(crate) struct MetricDataPoint {
    pub(crate) name: String,
    pub(crate) value: f64,
    pub(crate) count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max: Option<f64>,
}
