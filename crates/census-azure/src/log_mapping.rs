//! Log records to envelopes, as Microsoft's log exporter maps them
//! (`export/logs/_exporter.py` of `azure-monitor-opentelemetry-exporter`):
//! an exception when the record carries one, a custom event when it is
//! marked as one, a message otherwise.

use std::collections::BTreeMap;

use census_pipeline::operation::OPERATION_NAME_ATTRIBUTE;
use opentelemetry::logs::{AnyValue, Severity};
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry::{InstrumentationScope, Key};
use opentelemetry_sdk::logs::SdkLogRecord;
use opentelemetry_semantic_conventions::attribute as semconv;

use crate::envelope::{
    BaseData, Envelope, EventData, ExceptionData, ExceptionDetails, MessageData, Properties,
    SeverityLevel,
};
use crate::format::{python_bool, truncate};
use crate::mapping::{Identity, build, process_tags};

/// The attribute that makes a record a custom event, named by its value.
pub(crate) const CUSTOM_EVENT_NAME: &str = "microsoft.custom_event.name";

/// The older marker of a custom event, named by the record's body.
const EVENT_MARKER: &str = "APPLICATION_INSIGHTS_EVENT_MARKER_ATTRIBUTE";

/// The field a `tracing` event or `log` record carries its error in
/// (`error = %e`); Microsoft's exporter knows only `exception.*`.
const ERROR_FIELD: &str = "error";

/// Attributes mapped elsewhere, or markers, rather than sent as custom
/// properties: Microsoft's list, and census's operation name.
const NOT_PROPERTIES: [&str; 17] = [
    semconv::EXCEPTION_TYPE,
    semconv::EXCEPTION_MESSAGE,
    semconv::EXCEPTION_STACKTRACE,
    "exception.escaped",
    EVENT_MARKER,
    CUSTOM_EVENT_NAME,
    "microsoft.custom_measurements",
    "microsoft.availability.id",
    "microsoft.availability.name",
    "microsoft.availability.duration",
    "microsoft.availability.success",
    "microsoft.availability.runLocation",
    "microsoft.availability.message",
    semconv::ENDUSER_ID,
    semconv::ENDUSER_PSEUDO_ID,
    semconv::SESSION_ID,
    OPERATION_NAME_ATTRIBUTE,
];

/// The envelope of one record.
pub(crate) fn log_envelope(
    identity: &Identity,
    record: &SdkLogRecord,
    scope: &InstrumentationScope,
) -> Envelope {
    let at = record
        .timestamp()
        .or_else(|| record.observed_timestamp())
        .unwrap_or_else(std::time::SystemTime::now);
    build(
        identity,
        at,
        None,
        tags(identity, record),
        data(record, scope),
    )
}

fn tags(identity: &Identity, record: &SdkLogRecord) -> BTreeMap<&'static str, String> {
    let mut tags = process_tags(identity);
    // Microsoft's log exporter names the node after the role instance.
    tags.insert("ai.internal.nodeName", identity.role_instance.clone());
    // A record written outside any trace belongs to no operation.
    if let Some(trace) = record
        .trace_context()
        .filter(|t| t.trace_id != TraceId::INVALID)
    {
        tags.insert("ai.operation.id", trace.trace_id.to_string());
        if trace.span_id != SpanId::INVALID {
            tags.insert("ai.operation.parentId", trace.span_id.to_string());
        }
    }
    let string = |key: &str| match attribute(record, key) {
        Some(AnyValue::String(s)) => Some(s.as_str().to_owned()),
        _ => None,
    };
    if let Some(name) = string(OPERATION_NAME_ATTRIBUTE).or_else(|| string("ai.operation.name")) {
        tags.insert("ai.operation.name", truncate(name, 1024));
    }
    for (key, tag) in [
        (semconv::ENDUSER_ID, "ai.user.authUserId"),
        (semconv::ENDUSER_PSEUDO_ID, "ai.user.id"),
        (semconv::SESSION_ID, "ai.session.id"),
    ] {
        if let Some(value) = attribute(record, key) {
            tags.insert(tag, truncate(text(value), 1024));
        }
    }
    if let Some(ip) = string(semconv::CLIENT_ADDRESS) {
        tags.insert("ai.location.ip", truncate(ip, 46));
    }
    if attribute(record, semconv::USER_AGENT_SYNTHETIC_TYPE).is_some() {
        tags.insert("ai.operation.syntheticSource", "True".into());
    }
    tags
}

