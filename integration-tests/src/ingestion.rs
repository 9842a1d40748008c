//! A local Application Insights ingestion endpoint: a real HTTP server on
//! loopback that implements `POST /v2.1/track` (gzip or plain JSON arrays,
//! or newline-delimited JSON) and answers as scripted — 200, 206 with
//! per-item errors, any status with or without `Retry-After`, 307
//! redirects, or a hang — recording what it accepted.

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::server::LocalServer;
use crate::track_schema::violations;

/// The instrumentation key the test server expects.
pub const KEY: &str = "0f6c9b11-3b55-4a5e-9f7b-2c1d4e5f6a7b";

/// How the server answers one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// 200: every item accepted.
    Accept,
    /// 200 after this long: a slow ingestion endpoint.
    Slow(Duration),
    /// 206: the listed `(index, status)` items fail, the others are accepted.
    Partial(Vec<(usize, u16)>),
    /// This status, nothing accepted; with `Retry-After` seconds if given.
    Status(u16, Option<u64>),
    /// 307 to this path on the same server; nothing accepted.
    Redirect(&'static str),
    /// No answer for this long, then 500; nothing accepted.
    Hang(Duration),
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it arrived.
    pub at: Instant,
    /// Its path.
    pub path: String,
    /// Whether the body was gzip-compressed.
    pub gzip: bool,
    /// The items it carried.
    pub items: Vec<Value>,
    /// Its `Authorization` header, if any.
    pub authorization: Option<String>,
    /// How it was answered.
    pub reply: Reply,
}

#[derive(Default)]
struct Shared {
    /// Whether to record and check what arrives (off for benchmarks).
    discard: bool,
    script: VecDeque<Reply>,
    otherwise: Option<Reply>,
    /// The bearer tokens accepted, when the resource requires Microsoft
    /// Entra ID authentication (local authentication disabled).
    tokens: Option<Vec<String>>,
    received: Vec<Received>,
    accepted: Vec<Value>,
    violations: Vec<String>,
}

/// The running server; stops when dropped.
pub struct Ingestion {
    server: LocalServer,
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for Ingestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingestion")
            .field("addr", &self.server.addr())
            .finish_non_exhaustive()
    }
}

impl Ingestion {
    /// Starts a server on a free loopback port.
    pub fn start() -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("loopback address"))
    }

    /// Starts a server on `addr` (e.g. a port an exporter already targets).
    pub fn start_on(addr: SocketAddr) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = axum::Router::new()
            .fallback(track)
            .with_state(shared.clone());
        Self {
            server: LocalServer::start(addr, 2, app),
            shared,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// A connection string pointing at this server.
    pub fn connection_string(&self) -> String {
        connection_string_for(self.server.addr())
    }

    /// Queues replies for the next requests; afterwards the server accepts
    /// (or gives the reply of [`reply_otherwise`](Self::reply_otherwise)).
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.lock().script.extend(replies);
    }

    /// Requires Microsoft Entra ID authentication, as a resource with
    /// local authentication disabled does: a request without
    /// `Authorization: Bearer T` for one of `tokens` is answered 401
    /// (nothing accepted), before any script.
    pub fn require_tokens(&self, tokens: &[&str]) {
        self.lock().tokens = Some(tokens.iter().map(|t| (*t).to_owned()).collect());
    }

    /// The reply once the script is used up, instead of accepting.
    pub fn reply_otherwise(&self, reply: Reply) {
        self.lock().otherwise = Some(reply);
    }

    /// Stops recording and checking items: answers stay as scripted, memory
    /// stays flat (for benchmarks).
    pub fn discard_items(&self) {
        self.lock().discard = true;
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// Every item accepted so far.
    pub fn accepted(&self) -> Vec<Value> {
        self.lock().accepted.clone()
    }

    /// Track API violations found in the items received.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The accepted items once there are at least `count`, waiting up to `limit`.
    pub fn wait_accepted(&self, count: usize, limit: Duration) -> Vec<Value> {
        let deadline = Instant::now() + limit;
        loop {
            let accepted = self.accepted();
            if accepted.len() >= count || Instant::now() > deadline {
                return accepted;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connection string for an ingestion endpoint at `addr`.
pub fn connection_string_for(addr: SocketAddr) -> String {
    format!("InstrumentationKey={KEY};IngestionEndpoint=http://{addr}/")
}

async fn track(
    State(shared): State<Arc<Mutex<Shared>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // `/v2/track` is the older path of the same protocol, still served.
    if !(uri.path().ends_with("/v2.1/track") || uri.path().ends_with("/v2/track")) {
        return (StatusCode::NOT_FOUND, "not a track endpoint").into_response();
    }
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let items = match decode(&body, gzip) {
        Ok(items) => items,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let reply = {
        let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
        let authorized = shared.tokens.as_ref().is_none_or(|tokens| {
            authorization
                .as_deref()
                .and_then(|a| a.strip_prefix("Bearer "))
                .is_some_and(|token| tokens.iter().any(|t| t == token))
        });
        let reply = if authorized {
            shared
                .script
                .pop_front()
                .or_else(|| shared.otherwise.clone())
                .unwrap_or(Reply::Accept)
        } else {
            Reply::Status(401, None)
        };
        if !shared.discard {
            record(&mut shared, &reply, uri.path(), gzip, &items, authorization);
        }
        reply
    };
    reply_to(reply, items.len()).await
}

fn record(
    shared: &mut Shared,
    reply: &Reply,
    path: &str,
    gzip: bool,
    items: &[Value],
    authorization: Option<String>,
) {
    for item in items {
        let found = violations(item);
        shared.violations.extend(found);
    }
    let failed: Vec<usize> = match reply {
        Reply::Accept | Reply::Slow(_) => Vec::new(),
        Reply::Partial(errors) => errors.iter().map(|(i, _)| *i).collect(),
        _ => (0..items.len()).collect(),
    };
    let accepted = items
        .iter()
        .enumerate()
        .filter(|(i, _)| !failed.contains(i))
        .map(|(_, item)| item.clone());
    shared.accepted.extend(accepted);
    shared.received.push(Received {
        at: Instant::now(),
        path: path.to_owned(),
        gzip,
        items: items.to_vec(),
        authorization,
        reply: reply.clone(),
    });
}

async fn reply_to(reply: Reply, count: usize) -> Response {
    match reply {
        Reply::Accept => track_response(StatusCode::OK, count, &[]),
        Reply::Slow(time) => {
            tokio::time::sleep(time).await;
            track_response(StatusCode::OK, count, &[])
        }
        Reply::Partial(errors) => track_response(StatusCode::PARTIAL_CONTENT, count, &errors),
        Reply::Status(status, retry_after) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, "scripted failure").into_response();
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    seconds.to_string().parse().expect("header value"),
                );
            }
            response
        }
        Reply::Redirect(path) => (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, path)],
            "moved",
        )
            .into_response(),
        Reply::Hang(time) => {
            tokio::time::sleep(time).await;
            (StatusCode::INTERNAL_SERVER_ERROR, "hung").into_response()
        }
    }
}

