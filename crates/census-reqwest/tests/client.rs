//! Client spans and propagation against a real axum server on loopback.

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanContext, SpanKind, Status, TraceContextExt, TraceState};
use opentelemetry::{Context, KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census_reqwest::INTEGRATION])
}

/// Echoes the propagation headers it received.
async fn echo(headers: HeaderMap) -> String {
    let get = |name| {
        headers
            .get(name)
            .map_or("-", |v| v.to_str().unwrap())
            .to_owned()
    };
    format!("{} {}", get("traceparent"), get("tracestate"))
}

async fn serve() -> SocketAddr {
    let app = Router::new()
        .route("/echo", get(echo))
        .route(
            "/unavailable",
            get(|| async { StatusCode::SERVICE_UNAVAILABLE }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
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
    span.clone()
}

#[tokio::test]
async fn request_span_has_redacted_url_and_propagates_context() {
    let addr = serve().await;
    let (cx, parent) = root();
    let url = format!("http://user:pw@{addr}/echo?sig=s3cr3t&page=2");
    let body = async {
        census_reqwest::client()
            .get(&url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
    .with_context(cx)
    .await;
    let span = client_span(&parent);
    assert_eq!(span.name, "GET");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(span.instrumentation_scope.name(), "census-reqwest");
    assert_eq!(
        attributes(&span),
        attribute_map([
            KeyValue::new("http.request.method", "GET"),
            // reqwest moves URL credentials into an Authorization header
            // before middleware runs; the header is never recorded.
            KeyValue::new(
                "url.full",
                format!("http://{addr}/echo?sig=REDACTED&page=2")
            ),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(addr.port())),
            KeyValue::new("http.response.status_code", 200),
        ])
    );
    // The server saw this span as its parent, with the caller's trace state.
    assert_eq!(
        body,
        format!(
            "00-{}-{}-01 vendor=v1",
            parent.trace_id(),
            span.span_context.span_id()
        )
    );
    let dump = format!("{span:?}");
    assert!(!dump.contains("s3cr3t") && !dump.contains(":pw@"), "{dump}");
}

#[tokio::test]
async fn error_statuses_fail_the_span() {
    let addr = serve().await;
    let (cx, parent) = root();
    let status = async {
        census_reqwest::client()
            .get(format!("http://{addr}/unavailable"))
            .send()
            .await
            .unwrap()
            .status()
    }
    .with_context(cx)
    .await;
    assert_eq!(status, 503);
    let span = client_span(&parent);
    assert_eq!(span.status, Status::error(""));
    assert_eq!(attributes(&span)["error.type"], Value::from("503"));
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(503)
    );
}

#[tokio::test]
async fn transport_failures_record_error_type_without_the_url() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (cx, parent) = root();
    let result = async {
        census_reqwest::client()
            .get(format!("http://{addr}/x?token=t0ken"))
            .send()
            .await
    }
    .with_context(cx)
    .await;
    assert!(result.is_err());
    let span = client_span(&parent);
    assert_eq!(attributes(&span)["error.type"], Value::from("connect"));
    assert!(!attributes(&span).contains_key("http.response.status_code"));
    let Status::Error { description } = &span.status else {
        panic!("{:?}", span.status)
    };
    assert!(description.starts_with("connect error: "), "{description}");
    let [event] = span.events.events.as_slice() else {
        panic!("{:?}", span.events)
    };
    assert_eq!(event.name, "exception");
    assert_eq!(
        event.attributes[0],
        KeyValue::new("exception.type", "connect")
    );
    assert!(!format!("{span:?}").contains("t0ken"));
}

#[tokio::test]
async fn a_request_that_times_out_is_a_timeout_failure() {
    let addr = serve().await;
    let (cx, parent) = root();
    let result = async {
        census_reqwest::client()
            .get(format!("http://{addr}/slow?token=t0ken"))
            .timeout(std::time::Duration::from_millis(100))
            .send()
            .await
    }
    .with_context(cx)
    .await;
    assert!(result.unwrap_err().is_timeout());
    let span = client_span(&parent);
    assert_eq!(attributes(&span)["error.type"], Value::from("timeout"));
    let Status::Error { description } = &span.status else {
        panic!("{:?}", span.status)
    };
    assert!(description.starts_with("timeout error"), "{description}");
    assert!(!format!("{span:?}").contains("t0ken"));
}

/// Every request is measured, sampled or not: `http.client.request.duration`
/// by target and status, with `error.type` for a 5xx and for a request
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
        ("/echo", sampled),
        ("/echo", unsampled.clone()),
        ("/unavailable", unsampled.clone()),
    ] {
        let url = format!("http://{addr}{path}");
        async {
            census_reqwest::client()
                .get(&url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
        }
        .with_context(cx)
        .await
        .unwrap();
    }
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = closed.local_addr().unwrap();
    drop(closed);
    let url = format!("http://{refused}/echo");
    async { census_reqwest::client().get(&url).send().await }
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
    let wanted = [(200, None, 2), (503, Some("503"), 1)]
        .into_iter()
        .map(|(status, error, count)| (request(status, error), count))
        .collect();
    assert_eq!(
        metrics.counts(
            "http.client.request.duration",
            &[port(addr)],
            "census-reqwest"
        ),
        census_pipeline::testing::sorted_counts(wanted)
    );
    // No response: no status code, and the failure's kind.
    let connect = KeyValue::new("error.type", "connect");
    assert_eq!(
        metrics.counts(
            "http.client.request.duration",
            &[port(refused)],
            "census-reqwest"
        ),
        [(
            attribute_map(target(refused).into_iter().chain([connect])),
            1
        )]
    );
}
