//! Finished spans to envelopes: Server and Consumer spans are requests,
//! Client, Producer and Internal spans dependencies, `exception` events
//! exceptions and other events messages.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use census_pipeline::operation::OPERATION_NAME_ATTRIBUTE;
use census_pipeline::sampling::SAMPLE_RATE_ATTRIBUTE;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_semantic_conventions::attribute as semconv;
use url::Url;

use crate::envelope::{
    BaseData, Data, Envelope, ExceptionData, ExceptionDetails, MessageData, Properties,
    RemoteDependencyData, RequestData, SeverityLevel,
};
use crate::format::{duration, property_value, time, truncate};

/// What every envelope of this process carries, and how requests are
/// judged.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) ikey: String,
    pub(crate) role: Option<String>,
    pub(crate) role_instance: String,
    pub(crate) sdk_version: String,
    /// `ai.device.id`: the host name, as Microsoft's exporters send it.
    pub(crate) device_id: String,
    /// `ai.device.locale`, e.g. `en_US`, from the environment's locale.
    pub(crate) locale: Option<String>,
    pub(crate) request_success: RequestSuccess,
    /// Whether a metric exporter sends the standard metrics, so that the
    /// requests and dependencies census's integrations measured are marked
    /// `_MS.ProcessedByMetricExtractors` and not counted twice.
    pub(crate) standard_metrics: bool,
}

impl Identity {
    /// Role and instance from the resource, as Microsoft's exporters take
    /// them: `service.namespace.service.name`, `service.instance.id`.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let get = |key: &'static str| {
            resource
                .get(&Key::from_static_str(key))
                .map(|v| v.to_string())
        };
        self.role = match (get("service.namespace"), get("service.name")) {
            (Some(namespace), Some(name)) => Some(format!("{namespace}.{name}")),
            (None, name) => name,
            (namespace, None) => namespace,
        };
        if let Some(instance) = get("service.instance.id") {
            self.role_instance = instance;
        }
        if let Some(version) = get("telemetry.sdk.version") {
            self.sdk_version = sdk_version(&version);
        }
    }
}

/// The locale as Python's `locale.getdefaultlocale` reads it, which
/// Microsoft's exporters send: the first of `LC_ALL`, `LC_CTYPE`, `LANG`
/// and `LANGUAGE` set, without encoding or modifier (`en_US.UTF-8` is
/// `en_US`); Python's alias table makes `C.UTF-8` `en_US`, and the plain
/// C locale none.
pub(crate) fn locale(env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let value = ["LC_ALL", "LC_CTYPE", "LANG", "LANGUAGE"]
        .into_iter()
        .find_map(|name| env(name).filter(|v| !v.is_empty()))?;
    let first = value.split(':').next().unwrap_or_default();
    let name = first.split(['.', '@']).next().unwrap_or_default();
    match name {
        "" | "POSIX" => None,
        "C" if first.len() > 1 => Some("en_US".to_owned()),
        "C" => None,
        _ => Some(name.to_owned()),
    }
}

/// `ai.internal.sdkVersion` in the layout of Microsoft's exporters,
/// `{prefix}_{language}{version}:otel{sdk version}:ext{exporter version}`;
/// the prefix says: unknown resource provider, this operating system,
/// manual instrumentation.
pub(crate) fn sdk_version(otel: &str) -> String {
    let os = if cfg!(target_os = "linux") {
        'l'
    } else if cfg!(windows) {
        'w'
    } else {
        'u'
    };
    format!(
        "u{os}m_rs{}:otel{otel}:ext{}",
        env!("CENSUS_RUSTC_VERSION"),
        env!("CARGO_PKG_VERSION")
    )
}

/// What an incoming request's `success` is decided from.
///
/// ```
/// use census_azure::RequestOutcome;
/// let rule = |r: &RequestOutcome| r.status_code() == Some(404) || r.default_success();
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOutcome {
    status_code: Option<u16>,
    http: bool,
    span_error: bool,
}

