//! Client spans and propagation through hyper-util's client against a real
//! hyper server on loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use census_hyper::TraceClientLayer;
use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, TraceState};
use opentelemetry::{Context, KeyValue, Value};
use tower::{Layer, ServiceExt};

fn spans() -> &'static SpanCapture {
    capture(&[&census_hyper::INTEGRATION])
}

/// `/echo` answers with the propagation headers it received,
/// `/status/{code}` with that status, `/slow` after two seconds.
async fn handle(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let header = |name| {
        request
            .headers()
            .get(name)
            .map_or("-", |v| v.to_str().unwrap())
            .to_owned()
    };
    let (status, body) = if path == "/echo" {
        let propagated = format!("{} {}", header("traceparent"), header("tracestate"));
        (StatusCode::OK, propagated)
    } else if let Some(code) = path.strip_prefix("/status/") {
        (
            StatusCode::from_u16(code.parse().unwrap()).unwrap(),
            String::new(),
        )
    } else {
        tokio::time::sleep(Duration::from_secs(2)).await;
        (StatusCode::OK, String::new())
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    Ok(response)
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(handle)),
            );
        }
    });
    addr
}

fn client() -> Client<HttpConnector, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

fn get(url: &str) -> Request<Empty<Bytes>> {
    Request::get(url).body(Empty::new()).unwrap()
}

/// A caller's context with a trace state: the test root span's identity,
/// re-issued with `vendor=v1` (the root itself ends as `caller`).
fn root() -> (Context, SpanContext) {
    let (cx, _) = spans().root("caller");
    let sc = cx.span().span_context().clone();
    let state = TraceState::from_key_value([("vendor", "v1")]).unwrap();
    let with_state = SpanContext::new(sc.trace_id(), sc.span_id(), sc.trace_flags(), false, state);
    (cx.with_remote_span_context(with_state.clone()), with_state)
}

fn client_span(parent: &SpanContext) -> SpanData {
    let mut spans = spans().wait_for(parent.trace_id(), 2);
    spans.retain(|s| s.name != "caller");
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(span.parent_span_id, parent.span_id());
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.instrumentation_scope.name(), "census-hyper");
    span.clone()
}

#[tokio::test]
async fn the_server_receives_the_client_span_as_its_parent() {
    let addr = serve().await;
    let (cx, parent) = root();
    let traced = TraceClientLayer::new().layer(client());
    let url = format!("http://user:pw@{addr}/echo?sig=s3cr3t&code=0ne-time&page=2");
    let response = traced.oneshot(get(&url)).with_context(cx).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let span = client_span(&parent);
    assert_eq!(span.name, "GET");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attributes(&span),
        attribute_map([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new(
                "url.full",
                format!("http://REDACTED:REDACTED@{addr}/echo?sig=REDACTED&code=REDACTED&page=2")
            ),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(addr.port())),
            KeyValue::new("http.response.status_code", 200),
        ])
    );
    assert_eq!(
        String::from_utf8(body.to_vec()).unwrap(),
        format!(
            "00-{}-{}-01 vendor=v1",
            parent.trace_id(),
            span.span_context.span_id()
        )
    );
    let dump = format!("{span:?}");
    for secret in ["s3cr3t", "0ne-time", ":pw@", "user:"] {
        assert!(!dump.contains(secret), "{secret} in {dump}");
    }
}

#[tokio::test]
async fn client_and_server_error_statuses_fail_the_span() {
    let addr = serve().await;
    for (code, failed) in [(204, false), (404, true), (503, true)] {
        let (cx, parent) = root();
        let url = format!("http://{addr}/status/{code}");
        let response = TraceClientLayer::new()
            .layer(client())
            .oneshot(get(&url))
            .with_context(cx)
            .await
            .unwrap();
        assert_eq!(response.status(), code);
        let span = client_span(&parent);
        let attributes = attributes(&span);
        assert_eq!(
            attributes["http.response.status_code"],
            Value::I64(code.into())
        );
        if failed {
            assert_eq!(span.status, Status::error(""), "{code}");
            assert_eq!(attributes["error.type"], Value::from(code.to_string()));
        } else {
            assert_eq!(span.status, Status::Unset, "{code}");
            assert!(!attributes.contains_key("error.type"));
        }
    }
}

