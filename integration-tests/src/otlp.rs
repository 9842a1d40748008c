//! A local OTLP receiver: a real server on loopback that takes trace,
//! metric and log exports, decodes them with `opentelemetry-proto` into
//! [`ReceivedSpan`]s, [`ReceivedPoint`]s and [`ReceivedLog`]s, and answers with the export
//! response — or with a scripted failure status.
//!
//! Over HTTP ([`OtlpReceiver::start`]) it takes `POST`s of
//! `application/x-protobuf`, plain or gzip, on every path and records which
//! one was used, so tests can tell `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (`/v1/traces` appended) from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used
//! as it is); a path ending in `/v1/metrics` carries metrics, one ending
//! in `/v1/logs` log records, any other traces. Over gRPC
//! ([`OtlpReceiver::start_grpc`]) it serves the collector's
//! `TraceService`, `MetricsService` and `LogsService`.

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, metric::Data as MetricKind, number_data_point,
};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as ProtoStatusCode;
use prost::Message;

pub use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

const PROTOBUF: &str = "application/x-protobuf";
/// The path of a gRPC trace export call.
pub const GRPC_EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
/// The path of a gRPC metric export call.
pub const GRPC_METRICS_EXPORT_PATH: &str =
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
/// The path of a gRPC log export call.
pub const GRPC_LOGS_EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// One log record as the receiver decoded it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedLog {
    /// Hex trace id; empty outside any trace.
    pub trace_id: String,
    /// Hex span id; empty outside any span.
    pub span_id: String,
    /// The severity number (9 INFO, 13 WARN, 17 ERROR).
    pub severity_number: i32,
    /// The severity text.
    pub severity_text: String,
    /// The body, as text.
    pub body: String,
    /// Attributes, values as text.
    pub attributes: BTreeMap<String, String>,
    /// The instrumentation scope's name.
    pub scope: String,
    /// The resource's `service.name`.
    pub service_name: Option<String>,
}

/// One metric point as the receiver decoded it: a histogram's count and
/// sum, or a sum's or gauge's value (count 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedPoint {
    /// The instrument's name.
    pub metric: String,
    /// Its unit.
    pub unit: String,
    /// The instrumentation scope's name.
    pub scope: String,
    /// Attributes, each value as text.
    pub attributes: BTreeMap<String, String>,
    /// Measurements in the point (1 for a sum or gauge).
    pub count: u64,
    /// The histogram's sum, or the value.
    pub sum: f64,
    /// Whether the point covers the time since the last export only.
    pub delta: bool,
}

/// One span as the receiver decoded it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedSpan {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// 16 lowercase hex digits, `None` for a root span.
    pub parent_span_id: Option<String>,
    /// The span name.
    pub name: String,
    /// The span kind.
    pub kind: SpanKind,
    /// Attributes, each value as text (`true`, `42`, `1.5`, `[a, b]`).
    pub attributes: BTreeMap<String, String>,
    /// The status code: `unset`, `ok` or `error`.
    pub status: &'static str,
    /// The status message (empty unless the status is `error`).
    pub status_message: String,
    /// The `service.name` resource attribute.
    pub service_name: Option<String>,
    /// The instrumentation scope's name.
    pub scope: String,
}

impl ReceivedSpan {
    /// The attribute's value as text, if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// One request the receiver answered.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// When it arrived.
    pub at: Instant,
    /// Its path ([`GRPC_EXPORT_PATH`] over gRPC).
    pub path: String,
    /// Its headers (gRPC metadata over gRPC).
    pub headers: HeaderMap,
    /// Whether the body was gzip-compressed.
    pub gzip: bool,
    /// The spans it carried.
    pub spans: Vec<ReceivedSpan>,
    /// The metric points it carried.
    pub points: Vec<ReceivedPoint>,
    /// The log records it carried.
    pub logs: Vec<ReceivedLog>,
    /// The status it was answered with (over gRPC: 200 for OK, else the
    /// scripted HTTP status, answered as its gRPC equivalent).
    pub status: u16,
}

