//! `http.server.request.duration` and `http.server.active_requests` from
//! an actix-web server on loopback: every request counted, sampled or not,
//! split by route and status, with the failure behind a 5xx.

use std::net::SocketAddr;

use actix_web::error::{ErrorBadRequest, ErrorInternalServerError};
use actix_web::{App, HttpResponse, HttpServer, web};
use census_pipeline::testing::{
    capture, get_route_attributes, metrics, sorted_counts, unsampled_caller,
};

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

    let request = get_route_attributes;
    // Everything this process measured; a 400 is the client's error.
    let capture = metrics();
    assert_eq!(
        capture.counts(DURATION, &[], "census-actix"),
        sorted_counts(vec![
            (request("/metered/{id}", 200, None), 4),
            (request("/metered-unavailable", 503, Some("503")), 1),
            (request("/metered-error", 500, Some("500")), 1),
            (request("/metered-bad", 400, None), 1),
        ])
    );
    // Every request has ended: none is active any more.
    capture.assert_no_active_get_requests();
}