fn data(record: &SdkLogRecord, scope: &InstrumentationScope) -> BaseData {
    let exception_type = attribute(record, semconv::EXCEPTION_TYPE).map(text);
    let exception_message = attribute(record, semconv::EXCEPTION_MESSAGE).map(text);
    let stack = attribute(record, semconv::EXCEPTION_STACKTRACE).map(text);
    let body = record.body().map(message).filter(|m| !m.is_empty());
    let mut properties = properties(record);
    // A Rust program's logger is its module path, the record's target.
    let logger = record
        .target()
        .map(|t| t.to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| scope.name().to_owned());
    if !logger.is_empty() {
        properties
            .entry("logger_name".into())
            .or_insert_with(|| truncate(logger, 8192));
    }
    let severity = SeverityLevel::Number(severity_level(record.severity_number()));
    let error_field = attribute(record, ERROR_FIELD).map(text);
    if exception_type.is_some() || exception_message.is_some() || error_field.is_some() {
        // The body names what failed; the error's own text then stays a
        // property, unless a stack trace (which repeats it) is sent.
        if body.is_some()
            && stack.is_none()
            && let Some(displaced) = &exception_message
        {
            properties.insert(
                semconv::EXCEPTION_MESSAGE.into(),
                truncate(displaced.clone(), 8192),
            );
        }
        let message = body
            .or(exception_message)
            .or(error_field)
            .unwrap_or_else(|| "Exception".into());
        return BaseData::Exception(ExceptionData {
            ver: 2,
            exceptions: vec![ExceptionDetails {
                type_name: truncate(
                    exception_type
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "Exception".into()),
                    1024,
                ),
                message: truncate(message, 32768),
                has_full_stack: stack.is_some(),
                stack: stack.map(|s| truncate(s, 32768)),
            }],
            severity_level: severity,
            properties,
        });
    }
    let event_name = attribute(record, CUSTOM_EVENT_NAME).map(text);
    if event_name.is_some() || attribute(record, EVENT_MARKER).is_some() {
        return BaseData::Event(EventData {
            ver: 2,
            name: truncate(event_name.or(body).unwrap_or_default(), 512),
            properties,
        });
    }
    let message = body.map(|b| b.trim().to_owned()).unwrap_or_default();
    BaseData::Message(MessageData {
        ver: 2,
        message: if message.is_empty() {
            "n/a".into()
        } else {
            truncate(message, 32768)
        },
        severity_level: severity,
        properties,
    })
}

/// Verbose (0) for trace and debug, Information (1), Warning (2), Error
/// (3), Critical (4) for fatal: each band of four severity numbers one
/// level.
fn severity_level(severity: Option<Severity>) -> u8 {
    match severity.map(|s| s as u8) {
        Some(n @ 9..) => (n - 1) / 4 - 1,
        _ => 0,
    }
}

fn attribute<'a>(record: &'a SdkLogRecord, key: &str) -> Option<&'a AnyValue> {
    record
        .attributes_iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

/// Every attribute but those mapped elsewhere; keys over 150 characters
/// are left out, values cut to 8192.
fn properties(record: &SdkLogRecord) -> Properties {
    record
        .attributes_iter()
        .filter(|(key, _)| {
            let key = key.as_str();
            !key.is_empty() && key.chars().count() <= 150 && !NOT_PROPERTIES.contains(&key)
        })
        .map(|(key, value): &(Key, AnyValue)| (key.to_string(), truncate(text(value), 8192)))
        .collect()
}

/// A body as the message: a string as it is, anything else as JSON.
fn message(body: &AnyValue) -> String {
    match body {
        AnyValue::String(s) => s.as_str().to_owned(),
        other => json(other).to_string(),
    }
}

