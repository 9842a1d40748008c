//! With the `tower` integration off, the layer passes requests through and
//! records nothing. A separate test binary: the registry is process-wide.

use axum::Router;
use axum::routing::get;
use census_pipeline::testing::capture;
use census_tower::TraceLayer;
use opentelemetry::Context;
use opentelemetry::trace::{TraceContextExt, TraceId};

#[tokio::test]
async fn disabled_layer_passes_requests_through_and_records_nothing() {
    let spans = capture(&[]);
    assert!(!census_tower::INTEGRATION.is_enabled());
    let app = Router::new()
        .route(
            "/items/{id}",
            get(|| async { format!("in span: {}", Context::current().has_active_span()) }),
        )
        .layer(TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let trace_id = "5b8aa5a2d2c872e8321cf37308d69df2";
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/items/1"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "in span: false");
    assert!(spans.spans(TraceId::from_hex(trace_id).unwrap()).is_empty());
}