fn track_response(status: StatusCode, received: usize, errors: &[(usize, u16)]) -> Response {
    let body = json!({
        "itemsReceived": received,
        "itemsAccepted": received.saturating_sub(errors.len()),
        "errors": errors.iter().map(|(index, code)| json!({
            "index": index, "statusCode": code, "message": "scripted item failure"
        })).collect::<Vec<_>>(),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn decode(body: &[u8], gzip: bool) -> Result<Vec<Value>, String> {
    let mut text = String::new();
    if gzip {
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .map_err(|e| format!("bad gzip: {e}"))?;
    } else {
        text = String::from_utf8(body.to_vec()).map_err(|e| format!("not UTF-8: {e}"))?;
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(single @ Value::Object(_)) => Ok(vec![single]),
        // x-json-stream: one item per line.
        _ => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("bad JSON: {e}")))
            .collect(),
    }
}

/// `count` finished in-process spans named `{tag}-{i}`, for exporting to
/// the endpoint: each becomes one `InProc` dependency item.
pub fn internal_spans(tag: &str, count: usize) -> Vec<opentelemetry_sdk::trace::SpanData> {
    use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
    let memory = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("ingestion-tests");
    for i in 0..count {
        tracer
            .span_builder(format!("{tag}-{i}"))
            .with_kind(SpanKind::Internal)
            .start(&tracer)
            .end();
    }
    memory.get_finished_spans().expect("in-memory spans")
}

/// Per value of `dimension`, the calls the standard metric `id`
/// (`requests/duration`, `dependencies/duration`) counted in `items`.
pub fn standard_counts(
    items: &[Value],
    id: &str,
    dimension: &str,
) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for base in items
        .iter()
        .map(|i| &i["data"]["baseData"])
        .filter(|base| base["properties"]["_MS.MetricId"] == id)
    {
        let key = base["properties"][dimension]
            .as_str()
            .unwrap_or("missing")
            .to_owned();
        *counts.entry(key).or_insert(0) += base["metrics"][0]["count"]
            .as_u64()
            .expect("a metric point has a count");
    }
    counts
}

/// Exports `spans` through `exporter`, asserting that the export ran to
/// completion on the calling thread (an export waits for its send within
/// the exporter's export wait) and succeeded.
pub fn export_now(
    exporter: &impl opentelemetry_sdk::trace::SpanExporter,
    spans: Vec<opentelemetry_sdk::trace::SpanData>,
) {
    use futures_util::FutureExt as _;
    exporter
        .export(spans)
        .now_or_never()
        .expect("export runs to completion on the calling thread")
        .expect("export succeeds");
}