/// A value as a property, as Python's `str` writes it in Microsoft's
/// exporter: booleans `True`/`False`, whole floats with `.0`.
fn text(value: &AnyValue) -> String {
    match value {
        AnyValue::String(s) => s.as_str().to_owned(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e16 => {
            format!("{d:.1}")
        }
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Boolean(b) => python_bool(*b).to_owned(),
        other => json(other).to_string(),
    }
}

fn json(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        AnyValue::String(s) => J::String(s.as_str().to_owned()),
        AnyValue::Int(i) => J::from(*i),
        AnyValue::Double(d) => J::from(*d),
        AnyValue::Boolean(b) => J::Bool(*b),
        AnyValue::Bytes(bytes) => J::String(String::from_utf8_lossy(bytes).into_owned()),
        AnyValue::ListAny(items) => J::Array(items.iter().map(json).collect()),
        AnyValue::Map(map) => {
            J::Object(map.iter().map(|(k, v)| (k.to_string(), json(v))).collect())
        }
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
    use opentelemetry::trace::TraceFlags;
    use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
    use serde_json::{Value, json};

    use super::*;
    use crate::mapping::tests::identity;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    /// Emits one record, shaped by `shape`, and maps it to JSON.
    fn map(shape: impl FnOnce(&mut SdkLogRecord)) -> Value {
        let memory = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(memory.clone())
            .build();
        let logger = provider.logger("shop");
        let mut record = logger.create_log_record();
        record.set_timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
        shape(&mut record);
        logger.emit(record);
        let logs = memory.get_emitted_logs().unwrap();
        serde_json::to_value(log_envelope(
            &identity(),
            &logs[0].record,
            &logs[0].instrumentation,
        ))
        .unwrap()
    }

    fn in_span(record: &mut SdkLogRecord) {
        record.set_trace_context(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            Some(TraceFlags::SAMPLED),
        );
    }

    #[test]
    fn a_record_in_a_span_is_a_message_of_its_operation() {
        let item = map(|r| {
            in_span(r);
            r.set_target("shop::orders");
            r.set_severity_number(Severity::Info);
            r.set_body("  order 42 placed \n".into());
            r.add_attribute("order_id", 42);
            r.add_attribute("express", true);
            r.add_attribute("total", 12.0);
            r.add_attribute(OPERATION_NAME_ATTRIBUTE, "POST /orders");
        });
        assert_eq!(item["name"], "Microsoft.ApplicationInsights.Message");
        assert_eq!(item["time"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(item.get("sampleRate"), None);
        assert_eq!(item["tags"]["ai.operation.id"], TRACE);
        assert_eq!(item["tags"]["ai.operation.parentId"], SPAN);
        assert_eq!(item["tags"]["ai.operation.name"], "POST /orders");
        assert_eq!(item["tags"]["ai.cloud.role"], "shop");
        assert_eq!(item["tags"]["ai.internal.nodeName"], "host-1");
        assert_eq!(
            item["data"],
            json!({"baseType": "MessageData", "baseData": {
                "ver": 2, "message": "order 42 placed", "severityLevel": 1,
                "properties": {"order_id": "42", "express": "True", "total": "12.0", "logger_name": "shop::orders"}
            }})
        );
    }

    #[test]
    fn a_record_outside_any_trace_has_no_operation() {
        let item = map(|r| {
            r.set_severity_number(Severity::Warn);
            r.set_body("listening".into());
        });
        let tags = item["tags"].as_object().unwrap();
        assert!(
            !tags.keys().any(|k| k.starts_with("ai.operation.")),
            "{tags:?}"
        );
        assert_eq!(item["data"]["baseData"]["severityLevel"], 2);
        // Without a target, the logger is the instrumentation scope.
        assert_eq!(
            item["data"]["baseData"]["properties"]["logger_name"],
            "shop"
        );
    }

    #[test]
    fn severity_numbers_map_by_bands_of_four() {
        let level = |severity| {
            map(|r| r.set_severity_number(severity))["data"]["baseData"]["severityLevel"].clone()
        };
        for (severity, expected) in [
            (Severity::Trace, 0),
            (Severity::Debug4, 0),
            (Severity::Info, 1),
            (Severity::Info4, 1),
            (Severity::Warn, 2),
            (Severity::Error, 3),
            (Severity::Error4, 3),
            (Severity::Fatal, 4),
            (Severity::Fatal4, 4),
        ] {
            assert_eq!(level(severity), expected, "{severity:?}");
        }
        let none = map(|r| r.set_body("x".into()));
        assert_eq!(none["data"]["baseData"]["severityLevel"], 0);
    }

    #[test]
    fn an_empty_message_is_n_a_and_a_long_one_is_cut() {
        let empty = map(|r| r.set_body("   ".into()));
        assert_eq!(empty["data"]["baseData"]["message"], "n/a");
        let long = map(|r| r.set_body("é".repeat(40_000).into()));
        assert_eq!(
            long["data"]["baseData"]["message"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            32_768
        );
        let structured = map(|r| {
            r.set_body(AnyValue::Map(Box::new(
                [(Key::from("id"), AnyValue::Int(7))].into_iter().collect(),
            )))
        });
        assert_eq!(structured["data"]["baseData"]["message"], r#"{"id":7}"#);
    }

    #[test]
    fn exception_attributes_make_an_exception() {
        let item = map(|r| {
            in_span(r);
            r.set_severity_number(Severity::Error);
            r.set_body("payment failed".into());
            r.add_attribute(semconv::EXCEPTION_TYPE, "GatewayError");
            r.add_attribute(semconv::EXCEPTION_MESSAGE, "card declined");
            r.add_attribute(semconv::EXCEPTION_STACKTRACE, "at pay()");
            r.add_attribute("order_id", 42);
        });
        assert_eq!(item["name"], "Microsoft.ApplicationInsights.Exception");
        assert_eq!(item["tags"]["ai.operation.parentId"], SPAN);
        assert_eq!(
            item["data"],
            json!({"baseType": "ExceptionData", "baseData": {
                "ver": 2, "severityLevel": 3,
                "exceptions": [{"typeName": "GatewayError", "message": "payment failed", "hasFullStack": true, "stack": "at pay()"}],
                "properties": {"order_id": "42", "logger_name": "shop"}
            }})
        );
    }

    #[test]
    fn an_error_field_makes_an_exception_that_keeps_the_error_text() {
        // `error!(error = %e, "payment failed")`
        let field = map(|r| {
            r.set_severity_number(Severity::Error);
            r.set_body("payment failed".into());
            r.add_attribute("error", "connection refused");
        });
        assert_eq!(
            field["data"]["baseData"],
            json!({"ver": 2, "severityLevel": 3,
                "exceptions": [{"typeName": "Exception", "message": "payment failed", "hasFullStack": false}],
                "properties": {"error": "connection refused", "logger_name": "shop"}})
        );
        // `error!(error = &e as &dyn Error, "payment failed")`: the bridge
        // writes `exception.message`, which the body displaces.
        let recorded = map(|r| {
            r.set_severity_number(Severity::Error);
            r.set_body("payment failed".into());
            r.add_attribute(semconv::EXCEPTION_MESSAGE, "connection refused");
        });
        assert_eq!(
            recorded["data"]["baseData"]["properties"][semconv::EXCEPTION_MESSAGE],
            "connection refused"
        );
        // Without a body, the error is the message.
        let bare = map(|r| r.add_attribute("error", "connection refused"));
        assert_eq!(
            bare["data"]["baseData"]["exceptions"][0]["message"],
            "connection refused"
        );
    }

    #[test]
    fn a_custom_event_name_makes_an_event() {
        let item = map(|r| {
            in_span(r);
            r.set_severity_number(Severity::Info);
            r.set_body("ignored".into());
            r.add_attribute(CUSTOM_EVENT_NAME, "checkout.completed");
            r.add_attribute("cart.items", 3);
        });
        assert_eq!(item["name"], "Microsoft.ApplicationInsights.Event");
        assert_eq!(
            item["data"],
            json!({"baseType": "EventData", "baseData": {
                "ver": 2, "name": "checkout.completed",
                "properties": {"cart.items": "3", "logger_name": "shop"}
            }})
        );
        let marked = map(|r| {
            r.set_body("signed up".into());
            r.add_attribute(EVENT_MARKER, true);
        });
        assert_eq!(marked["data"]["baseData"]["name"], "signed up");
    }

    #[test]
    fn user_and_session_attributes_become_tags_and_long_keys_are_left_out() {
        let item = map(|r| {
            r.add_attribute(semconv::ENDUSER_ID, "alice");
            r.add_attribute(semconv::ENDUSER_PSEUDO_ID, "u-17");
            r.add_attribute(semconv::SESSION_ID, "s-9");
            r.add_attribute(semconv::CLIENT_ADDRESS, "203.0.113.7");
            r.add_attribute("k".repeat(151), "dropped");
            r.add_attribute("k".repeat(150), "v".repeat(9000));
        });
        assert_eq!(item["tags"]["ai.user.authUserId"], "alice");
        assert_eq!(item["tags"]["ai.user.id"], "u-17");
        assert_eq!(item["tags"]["ai.session.id"], "s-9");
        assert_eq!(item["tags"]["ai.location.ip"], "203.0.113.7");
        let properties = item["data"]["baseData"]["properties"].as_object().unwrap();
        let keys: Vec<_> = properties.keys().map(|k| k.len()).collect();
        assert_eq!(keys.len(), 3, "{keys:?}"); // client.address, the 150-character key, logger_name
        assert_eq!(properties[&"k".repeat(150)].as_str().unwrap().len(), 8192);
    }
}
