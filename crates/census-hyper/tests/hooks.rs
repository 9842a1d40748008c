//! Excluded hosts, filter, span names, callbacks and the per-request
//! opt-outs, against a real hyper server on loopback.

use std::convert::Infallible;
use std::net::SocketAddr;

use census_core::http::{Exclusions, HttpHooks, Unpropagated, Untraced};
use census_hyper::TraceClientLayer;
use census_pipeline::testing::{SpanCapture, SpanData, attributes, capture};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{KeyValue, Value};
use tower::{Layer, ServiceExt};

fn spans() -> &'static SpanCapture {
    capture(&[&census_hyper::INTEGRATION])
}

async fn saw_traceparent(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let seen = request.headers().contains_key("traceparent");
    Ok(Response::new(Full::new(Bytes::from(format!(
        "traceparent={seen}"
    )))))
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(
                TokioIo::new(stream),
                hyper::service::service_fn(saw_traceparent),
            ));
        }
    });
    addr
}

fn hooks(excluded: SocketAddr) -> HttpHooks {
    HttpHooks::new()
        .exclusions(Exclusions::new().host(excluded.to_string()))
        .filter(|request| request.path() != "/filtered")
        .span_name(|request, default| format!("{default} {}", request.path()))
        .on_request(|request, span| {
            span.set_attribute(KeyValue::new(
                "app.host",
                request.host_name().unwrap_or("-").to_owned(),
            ));
        })
        .on_response(|status, span| {
            span.set_attribute(KeyValue::new("app.status_class", i64::from(status / 100)));
        })
}

/// Calls `url` under a test root, with `extension` in the request; returns
/// what the server saw and the client spans recorded.
async fn call<X: Clone + Send + Sync + 'static>(
    hooks: HttpHooks,
    url: &str,
    extension: Option<X>,
) -> (String, Vec<SpanData>) {
    let (cx, trace_id) = spans().root("caller");
    let mut request = Request::get(url).body(Empty::<Bytes>::new()).unwrap();
    if let Some(extension) = extension {
        request.extensions_mut().insert(extension);
    }
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = TraceClientLayer::new()
        .hooks(hooks)
        .layer(client)
        .oneshot(request)
        .with_context(cx.clone())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    cx.span().end();
    let mut spans = spans().wait_for(trace_id, 1);
    spans.retain(|s| s.name != "caller");
    (String::from_utf8(body.to_vec()).unwrap(), spans)
}

#[tokio::test]
async fn excluded_hosts_filtered_and_untraced_requests_get_no_span_and_no_header() {
    let excluded = serve().await;
    let other = serve().await;
    for (url, untraced) in [
        (format!("http://{excluded}/x"), false),
        // Credentials in the URL do not hide the host from the exclusion.
        (format!("http://user:pw@{excluded}/x"), false),
        (format!("http://{other}/filtered"), false),
        (format!("http://{other}/x"), true),
    ] {
        let (seen, spans) = call(hooks(excluded), &url, untraced.then_some(Untraced)).await;
        assert_eq!(seen, "traceparent=false", "{url}");
        assert!(spans.is_empty(), "{url}: {spans:#?}");
    }
}

#[tokio::test]
async fn callbacks_add_attributes_names_can_change_and_propagation_can_be_withheld() {
    let excluded = serve().await;
    let addr = serve().await;
    let url = format!("http://{addr}/items");
    let (seen, spans) = call::<Untraced>(hooks(excluded), &url, None).await;
    assert_eq!(seen, "traceparent=true");
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(span.name, "GET /items");
    assert_eq!(attributes(span)["app.host"], Value::from("127.0.0.1"));
    assert_eq!(attributes(span)["app.status_class"], Value::I64(2));

    let (seen, spans) = call(hooks(excluded), &url, Some(Unpropagated)).await;
    assert_eq!(seen, "traceparent=false");
    assert_eq!(spans.len(), 1, "the span is still recorded");
}
