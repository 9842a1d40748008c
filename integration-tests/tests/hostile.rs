//! Hostile input: oversized and numerous headers, invalid UTF-8 in paths,
//! a 10 MB SQL statement, a deeply nested MongoDB command and thousands of
//! attributes on one span. Each request is answered, nothing panics, the
//! telemetry stays bounded, and the Application Insights envelopes keep
//! to the Track API's limits.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use census_core::http::HttpHooks;
use census_integration_tests::{secrets, services, track_schema};
use census_pipeline::testing::{SpanCapture, SpanData, attributes, capture, random_trace_id};
use mongodb::bson::{Bson, Document, doc};
use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry::{KeyValue, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn spans() -> &'static SpanCapture {
    capture(&[
        &census::tower::INTEGRATION,
        &census::sqlx::INTEGRATION,
        &census::mongodb::INTEGRATION,
    ])
}

/// The envelopes of `spans` that break the Track API's schema or limits.
fn envelope_violations(spans: &[SpanData]) -> Vec<String> {
    let texts = secrets::exported_texts(spans);
    let json = texts.last().expect("the envelopes come last");
    let items: Vec<serde_json::Value> = serde_json::from_str(json).expect("a JSON array");
    assert_eq!(items.len(), spans.len(), "one envelope per span");
    items.iter().flat_map(track_schema::violations).collect()
}

