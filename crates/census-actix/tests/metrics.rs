//! `http.server.request.duration` and `http.server.active_requests` from
//! an actix-web server on loopback: every request counted, sampled or not,
//! split by route and status, with the failure behind a 5xx.

use std::net::SocketAddr;

use actix_web::error::{ErrorBadRequest, ErrorInternalServerError};
use actix_web::{App, HttpResponse, HttpServer, web};
use census_pipeline::testing::{capture, metrics, unsampled_caller};
use opentelemetry::Value;

const DURATION: &str = "http.server.request.duration";

fn serve() -> SocketAddr {
    capture(&[&census_actix::INTEGRATION]);
    metrics();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(|| {
                App::new()
                    .wrap(census_actix::Trace::new())
                    .route("/metered/{id}", web::get().to(|| async { "ok" }))
                    .route(
                        "/metered-unavailable",
                        web::get().to(|| async { HttpResponse::ServiceUnavailable().finish() }),
                    )
                    .route(
                        "/metered-error",
                        web::get().to(|| async {
                            Err::<String, _>(ErrorInternalServerError("the ledger is down"))
                        }),
                    )
                    .route(
                        "/metered-bad",
                        web::get()
                            .to(|| async { Err::<String, _>(ErrorBadRequest("no such user")) }),
                    )
            })
            .workers(1)
            .listen(listener)
            .unwrap()
            .run()
            .await
            .unwrap()
        })
    });
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
    let addr = serve();
    let (_, unsampled) = unsampled_caller();
    for id in 0..2 {
        let path = format!("/metered/{id}");
        assert_eq!(get_status(addr, &path, None).await, 200);
        assert_eq!(get_status(addr, &path, Some(&unsampled)).await, 200);
    }
    assert_eq!(get_status(addr, "/metered-unavailable", None).await, 503);
    assert_eq!(
        get_status(addr, "/metered-error", Some(&unsampled)).await,
        500
    );
    assert_eq!(get_status(addr, "/metered-bad", None).await, 400);

    let capture = metrics();
    let point = |route: &str| {
        let points = capture.histogram_with(DURATION, &[("http.route", text(route))]);
        let [point] = points.as_slice() else {
            panic!("{route}: {points:#?}")
        };
        point.clone()
    };
    let users = point("/metered/{id}");
    assert_eq!(users.count, 4, "two sampled and two unsampled requests");
    assert_eq!(users.scope, "census-actix");
    assert_eq!(
        users.attributes,
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
    let unavailable = point("/metered-unavailable");
    assert_eq!(
        unavailable.attributes["http.response.status_code"],
        Value::I64(503)
    );
    assert_eq!(unavailable.attributes["error.type"], text("503"));
    let error = point("/metered-error");
    assert_eq!(error.count, 1);
    assert_eq!(
        error.attributes["http.response.status_code"],
        Value::I64(500)
    );
    assert_eq!(error.attributes["error.type"], text("500"));
    let bad = point("/metered-bad");
    assert_eq!(bad.attributes["http.response.status_code"], Value::I64(400));
    assert!(
        !bad.attributes.contains_key("error.type"),
        "a 400 is the client's"
    );

    let active = capture.sum("http.server.active_requests");
    let get = active
        .iter()
        .find(|p| p.attributes.get("http.request.method") == Some(&text("GET")))
        .expect("requests were counted");
    assert_eq!(get.value, 0, "every request has ended");
}
