//! `http.server.request.duration` and `http.server.active_requests` from
//! a real axum server on loopback: every request counted, sampled or not,
//! split by route and status; excluded requests not at all.

use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use census_core::http::{Exclusions, HttpHooks};
use census_pipeline::testing::{capture, metrics, unsampled_caller};
use census_tower::TraceLayer;
use opentelemetry::Value;

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

fn text(value: &str) -> Value {
    Value::from(value.to_owned())
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

    let capture = metrics();
    let point = |route: &str| {
        let points = capture.histogram_with(DURATION, &[("http.route", text(route))]);
        let [point] = points.as_slice() else {
            panic!("{route}: {points:#?}")
        };
        point.clone()
    };
    let items = point("/metered/{id}");
    assert_eq!(items.count, 6, "three sampled and three unsampled requests");
    assert_eq!(items.scope, "census-tower");
    assert_eq!(items.unit, "s");
    assert_eq!(
        items.attributes,
        [
            ("http.request.method", text("GET")),
            ("url.scheme", text("http")),
            ("http.route", text("/metered/{id}")),
            ("http.response.status_code", Value::I64(200)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    );
    let boom = point("/metered-boom");
    assert_eq!(boom.count, 1);
    assert_eq!(
        boom.attributes["http.response.status_code"],
        Value::I64(500)
    );
    assert_eq!(boom.attributes["error.type"], text("500"));
    let missing = point("/metered-missing");
    assert_eq!(
        missing.attributes["http.response.status_code"],
        Value::I64(404)
    );
    assert!(
        !missing.attributes.contains_key("error.type"),
        "a 404 is the client's"
    );
    assert!(
        capture
            .histogram_with(DURATION, &[("http.route", text("/health"))])
            .is_empty(),
        "an excluded request is not measured"
    );
    // Every request has ended: none is active any more.
    let active = capture.sum("http.server.active_requests");
    let get = active
        .iter()
        .find(|p| p.attributes.get("http.request.method") == Some(&text("GET")))
        .expect("requests were counted");
    assert_eq!(get.value, 0);
    assert_eq!(get.attributes.len(), 2, "{get:?}");
}
