//! Server spans from a real axum server on loopback, checked exactly.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use futures_util::StreamExt as _;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use census_pipeline::testing::{
    SpanCapture, SpanData, assert_unsampled_child, attribute_map, attributes, capture, current_ids,
    random_trace_id, unsampled_caller,
};
use census_tower::TraceLayer;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census_tower::INTEGRATION])
}

/// The span id current inside the handler, as the response body.
async fn current_span() -> String {
    Context::current()
        .span()
        .span_context()
        .span_id()
        .to_string()
}

async fn serve() -> SocketAddr {
    let app = Router::new()
        .route("/items/{id}", get(current_span))
        .route("/context", get(|| async { current_ids() }))
        .route(
            "/boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/stream",
            get(|| async { Body::from_stream(chunks(false)) }),
        )
        .route("/broken", get(|| async { Body::from_stream(chunks(true)) }))
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Three chunks 100 ms apart, the last one an error when `fail`.
fn chunks(fail: bool) -> impl futures_util::Stream<Item = Result<&'static str, std::io::Error>> {
    futures_util::stream::iter(0..3).then(move |i| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if fail && i == 2 {
            Err(std::io::Error::other("disk gone"))
        } else {
            Ok("chunk ")
        }
    })
}

/// Sends `path` as a call from a remote parent; returns parent, status, body.
async fn call(addr: SocketAddr, path: &str) -> (SpanContext, u16, String) {
    let trace_id = random_trace_id();
    let parent = SpanContext::new(
        trace_id,
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "v1")]).unwrap(),
    );
    let response = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("tracestate", "vendor=v1")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (parent, status, response.text().await.unwrap())
}

fn only_span(trace_id: TraceId) -> SpanData {
    let spans = spans().wait_for(trace_id, 1);
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    span.clone()
}

#[tokio::test]
async fn request_span_continues_the_caller_and_is_named_by_route_template() {
    spans();
    let addr = serve().await;
    let (parent, status, body) = call(addr, "/items/42").await;
    assert_eq!(status, 200);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /items/{id}");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.parent_span_id, parent.span_id());
    assert!(span.parent_span_is_remote);
    assert_eq!(span.span_context.trace_state().header(), "vendor=v1");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(span.instrumentation_scope.name(), "census-tower");
    assert_eq!(
        attributes(&span),
        attribute_map([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/items/42"),
            KeyValue::new("url.scheme", "http"),
            KeyValue::new("http.route", "/items/{id}"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(addr.port())),
            KeyValue::new("http.response.status_code", 200),
        ])
    );
    // The handler ran inside the request span's context.
    assert_eq!(body, span.span_context.span_id().to_string());
}

#[tokio::test]
async fn an_unsampled_caller_gets_no_span_and_its_trace_goes_on() {
    spans();
    let addr = serve().await;
    let (parent, traceparent) = unsampled_caller();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/context"))
        .header("traceparent", traceparent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_unsampled_child(spans(), &parent, &response.text().await.unwrap());

    let (parent, status, _) = call(addr, "/context").await;
    assert_eq!(status, 200);
    assert_eq!(only_span(parent.trace_id()).name, "GET /context");
}

#[tokio::test]
async fn server_errors_fail_the_span_and_client_errors_do_not() {
    spans();
    let addr = serve().await;
    let (parent, status, _) = call(addr, "/boom").await;
    assert_eq!(status, 500);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /boom");
    assert_eq!(span.status, Status::error(""));
    assert_eq!(attributes(&span)["error.type"], Value::from("500"));
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(500)
    );

    let (parent, status, _) = call(addr, "/missing").await;
    assert_eq!(status, 404);
    let span = only_span(parent.trace_id());
    assert_eq!(span.status, Status::Unset);
    assert!(!attributes(&span).contains_key("error.type"));
}

#[tokio::test]
async fn unmatched_routes_are_named_by_method_only() {
    spans();
    let addr = serve().await;
    let (parent, status, _) = call(addr, "/no/such/path?token=abc").await;
    assert_eq!(status, 404);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET", "never the raw path");
    assert!(!attributes(&span).contains_key("http.route"));
    assert!(
        !format!("{span:?}").contains("token=abc"),
        "the query string is not recorded"
    );
}

#[tokio::test]
async fn a_streamed_response_ends_its_span_at_the_end_of_the_body() {
    spans();
    let addr = serve().await;
    let (parent, status, body) = call(addr, "/stream").await;
    assert_eq!((status, body.as_str()), (200, "chunk chunk chunk "));
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /stream");
    assert_eq!(span.status, Status::Unset);
    let lasted = span.end_time.duration_since(span.start_time).unwrap();
    assert!(
        lasted >= Duration::from_millis(300),
        "the span covers the whole body, not just its head: {lasted:?}"
    );
}

#[tokio::test]
async fn a_failing_body_fails_the_request_span() {
    spans();
    let addr = serve().await;
    let trace_id = random_trace_id();
    let sent = reqwest::Client::new()
        .get(format!("http://{addr}/broken"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sent.status(),
        200,
        "the head went out before the body broke"
    );
    assert!(sent.text().await.is_err(), "the client sees the cut body");
    let span = only_span(trace_id);
    assert_eq!(span.status, Status::error("the response body failed"));
    assert_eq!(
        attributes(&span)["error.type"],
        Value::from(std::any::type_name::<axum::Error>())
    );
}

#[tokio::test]
async fn the_peer_address_is_the_client_unless_a_proxy_named_one() {
    spans();
    let app = Router::new()
        .route("/items/{id}", get(current_span))
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await.unwrap() });

    let (parent, _, _) = call(addr, "/items/1").await;
    let span = only_span(parent.trace_id());
    assert_eq!(
        attributes(&span)["client.address"],
        Value::from("127.0.0.1")
    );

    let trace_id = random_trace_id();
    reqwest::Client::new()
        .get(format!("http://{addr}/items/2"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    let span = only_span(trace_id);
    assert_eq!(
        attributes(&span)["client.address"],
        Value::from("203.0.113.9")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicking_handler_fails_its_span_and_the_server_goes_on() {
    spans();
    let app = Router::new()
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler exploded");
                }
                "unreachable"
            }),
        )
        .route("/items/{id}", get(current_span))
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let trace_id = random_trace_id();
    // The panic goes on as without census: hyper drops the connection.
    let answer = reqwest::Client::new()
        .get(format!("http://{addr}/panic"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await;
    assert!(answer.is_err(), "{answer:?}");
    let span = only_span(trace_id);
    assert_eq!(span.name, "GET /panic");
    assert_eq!(span.status, Status::error("handler exploded"));
    assert_eq!(attributes(&span)["error.type"], Value::from("panic"));
    // The server still answers.
    let (parent, status, body) = call(addr, "/items/5").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        only_span(parent.trace_id())
            .span_context
            .span_id()
            .to_string()
    );
}

// Multi-threaded: the client's connection task must run to close the
// socket while the test waits for the span.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_leaves_mid_response_still_ends_the_span() {
    spans();
    let endless = || {
        futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok::<_, std::io::Error>("chunk\n"), ()))
        })
    };
    let app = Router::new()
        .route(
            "/endless",
            get(move || async move { Body::from_stream(endless()) }),
        )
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let trace_id = random_trace_id();
    let mut response = reqwest::Client::new()
        .get(format!("http://{addr}/endless"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.chunk().await.unwrap().unwrap(), "chunk\n");
    drop(response);
    let span = only_span(trace_id);
    assert_eq!(span.name, "GET /endless");
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(200)
    );
}