impl RequestOutcome {
    /// An HTTP request's outcome, as its duration metric tells it.
    pub(crate) fn http(status_code: Option<u16>, span_error: bool) -> Self {
        Self {
            status_code,
            http: true,
            span_error,
        }
    }

    /// The response status, for HTTP requests that got one.
    pub fn status_code(&self) -> Option<u16> {
        self.status_code
    }

    /// Whether the span's status is Error.
    pub fn span_error(&self) -> bool {
        self.span_error
    }

    /// The rule of Microsoft's exporters and SDKs: a request fails when its
    /// span status is Error, or when it is an HTTP request whose status is
    /// 400 or more (or missing).
    pub fn default_success(&self) -> bool {
        !self.span_error && (!self.http || self.status_code.is_some_and(|c| (1..400).contains(&c)))
    }
}

/// The rule deciding a request's `success`.
#[derive(Clone)]
pub(crate) struct RequestSuccess(pub(crate) Arc<dyn Fn(&RequestOutcome) -> bool + Send + Sync>);

impl Default for RequestSuccess {
    fn default() -> Self {
        Self(Arc::new(RequestOutcome::default_success))
    }
}

impl std::fmt::Debug for RequestSuccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestSuccess")
    }
}

pub(crate) fn envelopes(identity: &Identity, spans: &[SpanData]) -> Vec<Envelope> {
    let by_id: HashMap<SpanId, &SpanData> = spans
        .iter()
        .map(|s| (s.span_context.span_id(), s))
        .collect();
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let attrs = Attrs(&span.attributes);
        let operation_name = match attrs.get(OPERATION_NAME_ATTRIBUTE) {
            Some(Value::String(name)) => Some(name.as_str()),
            _ => request_name(span, &by_id),
        };
        let sample_rate = match attrs.get(SAMPLE_RATE_ATTRIBUTE) {
            Some(Value::F64(rate)) => *rate,
            _ => 100.0,
        };
        let sample_rate = Some(sample_rate);
        let envelope = |parent: SpanId, at, base| {
            let mut tags = tags(identity, span.span_context.trace_id(), parent);
            if let Some(name) = operation_name {
                tags.insert("ai.operation.name", truncate(name.to_owned(), 1024));
            }
            request_tags(span, &attrs, &mut tags);
            build(identity, at, sample_rate, tags, base)
        };
        out.push(envelope(
            span.parent_span_id,
            span.start_time,
            span_data(identity, span, &attrs),
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

/// For spans recorded without [`OperationNameProcessor`]
/// (census_pipeline::operation::OperationNameProcessor), the name of the
/// request a span belongs to: itself if it is one, else
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

pub(crate) fn build(
    identity: &Identity,
    at: std::time::SystemTime,
    sample_rate: Option<f64>,
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
    let mut tags = process_tags(identity);
    tags.insert("ai.operation.id", trace.to_string());
    if parent != SpanId::INVALID {
        tags.insert("ai.operation.parentId", parent.to_string());
    }
    tags
}

/// The tags of every item of this process: role, instance, device, SDK
/// version.
pub(crate) fn process_tags(identity: &Identity) -> BTreeMap<&'static str, String> {
    let mut tags = BTreeMap::new();
    tags.insert("ai.device.id", identity.device_id.clone());
    if let Some(locale) = &identity.locale {
        tags.insert("ai.device.locale", locale.clone());
    }
    // Microsoft's exporters say the same of every server process.
    tags.insert("ai.device.type", "Other".into());
    if let Some(role) = &identity.role {
        tags.insert("ai.cloud.role", role.clone());
    }
    tags.insert("ai.cloud.roleInstance", identity.role_instance.clone());
    tags.insert("ai.internal.sdkVersion", identity.sdk_version.clone());
    tags
}

/// `ai.location.ip` for requests and `ai.user.userAgent` for requests and
/// HTTP client calls, as Microsoft's exporters send them.
fn request_tags(span: &SpanData, attrs: &Attrs<'_>, tags: &mut BTreeMap<&'static str, String>) {
    let request = matches!(span.span_kind, SpanKind::Server | SpanKind::Consumer);
    if request && let Some(ip) = attrs.string(semconv::CLIENT_ADDRESS) {
        tags.insert("ai.location.ip", truncate(ip, 46));
    }
    let http_client =
        span.span_kind == SpanKind::Client && attrs.get(semconv::HTTP_REQUEST_METHOD).is_some();
    if (request || http_client)
        && let Some(agent) = attrs.string(semconv::USER_AGENT_ORIGINAL)
    {
        tags.insert("ai.user.userAgent", truncate(agent, 64));
    }
}

pub(crate) struct Attrs<'a>(pub(crate) &'a [KeyValue]);

impl Attrs<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(Value::to_string)
    }

    /// Every attribute but the standard ones, as Microsoft's exporters
    /// send custom properties.
    fn properties(&self) -> Properties {
        properties(self.0.iter().filter(|kv| !is_standard(kv.key.as_str())))
    }
}