/// What one export carried.
#[derive(Debug, Default)]
struct Decoded {
    spans: Vec<ReceivedSpan>,
    points: Vec<ReceivedPoint>,
    logs: Vec<ReceivedLog>,
}

/// Whether the receiver speaks OTLP over HTTP or gRPC.
#[derive(Debug, Clone, Copy)]
enum Transport {
    Http,
    Grpc,
}

#[derive(Default)]
struct Shared {
    /// Statuses for the next requests; afterwards 200.
    script: VecDeque<u16>,
    requests: Vec<ExportRequest>,
    /// What a real collector would refuse: wrong method, content type,
    /// undecodable bodies.
    violations: Vec<String>,
}

/// The running receiver; stops when dropped.
pub struct OtlpReceiver {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for OtlpReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpReceiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl OtlpReceiver {
    /// Starts an OTLP/HTTP receiver on a free loopback port.
    pub fn start() -> Self {
        Self::start_as(Transport::Http)
    }

    /// Starts an OTLP/gRPC receiver on a free loopback port.
    pub fn start_grpc() -> Self {
        Self::start_as(Transport::Grpc)
    }

    fn start_as(transport: Transport) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("receiver runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind receiver");
                ready
                    .send(listener.local_addr().expect("bound address"))
                    .expect("report address");
                let stopped = async {
                    let _ = stopped.await;
                };
                match transport {
                    Transport::Http => {
                        let app = axum::Router::new().fallback(export).with_state(state);
                        let _ = axum::serve(listener, app)
                            .with_graceful_shutdown(stopped)
                            .await;
                    }
                    Transport::Grpc => {
                        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                        let _ = tonic::transport::Server::builder()
                            .add_service(TraceServiceServer::new(GrpcCollector(state.clone())))
                            .add_service(MetricsServiceServer::new(GrpcCollector(state.clone())))
                            .add_service(LogsServiceServer::new(GrpcCollector(state)))
                            .serve_with_incoming_shutdown(incoming, stopped)
                            .await;
                    }
                }
            });
        });
        let addr = bound.recv().expect("receiver started");
        Self {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, a value for `OTEL_EXPORTER_OTLP_ENDPOINT`
    /// (over gRPC too: the scheme says the connection is not TLS).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Answers the next requests with these statuses (no body decoded
    /// into the recorded spans for a failure); afterwards 200.
    pub fn script(&self, statuses: impl IntoIterator<Item = u16>) {
        self.lock().script.extend(statuses);
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<ExportRequest> {
        self.lock().requests.clone()
    }

    /// The spans of every request answered with 200, in arrival order.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.spans.clone())
            .collect()
    }

    /// The metric points of every request answered with 200, in arrival
    /// order.
    pub fn points(&self) -> Vec<ReceivedPoint> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.points.clone())
            .collect()
    }

    /// The log records of every request answered with 200, in arrival
    /// order.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.logs.clone())
            .collect()
    }

    /// Measurements of the histogram `metric` so far, per attribute set
    /// (`key=value` pairs joined by `,`, sorted): delta points added up,
    /// cumulative ones read from the latest.
    pub fn counts(&self, metric: &str) -> BTreeMap<String, u64> {
        let mut counts = BTreeMap::new();
        for point in self.points().into_iter().filter(|p| p.metric == metric) {
            let key = point
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let count = counts.entry(key).or_insert(0);
            *count = if point.delta {
                *count + point.count
            } else {
                point.count
            };
        }
        counts
    }

    /// What a real collector would have refused.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The accepted spans once there are at least `count`, waiting up to `limit`.
    pub fn wait_spans(&self, count: usize, limit: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if spans.len() >= count || Instant::now() > deadline {
                return spans;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn export(
    State(shared): State<Arc<Mutex<Shared>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let refuse = |status: StatusCode, message: String| {
        let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.violations.push(message.clone());
        (status, message).into_response()
    };
    if method != Method::POST {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} {}", uri.path()),
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != PROTOBUF {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?}, not {PROTOBUF}"),
        );
    }
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let decoded = if uri.path().ends_with("/v1/metrics") {
        decode::<ExportMetricsServiceRequest>(&body, gzip).map(|r| Decoded {
            points: points_of(r),
            ..Decoded::default()
        })
    } else if uri.path().ends_with("/v1/logs") {
        decode::<ExportLogsServiceRequest>(&body, gzip).map(|r| Decoded {
            logs: logs_of(r),
            ..Decoded::default()
        })
    } else {
        decode::<ExportTraceServiceRequest>(&body, gzip).map(|r| Decoded {
            spans: spans_of(r),
            ..Decoded::default()
        })
    };
    let decoded = match decoded {
        Ok(decoded) => decoded,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
    };
    let status = record(&shared, uri.path(), headers, gzip, decoded);
    if status != 200 {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "scripted failure").into_response();
    }
    // Both export responses are empty messages when all is accepted.
    let answer = ExportTraceServiceResponse {
        partial_success: None,
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, PROTOBUF)],
        answer.encode_to_vec(),
    )
        .into_response()
}

