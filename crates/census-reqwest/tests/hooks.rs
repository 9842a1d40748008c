//! Excluded hosts, filter, span names, callbacks and the per-request
//! opt-outs, against a real axum server on loopback.

use std::net::SocketAddr;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use census_core::http::{Exclusions, HttpHooks, Unpropagated, Untraced};
use census_pipeline::testing::{SpanCapture, SpanData, attributes, capture};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census_reqwest::INTEGRATION])
}

async fn serve() -> SocketAddr {
    let app = Router::new().fallback(get(|headers: HeaderMap| async move {
        format!("traceparent={}", headers.contains_key("traceparent"))
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn client(excluded: SocketAddr) -> reqwest_middleware::ClientWithMiddleware {
    let hooks = HttpHooks::new()
        .exclusions(Exclusions::new().host(excluded.to_string()))
        .filter(|request| request.path() != "/filtered")
        .span_name(|request, default| format!("{default} {}", request.path()))
        .on_request(|request, span| {
            let host = request.host_name().unwrap_or("-").to_owned();
            span.set_attribute(KeyValue::new("app.host", host));
        })
        .on_response(|status, span| {
            span.set_attribute(KeyValue::new("app.status_class", i64::from(status / 100)));
        });
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(census_reqwest::TracingMiddleware::new().hooks(hooks))
        .build()
}

/// Calls `url` under a test root, with `extension`; returns what the
/// server saw and the client spans recorded.
async fn call<X: Clone + Send + Sync + 'static>(
    client: &reqwest_middleware::ClientWithMiddleware,
    url: &str,
    extension: Option<X>,
) -> (String, Vec<SpanData>) {
    let (cx, trace_id) = spans().root("caller");
    let mut request = client.get(url);
    if let Some(extension) = extension {
        request = request.with_extension(extension);
    }
    let seen = async { request.send().await.unwrap().text().await.unwrap() }
        .with_context(cx.clone())
        .await;
    cx.span().end();
    let mut spans = spans().wait_for(trace_id, 1);
    spans.retain(|s| s.name != "caller");
    (seen, spans)
}

#[tokio::test]
async fn excluded_hosts_filtered_and_untraced_requests_get_no_span_and_no_header() {
    let excluded = serve().await;
    let other = serve().await;
    let client = client(excluded);
    for (url, untraced) in [
        (format!("http://{excluded}/x"), false),
        (format!("http://{other}/filtered"), false),
        (format!("http://{other}/x"), true),
    ] {
        let (seen, spans) = call(&client, &url, untraced.then_some(Untraced)).await;
        assert_eq!(seen, "traceparent=false", "{url}");
        assert!(spans.is_empty(), "{url}: {spans:#?}");
    }
}

#[tokio::test]
async fn callbacks_add_attributes_names_can_change_and_propagation_can_be_withheld() {
    let excluded = serve().await;
    let addr = serve().await;
    let client = client(excluded);
    let url = format!("http://{addr}/items");
    let (seen, spans) = call::<Untraced>(&client, &url, None).await;
    assert_eq!(seen, "traceparent=true");
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(span.name, "GET /items");
    assert_eq!(attributes(span)["app.host"], Value::from("127.0.0.1"));
    assert_eq!(attributes(span)["app.status_class"], Value::I64(2));

    let (seen, spans) = call(&client, &url, Some(Unpropagated)).await;
    assert_eq!(seen, "traceparent=false");
    assert_eq!(spans.len(), 1, "the span is still recorded");
}