pub(crate) fn properties<'a>(attributes: impl Iterator<Item = &'a KeyValue>) -> Properties {
    attributes
        .map(|kv| {
            (
                truncate(kv.key.to_string(), 150),
                truncate(property_value(&kv.value), 8192),
            )
        })
        .collect()
}

/// Attribute prefixes Microsoft's exporters map or drop rather than send
/// as custom properties.
const STANDARD_PREFIXES: [&str; 13] = [
    "http.",
    "db.",
    "message.",
    "messaging.",
    "rpc.",
    "enduser.",
    "net.",
    "peer.",
    "exception.",
    "thread.",
    "fass.",
    "code.",
    "_MS.",
];

/// Single standard attributes Microsoft's exporters keep out of the
/// custom properties, and census's own operation name.
const STANDARD_KEYS: [&str; 22] = [
    semconv::CLIENT_ADDRESS,
    semconv::CLIENT_PORT,
    semconv::SERVER_ADDRESS,
    semconv::SERVER_PORT,
    semconv::URL_FULL,
    semconv::URL_PATH,
    semconv::URL_QUERY,
    semconv::URL_SCHEME,
    semconv::URL_TEMPLATE,
    semconv::ERROR_TYPE,
    semconv::NETWORK_LOCAL_ADDRESS,
    semconv::NETWORK_LOCAL_PORT,
    semconv::NETWORK_PROTOCOL_NAME,
    semconv::NETWORK_PEER_ADDRESS,
    semconv::NETWORK_PEER_PORT,
    semconv::NETWORK_PROTOCOL_VERSION,
    semconv::NETWORK_TRANSPORT,
    semconv::USER_AGENT_ORIGINAL,
    semconv::USER_AGENT_SYNTHETIC_TYPE,
    semconv::SESSION_ID,
    "microsoft.custom_measurements",
    OPERATION_NAME_ATTRIBUTE,
];

fn is_standard(key: &str) -> bool {
    STANDARD_PREFIXES.iter().any(|p| key.starts_with(p)) || STANDARD_KEYS.contains(&key)
}

fn succeeded(span: &SpanData) -> bool {
    !matches!(span.status, Status::Error { .. })
}

fn span_data(identity: &Identity, span: &SpanData, attrs: &Attrs<'_>) -> BaseData {
    let mut properties = attrs.properties();
    if identity.standard_metrics && measured(span) {
        properties.insert("_MS.ProcessedByMetricExtractors".into(), "True".into());
    }
    match span.span_kind {
        SpanKind::Server | SpanKind::Consumer => {
            BaseData::Request(request(identity, span, attrs, properties))
        }
        _ => BaseData::Dependency(dependency(span, attrs, properties)),
    }
}

/// Whether a census integration measured the span's call, so that the
/// standard metrics count it: every span they make but in-process ones,
/// as Microsoft's exporters mark the spans of instrumentations that record
/// the duration metrics.
fn measured(span: &SpanData) -> bool {
    span.span_kind != SpanKind::Internal && span.instrumentation_scope.name().starts_with("census-")
}