fn failure(span: &SpanData) -> (String, String) {
    let Status::Error { description } = &span.status else {
        panic!("{:?}", span.status)
    };
    let error_type = attributes(span)["error.type"].to_string();
    assert!(!attributes(span).contains_key("http.response.status_code"));
    (error_type, description.to_string())
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_failure() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (cx, parent) = root();
    let result = TraceClientLayer::new()
        .layer(client())
        .oneshot(get(&format!("http://{addr}/x?token=t0ken")))
        .with_context(cx)
        .await;
    assert!(result.unwrap_err().is_connect());
    let span = client_span(&parent);
    let (error_type, message) = failure(&span);
    assert_eq!(error_type, "connect");
    assert!(message.starts_with("connect error: "), "{message}");
    assert!(message.contains("refused"), "{message}");
    assert!(!format!("{span:?}").contains("t0ken"));
}

#[tokio::test]
async fn a_timeout_inside_the_layer_is_a_timeout_failure() {
    let addr = serve().await;
    let (cx, parent) = root();
    let timed = tower::timeout::TimeoutLayer::new(Duration::from_millis(100)).layer(client());
    let result = TraceClientLayer::new()
        .layer(timed)
        .oneshot(get(&format!("http://{addr}/slow")))
        .with_context(cx)
        .await;
    assert!(result.unwrap_err().is::<tower::timeout::error::Elapsed>());
    let span = client_span(&parent);
    assert_eq!(failure(&span), ("timeout".into(), "timeout error".into()));
}

#[tokio::test]
async fn a_call_abandoned_by_its_caller_still_ends_its_span() {
    let addr = serve().await;
    let (cx, parent) = root();
    let call = TraceClientLayer::new()
        .layer(client())
        .oneshot(get(&format!("http://{addr}/slow")))
        .with_context(cx);
    assert!(
        tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err()
    );
    let span = client_span(&parent);
    assert_eq!(span.name, "GET");
    assert!(!attributes(&span).contains_key("http.response.status_code"));
}

/// Every request is measured, sampled or not: `http.client.request.duration`
/// by target and status, with `error.type` for a 4xx/5xx and for a request
/// that got no response.
#[tokio::test]
async fn every_request_is_measured_by_target_and_status_sampled_or_not() {
    spans();
    let metrics = census_pipeline::testing::metrics();
    let addr = serve().await;
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    let unsampled = Context::new().with_remote_span_context(caller);
    let (sampled, _) = root();
    for (path, cx) in [
        ("/status/200", sampled.clone()),
        ("/status/200", unsampled.clone()),
        ("/status/503", unsampled.clone()),
        ("/status/404", sampled),
    ] {
        let traced = TraceClientLayer::new().layer(client());
        let url = format!("http://{addr}{path}");
        let response = traced.oneshot(get(&url)).with_context(cx).await.unwrap();
        response.into_body().collect().await.unwrap();
    }
    // Nothing listens there any more: no response at all.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = closed.local_addr().unwrap();
    drop(closed);
    let traced = TraceClientLayer::new().layer(client());
    let url = format!("http://{refused}/status/200");
    traced
        .oneshot(get(&url))
        .with_context(unsampled)
        .await
        .unwrap_err();

    let port = |addr: SocketAddr| ("server.port", Value::I64(i64::from(addr.port())));
    let target = |addr: SocketAddr| {
        [
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(addr.port())),
            KeyValue::new("url.scheme", "http"),
        ]
    };
    let request =
        |status, error| census_pipeline::testing::http_attributes(target(addr), status, error);
    let wanted = [(200, None, 2), (404, Some("404"), 1), (503, Some("503"), 1)]
        .into_iter()
        .map(|(status, error, count)| (request(status, error), count))
        .collect();
    assert_eq!(
        metrics.counts(
            "http.client.request.duration",
            &[port(addr)],
            "census-hyper"
        ),
        census_pipeline::testing::sorted_counts(wanted)
    );
    // No response: no status code, and the failure's kind.
    let connect = KeyValue::new("error.type", "connect");
    assert_eq!(
        metrics.counts(
            "http.client.request.duration",
            &[port(refused)],
            "census-hyper"
        ),
        [(
            attribute_map(target(refused).into_iter().chain([connect])),
            1
        )]
    );
}
