//! With the `actix` integration off: no span, same response. A separate
//! test binary: the registry is process-wide.

use actix_web::{App, HttpServer, web};
use census_pipeline::testing::capture;
use opentelemetry::trace::TraceId;

#[tokio::test]
async fn disabled_middleware_passes_requests_through_and_records_nothing() {
    let spans = capture(&[]);
    assert!(!census_actix::INTEGRATION.is_enabled());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = || {
                App::new()
                    .wrap(census_actix::Trace::new())
                    .route("/users/{id}", web::get().to(|| async { "hello" }))
                    .route(
                        "/panic",
                        web::get().to(|| async {
                            if true {
                                panic!("handler exploded");
                            }
                            "unreachable"
                        }),
                    )
            };
            HttpServer::new(app)
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
        })
    });
    let trace_id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/users/1"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello");
    // A panic is answered as when tracing is on: a 500, and the worker goes on.
    let panicked = reqwest::get(format!("http://{addr}/panic")).await.unwrap();
    assert_eq!(panicked.status(), 500);
    let after = reqwest::get(format!("http://{addr}/users/2"))
        .await
        .unwrap();
    assert_eq!(after.text().await.unwrap(), "hello");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(spans.spans(trace_id).is_empty());
}
