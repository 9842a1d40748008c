//! With the `reqwest` integration off: no span, no injected headers, same
//! response. A separate test binary: the registry is process-wide.

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use census_pipeline::testing::capture;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;

#[tokio::test]
async fn disabled_integration_passes_requests_through_untouched() {
    let spans = capture(&[]);
    assert!(!census_reqwest::INTEGRATION.is_enabled());
    let app = Router::new().route(
        "/",
        get(|headers: HeaderMap| async move {
            format!("traceparent={}", headers.contains_key("traceparent"))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (cx, trace_id) = spans.root("caller");
    let (traced, raw) = async {
        let url = format!("http://{addr}/");
        let traced = census_reqwest::client().get(&url).send().await.unwrap();
        let raw = reqwest::Client::new().get(&url).send().await.unwrap();
        (
            (traced.status(), traced.text().await.unwrap()),
            (raw.status(), raw.text().await.unwrap()),
        )
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    assert_eq!(traced, raw);
    assert_eq!(traced.1, "traceparent=false");
    let names: Vec<_> = spans.spans(trace_id).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["caller"]);
}
