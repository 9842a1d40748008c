//! `http.server.request.duration` and `http.server.active_requests` from
//! a real axum server on loopback: every request counted, sampled or not,
//! split by route and status; excluded requests not at all.

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use census_core::http::{Exclusions, HttpHooks};
use census_pipeline::testing::{
    capture, get_route_attributes, metrics, sorted_counts, unsampled_caller,
};
use census_tower::TraceLayer;

const DURATION: &str = "http.server.request.duration";

async fn serve() -> SocketAddr {
    capture(&[&census_tower::INTEGRATION]);
    metrics();
    let app = Router::new()
        .route("/metered/{id}", get(|| async { "ok" }))
        .route(
            "/metered-boom",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/metered-missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/health", get(|| async { "up" }))
        .layer(
            TraceLayer::new().hooks(HttpHooks::new().exclusions(Exclusions::new().path("/health"))),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn get_status(addr: SocketAddr, path: &str, traceparent: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new().get(format!("http://{addr}{path}"));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    // The whole body: the server's span (and measurement) ends with it.
    response.bytes().await.unwrap();
    status
}

#[tokio::test]
async fn every_request_is_measured_by_route_and_status_sampled_or_not() {
    let addr = serve().await;
    let (_, unsampled) = unsampled_caller();
    for id in 0..3 {
        assert_eq!(get_status(addr, &format!("/metered/{id}"), None).await, 200);
        assert_eq!(
            get_status(addr, &format!("/metered/{id}"), Some(&unsampled)).await,
            200
        );
    }
    assert_eq!(
        get_status(addr, "/metered-boom", Some(&unsampled)).await,
        500
    );
    assert_eq!(get_status(addr, "/metered-missing", None).await, 404);
    assert_eq!(get_status(addr, "/health", None).await, 200);

    let request = get_route_attributes;
    // Everything this process measured: `/health` is excluded, and a 404
    // is the client's error, not the server's.
    let capture = metrics();
    assert_eq!(
        capture.counts(DURATION, &[], "census-tower"),
        sorted_counts(vec![
            (request("/metered/{id}", 200, None), 6),
            (request("/metered-boom", 500, Some("500")), 1),
            (request("/metered-missing", 404, None), 1),
        ])
    );
    // Every request has ended: none is active any more.
    capture.assert_no_active_get_requests();
}