/// An axum app behind census's layer; a request carrying `x-many`
/// gets that many attributes from a request hook.
async fn serve() -> SocketAddr {
    spans();
    let hooks = HttpHooks::new().on_request(|request, span| {
        let many: usize = request
            .header("x-many")
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        for i in 0..many {
            span.set_attribute(KeyValue::new(format!("app.extra.{i}"), i as i64));
        }
    });
    let app = Router::new()
        .route("/users/{id}", axum::routing::get(|| async { "user" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .layer(census::tower::TraceLayer::new().hooks(hooks));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Sends `head` (request line and headers, without the blank line) as raw
/// bytes on a new connection; returns the response's status code.
async fn send(addr: SocketAddr, head: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = head.to_vec();
    request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    stream.write_all(&request).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .expect("the server answers")
        .unwrap();
    let status = response.get(9..12).expect("a status line");
    std::str::from_utf8(status).unwrap().parse().unwrap()
}

fn traceparent(trace: TraceId) -> String {
    format!("traceparent: 00-{trace}-00f067aa0ba902b7-01")
}

/// The one span of `trace`, once exported.
fn only_span(trace: TraceId) -> SpanData {
    let mut found = spans().wait_for(trace, 1);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.remove(0)
}

#[tokio::test]
async fn oversized_headers_are_answered_and_cut_to_the_track_limits() {
    let addr = serve().await;
    let trace = random_trace_id();
    let mut head = format!(
        "GET /users/{}?q={} HTTP/1.1\r\nhost: x\r\n{}\r\nuser-agent: {}\r\ntracestate: {}",
        "7".repeat(4000),
        "v".repeat(20_000),
        traceparent(trace),
        "agent/".repeat(10_000),
        (0..1000)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(","),
    );
    for i in 0..80 {
        head.push_str(&format!("\r\nx-filler-{i}: {}", "f".repeat(1024)));
    }
    assert_eq!(send(addr, head.as_bytes()).await, 200);

    let span = only_span(trace);
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(span.span_kind, SpanKind::Server);
    let a = attributes(&span);
    assert_eq!(
        a.get("url.path").map(|p| p.as_str().len()),
        Some("/users/".len() + 4000)
    );
    assert!(a.contains_key("user_agent.original"));
    assert_eq!(envelope_violations(&[span]), Vec::<String>::new());
}

#[tokio::test]
async fn too_many_headers_are_refused_before_the_app_and_the_server_stays_up() {
    let addr = serve().await;
    let trace = random_trace_id();
    let mut head = format!("GET /users/1 HTTP/1.1\r\nhost: x\r\n{}", traceparent(trace));
    for i in 0..500 {
        head.push_str(&format!("\r\nx-h{i}: {i}"));
    }
    assert_eq!(send(addr, head.as_bytes()).await, 431);

    let after = random_trace_id();
    let head = format!("GET /users/1 HTTP/1.1\r\nhost: x\r\n{}", traceparent(after));
    assert_eq!(send(addr, head.as_bytes()).await, 200);
    assert_eq!(only_span(after).name, "GET /users/{id}");
    assert_eq!(
        spans().spans(trace),
        [],
        "hyper refused it before census saw it"
    );
}

#[tokio::test]
async fn invalid_utf8_in_the_path_is_recorded_as_sent_or_refused() {
    let addr = serve().await;
    // Percent-encoded bytes that are not UTF-8 reach the app as written.
    let trace = random_trace_id();
    let head = format!(
        "GET /users/%FF%FE%C0?name=%C3%28 HTTP/1.1\r\nhost: x\r\n{}",
        traceparent(trace)
    );
    assert_eq!(send(addr, head.as_bytes()).await, 200);
    let span = only_span(trace);
    assert_eq!(span.name, "GET /users/{id}");
    let a = attributes(&span);
    assert_eq!(a.get("url.path"), Some(&Value::from("/users/%FF%FE%C0")));
    assert_eq!(a.get("url.query"), Some(&Value::from("name=%C3%28")));

    // Raw bytes that are not UTF-8 are refused by hyper, before census.
    let trace = random_trace_id();
    let mut head = b"GET /caf\xc3\x28/\xff\xfe HTTP/1.1\r\nhost: x\r\n".to_vec();
    head.extend_from_slice(traceparent(trace).as_bytes());
    assert_eq!(send(addr, &head).await, 400);
    assert_eq!(spans().spans(trace), []);
}

#[tokio::test]
async fn thousands_of_attributes_on_one_span_are_capped() {
    let addr = serve().await;
    let trace = random_trace_id();
    let head = format!(
        "GET /users/1 HTTP/1.1\r\nhost: x\r\nx-many: 5000\r\n{}",
        traceparent(trace)
    );
    assert_eq!(send(addr, head.as_bytes()).await, 200);
    let span = only_span(trace);
    // The SDK's default limit: 128 attributes, the rest counted as dropped.
    assert_eq!(span.attributes.len(), 128);
    assert!(span.dropped_attributes_count >= 5000 - 128);
    assert_eq!(envelope_violations(&[span]), Vec::<String>::new());
}

#[tokio::test]
async fn a_10_mb_statement_costs_a_bounded_text() {
    use sqlx::Connection as _;
    spans();
    let raw = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .unwrap();
    let options = "sqlite::memory:".parse().unwrap();
    let mut conn = census::sqlx::Traced::for_connection(raw, &options);
    let secret = "hunter2-".repeat(10 * 1024 * 1024 / 8);
    let sql = format!("SELECT length('{secret}') AS n, 424242421 AS m");
    let (_, children, row) = spans()
        .traced(async {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .fetch_one(&mut conn)
                .await
        })
        .await;
    use sqlx::Row as _;
    assert_eq!(row.unwrap().get::<i64, _>("n"), secret.len() as i64);
    let [span] = children.as_slice() else {
        panic!("{children:#?}")
    };
    assert_eq!(span.name, "SELECT");
    let text = attributes(span)["db.query.text"].as_str().into_owned();
    assert!(text.len() <= 32 * 1024 + 4, "{} bytes", text.len());
    assert_eq!(text, "SELECT length(? …");
    secrets::assert_none_of(&["hunter2", "424242421"], &children);
    assert_eq!(envelope_violations(&children), Vec::<String>::new());
}

#[tokio::test]
async fn a_deeply_nested_mongo_command_is_masked_to_a_bounded_text() {
    spans();
    let url = services::mongodb_url();
    let mut options = mongodb::options::ClientOptions::parse(&url)
        .await
        .unwrap_or_else(|e| services::unreachable("mongodb", &url, &e));
    census::mongodb::Commands::new()
        .capture_text(true)
        .install(&mut options);
    let client = mongodb::Client::with_options(options).unwrap();
    let db = client.database(&format!("census_hostile_{}", std::process::id()));
    let mut nested = doc! { "leaf": "s3cr3t-leaf" };
    for depth in 0..90 {
        nested = doc! { format!("level{depth}"): nested, "n": 987_654 };
    }
    let wide: Document = (0..5000)
        .map(|i| (format!("field{i}"), Bson::String(format!("s3cr3t-{i}"))))
        .collect();
    let items = db.collection::<Document>("items");
    let (_, children, inserted) = spans()
        .traced(async { items.insert_many([nested, wide]).await })
        .await;
    inserted.expect("the server takes both documents");
    let [span] = children.as_slice() else {
        panic!("{children:#?}")
    };
    assert_eq!(span.name, "insert items");
    let text = attributes(span)["db.query.text"].as_str().into_owned();
    assert!(
        text.chars().count() <= 2049,
        "{} characters",
        text.chars().count()
    );
    assert!(text.contains('…'), "{text}");
    secrets::assert_none_of(&["s3cr3t", "987654"], &children);
    assert_eq!(envelope_violations(&children), Vec::<String>::new());
    db.drop().await.unwrap();
}
