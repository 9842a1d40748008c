//! Finished spans to envelopes: Server and Consumer spans are requests,
//! Client, Producer and Internal spans dependencies, `exception` events
//! exceptions and other events messages.

use std::collections::{BTreeMap, HashMap};

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute as semconv;
use url::Url;

use crate::envelope::{
    BaseData, Data, Envelope, ExceptionData, ExceptionDetails, MessageData, Properties,
    RemoteDependencyData, RequestData,
};
use crate::format::{duration, time, truncate};

/// Span attribute with the sampling percentage; census's sampler and Azure
/// Monitor's OpenTelemetry samplers set it. Never sent as a property.
pub const SAMPLE_RATE_ATTRIBUTE: &str = "_MS.sampleRate";

/// What every envelope of this process carries.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) ikey: String,
    pub(crate) role: Option<String>,
    pub(crate) role_instance: String,
}

const SDK_VERSION: &str = concat!(
    "rs",
    env!("CENSUS_RUSTC_VERSION"),
    ":census",
    env!("CARGO_PKG_VERSION")
);

pub(crate) fn envelopes(identity: &Identity, spans: &[SpanData]) -> Vec<Envelope> {
    let by_id: HashMap<SpanId, &SpanData> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let operation_name = request_name(span, &by_id);
        let attrs = Attrs(&span.attributes);
        let sample_rate = match attrs.get(SAMPLE_RATE_ATTRIBUTE) {
            Some(Value::F64(rate)) => *rate,
            _ => 100.0,
        };
        let envelope = |parent: SpanId, at, base| {
            let mut tags = tags(identity, span.span_context.trace_id(), parent);
            if let Some(name) = operation_name {
                tags.insert("ai.operation.name", truncate(name.to_owned(), 1024));
            }
            build(identity, at, sample_rate, tags, base)
        };
        out.push(envelope(
            span.parent_span_id,
            span.start_time,
            span_data(span, &attrs),
        ));
        for event in span.events.iter() {
            out.push(envelope(
                span.span_context.span_id(),
                event.timestamp,
                event_data(event),
            ));
        }
    }
    out
}

/// The name of the request a span belongs to: itself if it is one, else
/// its nearest Server or Consumer ancestor in the batch. Each process
/// names its part of an operation after its own incoming request, as the
/// Application Insights SDKs do.
fn request_name<'a>(span: &'a SpanData, by_id: &HashMap<SpanId, &'a SpanData>) -> Option<&'a str> {
    let mut current = span;
    // Bounded: a malformed batch could contain a parent cycle.
    for _ in 0..64 {
        if matches!(current.span_kind, SpanKind::Server | SpanKind::Consumer) {
            return Some(current.name.as_ref());
        }
        current = by_id.get(&current.parent_span_id)?;
    }
    None
}

fn build(
    identity: &Identity,
    at: std::time::SystemTime,
    sample_rate: f64,
    tags: BTreeMap<&'static str, String>,
    base_data: BaseData,
) -> Envelope {
    let (name, base_type) = base_data.names();
    Envelope {
        ver: 1,
        name,
        time: time(at),
        sample_rate,
        ikey: identity.ikey.clone(),
        tags,
        data: Data {
            base_type,
            base_data,
        },
    }
}

fn tags(identity: &Identity, trace: TraceId, parent: SpanId) -> BTreeMap<&'static str, String> {
    let mut tags = BTreeMap::new();
    tags.insert("ai.operation.id", trace.to_string());
    if parent != SpanId::INVALID {
        tags.insert("ai.operation.parentId", parent.to_string());
    }
    if let Some(role) = &identity.role {
        tags.insert("ai.cloud.role", role.clone());
    }
    tags.insert("ai.cloud.roleInstance", identity.role_instance.clone());
    tags.insert("ai.internal.sdkVersion", SDK_VERSION.to_owned());
    tags
}

struct Attrs<'a>(&'a [KeyValue]);

impl Attrs<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(Value::to_string)
    }

    /// Every attribute but `mapped` ones and census-internal `_MS.` ones.
    fn properties(&self, mapped: &[&str]) -> Properties {
        properties(self.0.iter().filter(|kv| {
            let key = kv.key.as_str();
            !key.starts_with("_MS.") && !mapped.contains(&key)
        }))
    }
}

fn properties<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Properties {
    attributes
        .map(|kv| {
            (
                truncate(kv.key.to_string(), 150),
                truncate(kv.value.to_string(), 8192),
            )
        })
        .collect()
}