/// Records one export; returns the status to answer with.
fn record(
    shared: &Mutex<Shared>,
    path: &str,
    headers: HeaderMap,
    gzip: bool,
    decoded: Decoded,
) -> u16 {
    let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
    let status = shared.script.pop_front().unwrap_or(200);
    shared.requests.push(ExportRequest {
        at: Instant::now(),
        path: path.to_owned(),
        headers,
        gzip,
        spans: decoded.spans,
        points: decoded.points,
        logs: decoded.logs,
        status,
    });
    status
}

struct GrpcCollector(Arc<Mutex<Shared>>);

#[tonic::async_trait]
impl TraceService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let headers = request.metadata().clone().into_headers();
        let spans = spans_of(request.into_inner());
        let decoded = Decoded {
            spans,
            ..Decoded::default()
        };
        grpc_answer(record(&self.0, GRPC_EXPORT_PATH, headers, false, decoded)).map(|()| {
            tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            })
        })
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let headers = request.metadata().clone().into_headers();
        let points = points_of(request.into_inner());
        let path = GRPC_METRICS_EXPORT_PATH;
        let decoded = Decoded {
            points,
            ..Decoded::default()
        };
        grpc_answer(record(&self.0, path, headers, false, decoded)).map(|()| {
            tonic::Response::new(ExportMetricsServiceResponse {
                partial_success: None,
            })
        })
    }
}

#[tonic::async_trait]
impl LogsService for GrpcCollector {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let headers = request.metadata().clone().into_headers();
        let decoded = Decoded {
            logs: logs_of(request.into_inner()),
            ..Decoded::default()
        };
        let path = GRPC_LOGS_EXPORT_PATH;
        grpc_answer(record(&self.0, path, headers, false, decoded)).map(|()| {
            tonic::Response::new(ExportLogsServiceResponse {
                partial_success: None,
            })
        })
    }
}

/// The gRPC answer for a scripted HTTP status.
fn grpc_answer(status: u16) -> Result<(), tonic::Status> {
    match status {
        200 => Ok(()),
        // The mapping the OTLP specification gives for HTTP statuses.
        429 | 502..=504 => Err(tonic::Status::unavailable("scripted failure")),
        _ => Err(tonic::Status::internal("scripted failure")),
    }
}

fn decode<M: Message + Default>(body: &[u8], gzip: bool) -> Result<M, String> {
    let mut plain = Vec::new();
    let body = if gzip {
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut plain)
            .map_err(|e| format!("bad gzip: {e}"))?;
        &plain[..]
    } else {
        body
    };
    M::decode(body).map_err(|e| format!("bad protobuf: {e}"))
}

