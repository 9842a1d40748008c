//! With the `hyper` integration off: no span, no injected headers, same
//! response. A separate test binary: the registry is process-wide.

use std::convert::Infallible;

use census_pipeline::testing::capture;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;
use tower::{Layer, ServiceExt};

async fn saw_traceparent(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let seen = request.headers().contains_key("traceparent");
    Ok(Response::new(Full::new(Bytes::from(format!(
        "traceparent={seen}"
    )))))
}

#[tokio::test]
async fn disabled_integration_passes_requests_through_untouched() {
    let spans = capture(&[]);
    assert!(!census_hyper::INTEGRATION.is_enabled());
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
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let (cx, trace_id) = spans.root("caller");
    let request = Request::get(format!("http://{addr}/"))
        .body(Empty::new())
        .unwrap();
    let response = census_hyper::TraceClientLayer::new()
        .layer(client)
        .oneshot(request)
        .with_context(cx.clone())
        .await
        .unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    cx.span().end();
    assert_eq!(body, "traceparent=false");
    let names: Vec<_> = spans.spans(trace_id).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["caller"]);
}