fn succeeded(span: &SpanData) -> bool {
    !matches!(span.status, Status::Error { .. })
}

fn span_data(span: &SpanData, attrs: &Attrs<'_>) -> BaseData {
    match span.span_kind {
        SpanKind::Server | SpanKind::Consumer => BaseData::Request(request(span, attrs)),
        _ => BaseData::Dependency(dependency(span, attrs)),
    }
}

const REQUEST_MAPPED: [&str; 9] = [
    semconv::HTTP_REQUEST_METHOD,
    semconv::HTTP_RESPONSE_STATUS_CODE,
    semconv::HTTP_ROUTE,
    semconv::URL_FULL,
    semconv::URL_PATH,
    semconv::URL_QUERY,
    semconv::URL_SCHEME,
    semconv::SERVER_ADDRESS,
    semconv::SERVER_PORT,
];

fn request(span: &SpanData, attrs: &Attrs<'_>) -> RequestData {
    let url = attrs.string(semconv::URL_FULL).or_else(|| {
        let path = attrs.string(semconv::URL_PATH)?;
        let query = attrs
            .string(semconv::URL_QUERY)
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        Some(match attrs.string(semconv::SERVER_ADDRESS) {
            Some(host) => {
                let scheme = attrs
                    .string(semconv::URL_SCHEME)
                    .unwrap_or_else(|| "http".into());
                let port = attrs
                    .string(semconv::SERVER_PORT)
                    .map(|p| format!(":{p}"))
                    .unwrap_or_default();
                format!("{scheme}://{host}{port}{path}{query}")
            }
            None => format!("{path}{query}"),
        })
    });
    RequestData {
        ver: 2,
        id: span.span_context.span_id().to_string(),
        name: truncate(span.name.to_string(), 1024),
        duration: duration(
            span.end_time
                .duration_since(span.start_time)
                .unwrap_or_default(),
        ),
        response_code: truncate(
            attrs
                .string(semconv::HTTP_RESPONSE_STATUS_CODE)
                .unwrap_or_else(|| "0".into()),
            1024,
        ),
        success: succeeded(span),
        url: url.map(|u| truncate(u, 2048)),
        source: None,
        properties: attrs.properties(&REQUEST_MAPPED),
    }
}

/// What a dependency is, from its attributes.
struct Described {
    kind: String,
    name: String,
    target: Option<String>,
    data: Option<String>,
    result_code: Option<String>,
    mapped: &'static [&'static str],
}

const HTTP_MAPPED: &[&str] = &[
    semconv::HTTP_REQUEST_METHOD,
    semconv::HTTP_RESPONSE_STATUS_CODE,
    semconv::URL_FULL,
    semconv::SERVER_ADDRESS,
    semconv::SERVER_PORT,
];

const DB_MAPPED: &[&str] = &[
    semconv::DB_SYSTEM_NAME,
    semconv::DB_QUERY_TEXT,
    semconv::DB_QUERY_SUMMARY,
    semconv::DB_NAMESPACE,
    semconv::DB_RESPONSE_STATUS_CODE,
    semconv::SERVER_ADDRESS,
    semconv::SERVER_PORT,
];

const OTHER_MAPPED: &[&str] = &[semconv::SERVER_ADDRESS, semconv::SERVER_PORT];

