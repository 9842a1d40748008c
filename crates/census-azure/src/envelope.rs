//! The Track API v2.1 envelope and its data types, as serialized.

use std::collections::BTreeMap;

use serde::Serialize;

/// One telemetry item.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope {
    pub(crate) ver: u8,
    pub(crate) name: &'static str,
    pub(crate) time: String,
    #[serde(rename = "sampleRate")]
    pub(crate) sample_rate: f64,
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

#[derive(Debug, Serialize)]
pub(crate) struct ExceptionData {
    pub(crate) ver: u8,
    pub(crate) exceptions: Vec<ExceptionDetails>,
    #[serde(rename = "severityLevel")]
    pub(crate) severity_level: &'static str,
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
    pub(crate) severity_level: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) properties: Properties,
}