fn request(
    identity: &Identity,
    span: &SpanData,
    attrs: &Attrs<'_>,
    properties: Properties,
) -> RequestData {
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
        // A gRPC request's code is its status (`NOT_FOUND`): gRPC answers
        // 200 over HTTP whatever happened.
        response_code: truncate(
            attrs
                .string(semconv::HTTP_RESPONSE_STATUS_CODE)
                .or_else(|| attrs.string(semconv::RPC_RESPONSE_STATUS_CODE))
                .unwrap_or_else(|| "0".into()),
            1024,
        ),
        success: (identity.request_success.0)(&RequestOutcome {
            status_code: match attrs.get(semconv::HTTP_RESPONSE_STATUS_CODE) {
                Some(Value::I64(code)) => u16::try_from(*code).ok(),
                _ => None,
            },
            http: attrs.get(semconv::HTTP_REQUEST_METHOD).is_some(),
            span_error: !succeeded(span),
        }),
        url: url.map(|u| truncate(u, 2048)),
        source: None,
        properties,
    }
}

/// What a dependency is, from its attributes.
struct Described {
    kind: String,
    name: String,
    target: Option<String>,
    data: Option<String>,
    result_code: String,
}

/// `server.address[:server.port]`.
pub(crate) fn host_port(attrs: &Attrs<'_>) -> Option<String> {
    let host = attrs.string(semconv::SERVER_ADDRESS)?;
    Some(match attrs.string(semconv::SERVER_PORT) {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// A database dependency's type and target, for the `system` named: the
/// item's and the `dependencies/duration` standard metric's alike.
pub(crate) fn database(system: String, attrs: &Attrs<'_>) -> (String, String) {
    let kind = match system.as_str() {
        "postgresql" | "mysql" | "mongodb" => system.clone(),
        "redis" | "cosmosdb" | "cassandra" | "elasticsearch" => system.clone(),
        _ => "SQL".into(),
    };
    let namespace = attrs.string(semconv::DB_NAMESPACE);
    let target = match (host_port(attrs), namespace) {
        (Some(host), Some(db)) => format!("{host}|{db}"),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => system,
    };
    (kind, target)
}

fn describe(span: &SpanData, attrs: &Attrs<'_>) -> Described {
    let name = span.name.to_string();
    let host_port = || host_port(attrs);
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
            result_code: attrs
                .string(semconv::HTTP_RESPONSE_STATUS_CODE)
                .unwrap_or_else(|| "0".into()),
        };
    }
    if let Some(system) = attrs.string(semconv::DB_SYSTEM_NAME) {
        let (kind, target) = database(system, attrs);
        return Described {
            kind,
            name,
            target: Some(target),
            data: attrs.string(semconv::DB_QUERY_TEXT),
            result_code: attrs
                .string(semconv::DB_RESPONSE_STATUS_CODE)
                .unwrap_or_else(|| "0".into()),
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
        result_code: "0".into(),
    }
}

fn dependency(span: &SpanData, attrs: &Attrs<'_>, properties: Properties) -> RemoteDependencyData {
    let described = describe(span, attrs);
    RemoteDependencyData {
        ver: 2,
        name: truncate(described.name, 1024),
        id: span.span_context.span_id().to_string(),
        result_code: Some(truncate(described.result_code, 1024)),
        duration: duration(
            span.end_time
                .duration_since(span.start_time)
                .unwrap_or_default(),
        ),
        success: succeeded(span),
        data: described.data.map(|d| truncate(d, 8192)),
        target: described.target.map(|t| truncate(t, 1024)),
        kind: truncate(described.kind, 1024),
        properties,
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
            severity_level: SeverityLevel::Named("Error"),
            properties: attrs.properties(),
        });
    }
    BaseData::Message(MessageData {
        ver: 2,
        message: truncate(event.name.to_string(), 32768),
        severity_level: SeverityLevel::Named("Information"),
        properties: properties(event.attributes.iter()),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use serde_json::{Value, json};

    use super::*;

    /// The identity every mapping test uses.
    pub(crate) fn identity() -> Identity {
        Identity {
            ikey: "0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b".into(),
            role: Some("shop".into()),
            role_instance: "host-1".into(),
            sdk_version: sdk_version("0.33.1"),
            device_id: "host-1".into(),
            locale: Some("en_US".into()),
            request_success: RequestSuccess::default(),
            standard_metrics: false,
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
        assert_first_property_cut_to_the_limits(&base["properties"]);
    }

    /// Asserts that the first of `properties` has its key cut to 150
    /// characters and its value to 8192.
    pub(crate) fn assert_first_property_cut_to_the_limits(properties: &Value) {
        let (key, value) = properties.as_object().unwrap().iter().next().unwrap();
        assert_eq!((key.len(), value.as_str().unwrap().len()), (150, 8192));
    }

    #[test]
    fn mongodb_and_mariadb_dependencies() {
        let items = map(|tracer| {
            tracer
                .span_builder("find orders")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "mongodb"),
                    KeyValue::new("server.address", "mongo"),
                    KeyValue::new("server.port", 27017),
                    KeyValue::new("db.namespace", "shop"),
                    KeyValue::new("db.collection.name", "orders"),
                    KeyValue::new("db.operation.name", "find"),
                    KeyValue::new(
                        "db.query.text",
                        r#"{"find": "orders", "filter": {"status": ?}}"#,
                    ),
                ])
                .start(tracer)
                .end();
            tracer
                .span_builder("SELECT users")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "mariadb"),
                    KeyValue::new("server.address", "db"),
                    KeyValue::new("server.port", 3306),
                    KeyValue::new("db.namespace", "shop"),
                    KeyValue::new("db.query.text", "SELECT * FROM users WHERE id = ?"),
                ])
                .start(tracer)
                .end();
        });
        let base = |i: usize| items[i]["data"]["baseData"].clone();
        let fields = |i: usize| {
            let b = base(i);
            (
                b["type"].clone(),
                b["target"].clone(),
                b["name"].clone(),
                b["data"].clone(),
                b["resultCode"].clone(),
            )
        };
        assert_eq!(
            fields(0),
            (
                json!("mongodb"),
                json!("mongo:27017|shop"),
                json!("find orders"),
                json!(r#"{"find": "orders", "filter": {"status": ?}}"#),
                json!("0")
            )
        );
        // Microsoft's exporter names only PostgreSQL, MySQL and MongoDB
        // (and a few others) by type; every other SQL database is `SQL`.
        assert_eq!(
            fields(1),
            (
                json!("SQL"),
                json!("db:3306|shop"),
                json!("SELECT users"),
                json!("SELECT * FROM users WHERE id = ?"),
                json!("0")
            )
        );
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

    /// Exports every span in a batch of its own, as
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=1` would.
    fn one_per_batch(record: impl FnOnce(&opentelemetry_sdk::trace::SdkTracer)) -> Vec<Value> {
        let memory = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(census_pipeline::operation::OperationNameProcessor::new(
                opentelemetry_sdk::trace::SimpleSpanProcessor::new(memory.clone()),
            ))
            .build();
        record(&provider.tracer("test"));
        memory
            .get_finished_spans()
            .unwrap()
            .iter()
            .flat_map(|span| envelopes(&identity(), std::slice::from_ref(span)))
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    #[test]
    fn every_item_carries_the_operation_name_whatever_its_batch() {
        let items = one_per_batch(|tracer| {
            // The request is still running: only its context exists.
            let cx =
                census_core::operation::within(opentelemetry::Context::new(), "GET /orders/{id}");
            let mut child = tracer
                .span_builder("SELECT orders")
                .with_kind(SpanKind::Client)
                .start_with_context(tracer, &cx);
            child.add_event("exception", vec![KeyValue::new("exception.type", "E")]);
            child.end();
        });
        let names: Vec<(&str, &Value)> = items
            .iter()
            .map(|i| (i["name"].as_str().unwrap(), &i["tags"]["ai.operation.name"]))
            .collect();
        assert_eq!(
            names,
            [
                (
                    "Microsoft.ApplicationInsights.RemoteDependency",
                    &json!("GET /orders/{id}")
                ),
                (
                    "Microsoft.ApplicationInsights.Exception",
                    &json!("GET /orders/{id}")
                ),
            ]
        );
        assert!(items[0]["data"]["baseData"].get("properties").is_none());
    }

    #[test]
    fn a_grpc_request_reports_its_status_and_fails_on_a_server_error() {
        let items = map(|tracer| {
            for (status, error) in [("OK", false), ("NOT_FOUND", false), ("INTERNAL", true)] {
                let mut span = tracer
                    .span_builder("demo.Greeter/SayHello")
                    .with_kind(SpanKind::Server)
                    .with_attributes([
                        KeyValue::new("rpc.system.name", "grpc"),
                        KeyValue::new("rpc.method", "demo.Greeter/SayHello"),
                        KeyValue::new("rpc.response.status_code", status),
                    ])
                    .start(tracer);
                if error {
                    span.set_status(Status::error(""));
                }
                span.end();
            }
        });
        let codes: Vec<(&Value, &Value)> = items
            .iter()
            .map(|i| {
                (
                    &i["data"]["baseData"]["responseCode"],
                    &i["data"]["baseData"]["success"],
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                (&json!("OK"), &json!(true)),
                (&json!("NOT_FOUND"), &json!(true)),
                (&json!("INTERNAL"), &json!(false)),
            ]
        );
        assert_eq!(
            items[0]["data"]["baseData"]["name"],
            "demo.Greeter/SayHello"
        );
    }

    #[test]
    fn request_success_follows_microsoft_and_can_be_overridden() {
        let record = |tracer: &opentelemetry_sdk::trace::SdkTracer| {
            for (code, error) in [(200, false), (404, false), (503, true)] {
                let mut span = tracer
                    .span_builder(format!("GET /{code}"))
                    .with_kind(SpanKind::Server)
                    .with_attributes([
                        KeyValue::new("http.request.method", "GET"),
                        KeyValue::new("http.response.status_code", code),
                        KeyValue::new("client.address", "203.0.113.9"),
                        KeyValue::new("user_agent.original", "probe/1"),
                    ])
                    .start(tracer);
                if error {
                    span.set_status(Status::error(""));
                }
                span.end();
            }
        };
        let items = map(record);
        let success: Vec<&Value> = items
            .iter()
            .map(|i| &i["data"]["baseData"]["success"])
            .collect();
        assert_eq!(success, [&json!(true), &json!(false), &json!(false)]);
        assert_eq!(items[1]["data"]["baseData"]["responseCode"], "404");
        assert_eq!(items[1]["tags"]["ai.location.ip"], "203.0.113.9");
        assert_eq!(items[1]["tags"]["ai.user.userAgent"], "probe/1");
        assert!(items[1]["data"]["baseData"].get("properties").is_none());

        let memory = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(memory.clone())
            .build();
        record(&provider.tracer("test"));
        let lenient = Identity {
            request_success: RequestSuccess(Arc::new(|r: &RequestOutcome| {
                r.status_code() == Some(404) || r.default_success()
            })),
            ..identity()
        };
        let items = envelopes(&lenient, &memory.get_finished_spans().unwrap());
        let success: Vec<bool> = items
            .iter()
            .map(|e| match &e.data.base_data {
                BaseData::Request(r) => r.success,
                _ => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(success, [true, true, false]);
    }

    #[test]
    fn dependencies_match_microsofts_targets_result_codes_and_properties() {
        let items = map(|tracer| {
            tracer
                .span_builder("SELECT users")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("db.system.name", "sqlite"),
                    KeyValue::new("db.query.text", "SELECT * FROM users"),
                    KeyValue::new("db.operation.name", "SELECT"),
                    KeyValue::new("app.tenant", "t1"),
                ])
                .start(tracer)
                .end();
            let mut http = tracer
                .span_builder("GET")
                .with_kind(SpanKind::Client)
                .with_attributes([
                    KeyValue::new("http.request.method", "GET"),
                    KeyValue::new("url.full", "http://api.local:8080/items"),
                    KeyValue::new("http.response.status_code", 503),
                    KeyValue::new("error.type", "503"),
                    KeyValue::new("user_agent.original", "census/0.1"),
                ])
                .start(tracer);
            http.set_status(Status::error(""));
            http.end();
            tracer.span_builder("work").start(tracer).end();
        });
        let base = |i: usize| items[i]["data"]["baseData"].clone();
        assert_eq!(
            (
                base(0)["type"].clone(),
                base(0)["target"].clone(),
                base(0)["resultCode"].clone()
            ),
            (json!("SQL"), json!("sqlite"), json!("0"))
        );
        assert_eq!(base(0)["properties"], json!({"app.tenant": "t1"}));
        assert_eq!(
            (
                base(1)["name"].clone(),
                base(1)["target"].clone(),
                base(1)["resultCode"].clone()
            ),
            (json!("GET /items"), json!("api.local:8080"), json!("503"))
        );
        assert!(base(1).get("properties").is_none(), "{:?}", base(1));
        assert_eq!(items[1]["tags"]["ai.user.userAgent"], "census/0.1");
        assert_eq!(
            (base(2)["type"].clone(), base(2)["resultCode"].clone()),
            (json!("InProc"), json!("0"))
        );
        let version = items[0]["tags"]["ai.internal.sdkVersion"].as_str().unwrap();
        let expected = format!(
            "u{}m_rs{}:otel0.33.1:ext{}",
            if cfg!(target_os = "linux") {
                "l"
            } else if cfg!(windows) {
                "w"
            } else {
                "u"
            },
            env!("CENSUS_RUSTC_VERSION"),
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(version, expected);
    }

    #[test]
    fn measured_items_are_marked_once_the_standard_metrics_are_sent() {
        let memory = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(memory.clone())
            .build();
        let census = provider.tracer("census-postgres");
        let other = provider.tracer("opentelemetry-instrumentation-other");
        for (tracer, kind) in [
            (&census, SpanKind::Client),
            (&census, SpanKind::Server),
            (&census, SpanKind::Internal),
            (&other, SpanKind::Client),
        ] {
            tracer
                .span_builder("call")
                .with_kind(kind)
                .start(tracer)
                .end();
        }
        let spans = memory.get_finished_spans().unwrap();
        let marks = |standard_metrics| {
            let identity = Identity {
                standard_metrics,
                ..identity()
            };
            envelopes(&identity, &spans)
                .iter()
                .map(|e| {
                    let item = serde_json::to_value(e).unwrap();
                    item["data"]["baseData"]["properties"]["_MS.ProcessedByMetricExtractors"]
                        .clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            marks(true),
            [json!("True"), json!("True"), Value::Null, Value::Null],
            "census's client and server calls are measured; in-process work and other \
             instrumentations are not"
        );
        assert_eq!(
            marks(false),
            vec![Value::Null; 4],
            "no standard metrics, no marks"
        );
    }

    #[test]
    fn the_locale_is_read_as_python_reads_it() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            }
        };
        assert_eq!(
            locale(env(&[("LANG", "en_US.UTF-8")])).as_deref(),
            Some("en_US")
        );
        assert_eq!(
            locale(env(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "de_DE@euro")])).as_deref(),
            Some("de_DE"),
            "LC_ALL first"
        );
        assert_eq!(
            locale(env(&[("LANGUAGE", "fr_FR:en")])).as_deref(),
            Some("fr_FR")
        );
        assert_eq!(
            locale(env(&[("LANG", "C.UTF-8")])).as_deref(),
            Some("en_US")
        );
        assert_eq!(locale(env(&[("LANG", "C")])), None);
        assert_eq!(locale(env(&[("LANG", "POSIX")])), None);
        assert_eq!(locale(env(&[])), None);
    }
}