fn describe(span: &SpanData, attrs: &Attrs<'_>) -> Described {
    let name = span.name.to_string();
    let host_port = || {
        let host = attrs.string(semconv::SERVER_ADDRESS)?;
        Some(match attrs.string(semconv::SERVER_PORT) {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    };
    if let Some(method) = attrs.string(semconv::HTTP_REQUEST_METHOD) {
        let url = attrs.string(semconv::URL_FULL);
        let parsed = url.as_deref().and_then(|u| Url::parse(u).ok());
        let path = parsed.as_ref().map_or("/", Url::path);
        let target = parsed.as_ref().and_then(|u| {
            let host = u.host_str()?;
            // `port()` is `None` for the scheme's default port.
            Some(
                u.port()
                    .map_or_else(|| host.to_owned(), |p| format!("{host}:{p}")),
            )
        });
        return Described {
            kind: "HTTP".into(),
            name: format!("{method} {path}"),
            target: target.or_else(host_port),
            data: url,
            result_code: attrs.string(semconv::HTTP_RESPONSE_STATUS_CODE),
            mapped: HTTP_MAPPED,
        };
    }
    if let Some(system) = attrs.string(semconv::DB_SYSTEM_NAME) {
        let kind = match system.as_str() {
            "postgresql" | "mysql" | "mongodb" => system.clone(),
            "redis" | "cosmosdb" | "cassandra" | "elasticsearch" => system.clone(),
            _ => "SQL".into(),
        };
        let namespace = attrs.string(semconv::DB_NAMESPACE);
        let target = match (host_port(), namespace) {
            (Some(host), Some(db)) => Some(format!("{host}|{db}")),
            (host, db) => host.or(db),
        };
        return Described {
            kind,
            name,
            target,
            data: attrs.string(semconv::DB_QUERY_TEXT),
            result_code: attrs.string(semconv::DB_RESPONSE_STATUS_CODE),
            mapped: DB_MAPPED,
        };
    }
    let kind = if span.span_kind == SpanKind::Internal {
        "InProc".into()
    } else if let Some(system) = attrs
        .string(semconv::MESSAGING_SYSTEM)
        .or_else(|| attrs.string(semconv::RPC_SYSTEM_NAME))
    {
        system
    } else if span.span_kind == SpanKind::Producer {
        "Queue Message".into()
    } else {
        "Dependency".into()
    };
    Described {
        kind,
        name,
        target: attrs
            .string(semconv::MESSAGING_DESTINATION_NAME)
            .or_else(host_port),
        data: None,
        result_code: None,
        mapped: OTHER_MAPPED,
    }
}

fn dependency(span: &SpanData, attrs: &Attrs<'_>) -> RemoteDependencyData {
    let described = describe(span, attrs);
    RemoteDependencyData {
        ver: 2,
        name: truncate(described.name, 1024),
        id: span.span_context.span_id().to_string(),
        result_code: described.result_code.map(|c| truncate(c, 1024)),
        duration: duration(
            span.end_time
                .duration_since(span.start_time)
                .unwrap_or_default(),
        ),
        success: succeeded(span),
        data: described.data.map(|d| truncate(d, 8192)),
        target: described.target.map(|t| truncate(t, 1024)),
        kind: truncate(described.kind, 1024),
        properties: attrs.properties(described.mapped),
    }
}

fn event_data(event: &opentelemetry::trace::Event) -> BaseData {
    let attrs = Attrs(&event.attributes);
    if event.name == "exception" {
        let type_name = attrs
            .string(semconv::EXCEPTION_TYPE)
            .unwrap_or_else(|| "Error".into());
        let message = attrs
            .string(semconv::EXCEPTION_MESSAGE)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| type_name.clone());
        let stack = attrs.string(semconv::EXCEPTION_STACKTRACE);
        return BaseData::Exception(ExceptionData {
            ver: 2,
            exceptions: vec![ExceptionDetails {
                type_name: truncate(type_name, 1024),
                message: truncate(message, 32768),
                has_full_stack: stack.is_some(),
                stack: stack.map(|s| truncate(s, 32768)),
            }],
            severity_level: "Error",
            properties: attrs.properties(&[
                semconv::EXCEPTION_TYPE,
                semconv::EXCEPTION_MESSAGE,
                semconv::EXCEPTION_STACKTRACE,
            ]),
        });
    }
    BaseData::Message(MessageData {
        ver: 2,
        message: truncate(event.name.to_string(), 32768),
        severity_level: "Information",
        properties: properties(event.attributes.iter()),
    })
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use serde_json::{Value, json};

    use super::*;

    fn identity() -> Identity {
        Identity {
            ikey: "0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b".into(),
            role: Some("shop".into()),
            role_instance: "host-1".into(),
        }
    }

    /// Records spans with `record`, then maps them to JSON envelopes.
    fn map(record: impl FnOnce(&opentelemetry_sdk::trace::SdkTracer)) -> Vec<Value> {
        let memory = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(memory.clone())
            .build();
        record(&provider.tracer("test"));
        envelopes(&identity(), &memory.get_finished_spans().unwrap())
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    #[test]
    fn exception_and_other_events_become_exception_and_message_envelopes() {
        let items = map(|tracer| {
            let mut span = tracer
                .span_builder("INSERT orders")
                .with_kind(SpanKind::Client)
                .start(tracer);
            span.add_event(
                "exception",
                vec![
                    KeyValue::new("exception.type", "23505"),
                    KeyValue::new("exception.message", "duplicate key"),
                    KeyValue::new("exception.stacktrace", "at insert()"),
                ],
            );
            span.add_event("cache miss", vec![KeyValue::new("key.kind", "order")]);
            span.set_status(Status::error("duplicate key"));
            span.end();
        });
        let [dependency, exception, message] = items.as_slice() else {
            panic!("{items:#?}")
        };
        let span_id = dependency["data"]["baseData"]["id"].clone();
        assert_eq!(dependency["data"]["baseData"]["success"], false);
        assert_eq!(dependency["data"]["baseData"]["type"], "Dependency");
        assert_eq!(exception["name"], "Microsoft.ApplicationInsights.Exception");
        assert_eq!(
            exception["data"],
            json!({"baseType": "ExceptionData", "baseData": {
                "ver": 2, "severityLevel": "Error",
                "exceptions": [{"typeName": "23505", "message": "duplicate key", "hasFullStack": true, "stack": "at insert()"}]
            }})
        );
        assert_eq!(exception["tags"]["ai.operation.parentId"], span_id);
        assert_eq!(message["name"], "Microsoft.ApplicationInsights.Message");
        assert_eq!(
            message["data"],
            json!({"baseType": "MessageData", "baseData": {
                "ver": 2, "message": "cache miss", "severityLevel": "Information", "properties": {"key.kind": "order"}
            }})
        );
        assert_eq!(message["tags"]["ai.operation.parentId"], span_id);
    }

    #[test]
    fn sample_rate_comes_from_the_sampler_attribute_and_is_not_a_property() {
        let items = map(|tracer| {
            tracer
                .span_builder("work")
                .with_attributes([
                    KeyValue::new(SAMPLE_RATE_ATTRIBUTE, 25.0),
                    KeyValue::new("items", 3),
                ])
                .start(tracer)
                .end();
        });
        assert_eq!(items[0]["sampleRate"], 25.0);
        assert_eq!(items[0]["data"]["baseData"]["type"], "InProc");
        assert_eq!(
            items[0]["data"]["baseData"]["properties"],
            json!({"items": "3"})
        );
    }

    #[test]
    fn long_values_are_cut_to_the_spec_maxima() {
        let items = map(|tracer| {
            tracer
                .span_builder("x".repeat(2000))
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "postgresql"),
                    KeyValue::new("db.query.text", "é".repeat(9000)),
                    KeyValue::new("k".repeat(200), "v".repeat(9000)),
                ])
                .start(tracer)
                .end();
        });
        let base = &items[0]["data"]["baseData"];
        assert_eq!(base["name"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(base["data"].as_str().unwrap().chars().count(), 8192);
        assert_eq!(base["type"], "postgresql");
        let (key, value) = base["properties"]
            .as_object()
            .unwrap()
            .iter()
            .next()
            .unwrap();
        assert_eq!((key.len(), value.as_str().unwrap().len()), (150, 8192));
    }

    #[test]
    fn messaging_and_database_targets() {
        let items = map(|tracer| {
            tracer
                .span_builder("publish orders")
                .with_kind(SpanKind::Producer)
                .with_attributes([
                    KeyValue::new("messaging.system", "rabbitmq"),
                    KeyValue::new("messaging.destination.name", "orders"),
                ])
                .start(tracer)
                .end();
            tracer
                .span_builder("SELECT users")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "mysql"),
                    KeyValue::new("server.address", "db"),
                    KeyValue::new("server.port", 3306),
                    KeyValue::new("db.namespace", "shop"),
                    KeyValue::new("db.response.status_code", "1062"),
                ])
                .start(tracer)
                .end();
            tracer
                .span_builder("process")
                .with_kind(SpanKind::Consumer)
                .start(tracer)
                .end();
        });
        let base = |i: usize| items[i]["data"]["baseData"].clone();
        assert_eq!(
            (base(0)["type"].clone(), base(0)["target"].clone()),
            (json!("rabbitmq"), json!("orders"))
        );
        assert_eq!(
            (
                base(1)["type"].clone(),
                base(1)["target"].clone(),
                base(1)["resultCode"].clone()
            ),
            (json!("mysql"), json!("db:3306|shop"), json!("1062"))
        );
        assert_eq!(items[2]["name"], "Microsoft.ApplicationInsights.Request");
        assert_eq!(
            (base(2)["responseCode"].clone(), base(2)["success"].clone()),
            (json!("0"), json!(true))
        );
        assert_eq!(items[2]["tags"]["ai.operation.name"], "process");
        assert_eq!(items[2]["tags"]["ai.cloud.role"], "shop");
        assert_eq!(items[2]["tags"]["ai.cloud.roleInstance"], "host-1");
    }
}