fn points_of(request: ExportMetricsServiceRequest) -> Vec<ReceivedPoint> {
    let mut points = Vec::new();
    for resource_metrics in request.resource_metrics {
        for scope_metrics in resource_metrics.scope_metrics {
            let scope = scope_metrics.scope.map(|s| s.name).unwrap_or_default();
            for metric in scope_metrics.metrics {
                let point = |attributes: &[KeyValue], count, sum, temporality| ReceivedPoint {
                    metric: metric.name.clone(),
                    unit: metric.unit.clone(),
                    scope: scope.clone(),
                    attributes: attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), value_of(kv)))
                        .collect(),
                    count,
                    sum,
                    delta: temporality == AggregationTemporality::Delta as i32,
                };
                let number = |value: Option<number_data_point::Value>| match value {
                    Some(number_data_point::Value::AsDouble(d)) => d,
                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                    None => 0.0,
                };
                match &metric.data {
                    Some(MetricKind::Histogram(h)) => {
                        points.extend(h.data_points.iter().map(|p| {
                            point(
                                &p.attributes,
                                p.count,
                                p.sum.unwrap_or(0.0),
                                h.aggregation_temporality,
                            )
                        }))
                    }
                    Some(MetricKind::Sum(sum)) => points.extend(sum.data_points.iter().map(|p| {
                        point(
                            &p.attributes,
                            1,
                            number(p.value),
                            sum.aggregation_temporality,
                        )
                    })),
                    Some(MetricKind::Gauge(gauge)) => points.extend(
                        gauge
                            .data_points
                            .iter()
                            .map(|p| point(&p.attributes, 1, number(p.value), 0)),
                    ),
                    _ => {}
                }
            }
        }
    }
    points
}

fn spans_of(request: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let service_name = resource_spans.resource.and_then(|r| {
            r.attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .map(value_of)
        });
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.map(|s| s.name).unwrap_or_default();
            for span in scope_spans.spans {
                let (status, status_message) = match span.status {
                    Some(status) => (
                        match ProtoStatusCode::try_from(status.code) {
                            Ok(ProtoStatusCode::Ok) => "ok",
                            Ok(ProtoStatusCode::Error) => "error",
                            _ => "unset",
                        },
                        status.message,
                    ),
                    None => ("unset", String::new()),
                };
                spans.push(ReceivedSpan {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: (!span.parent_span_id.is_empty())
                        .then(|| hex(&span.parent_span_id)),
                    name: span.name,
                    kind: SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified),
                    attributes: span
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), value_of(kv)))
                        .collect(),
                    status,
                    status_message,
                    service_name: service_name.clone(),
                    scope: scope.clone(),
                });
            }
        }
    }
    spans
}

fn logs_of(request: ExportLogsServiceRequest) -> Vec<ReceivedLog> {
    let mut logs = Vec::new();
    for resource_logs in request.resource_logs {
        let service_name = resource_logs.resource.and_then(|r| {
            r.attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .map(value_of)
        });
        for scope_logs in resource_logs.scope_logs {
            let scope = scope_logs.scope.map(|s| s.name).unwrap_or_default();
            for record in scope_logs.log_records {
                logs.push(ReceivedLog {
                    trace_id: hex(&record.trace_id),
                    span_id: hex(&record.span_id),
                    severity_number: record.severity_number,
                    severity_text: record.severity_text,
                    body: record.body.as_ref().map(text).unwrap_or_default(),
                    attributes: record
                        .attributes
                        .iter()
                        .map(|kv| (kv.key.clone(), value_of(kv)))
                        .collect(),
                    scope: scope.clone(),
                    service_name: service_name.clone(),
                });
            }
        }
    }
    logs
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn value_of(kv: &KeyValue) -> String {
    kv.value.as_ref().map(text).unwrap_or_default()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::ArrayValue(array)) => {
            let items: Vec<String> = array.values.iter().map(text).collect();
            format!("[{}]", items.join(", "))
        }
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
