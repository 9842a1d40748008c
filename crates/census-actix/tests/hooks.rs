//! Exclusions, filter, span names, callbacks and the per-request opt-out,
//! on a real actix-web server on loopback.

use std::net::SocketAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use census_core::http::{Exclusions, HttpHooks, Untraced};
use census_pipeline::testing::{SpanCapture, SpanData, attributes, capture, random_trace_id};
use opentelemetry::{KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census_actix::INTEGRATION])
}

/// An earlier middleware that opts requests carrying `x-no-trace` out.
async fn opt_out(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if request.headers().contains_key("x-no-trace") {
        request.extensions_mut().insert(Untraced);
    }
    next.call(request).await
}

fn hooks() -> HttpHooks {
    HttpHooks::new()
        .exclusions(Exclusions::new().path("/health").path("/static/*"))
        .filter(|request| request.header("x-synthetic").is_none())
        .span_name(|request, default| match request.path() {
            "/legacy" => "legacy endpoint".to_owned(),
            _ => default.to_owned(),
        })
        .on_request(|request, span| {
            if let Some(user) = request.header("x-user-id") {
                span.set_attribute(KeyValue::new("enduser.id", user.to_owned()));
            }
        })
        .on_response(|status, span| {
            span.set_attribute(KeyValue::new("app.status_class", i64::from(status / 100)));
        })
        .trace_response(true)
}

fn serve() -> SocketAddr {
    spans();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = || {
                App::new()
                    .wrap(census_actix::Trace::new().hooks(hooks()))
                    .wrap(from_fn(opt_out))
                    .route("/users/{id}", web::get().to(|| async { "user" }))
                    .route("/health", web::get().to(|| async { "ok" }))
                    .route("/healthz", web::get().to(|| async { "ok" }))
                    .route("/static/{file:.*}", web::get().to(|| async { "file" }))
                    .route("/legacy", web::get().to(|| async { "old" }))
            };
            HttpServer::new(app)
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
                .await
        })
    });
    addr
}

/// Calls `path` with `headers` in a trace of its own, then a traced
/// marker request in the same trace; returns the spans of `path` (found
/// without waiting out a timeout when there are none).
async fn call(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Vec<SpanData> {
    let trace_id = random_trace_id();
    let get = |path: &str| {
        reqwest::Client::new()
            .get(format!("http://{addr}{path}"))
            .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
    };
    let mut request = get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    for request in [request, get("/users/marker")] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap();
    }
    let mut spans = spans().wait_for(trace_id, 1);
    let marker = spans
        .iter()
        .position(|s| attributes(s)["url.path"] == Value::from("/users/marker"))
        .expect("the marker request is traced");
    spans.remove(marker);
    spans
}

#[tokio::test]
async fn excluded_paths_and_filtered_requests_are_served_but_not_traced() {
    let addr = serve();
    for path in ["/health", "/static/app.js", "/static/css/site.css"] {
        assert!(call(addr, path, &[]).await.is_empty(), "{path}");
    }
    assert_eq!(call(addr, "/healthz", &[]).await.len(), 1);
    assert!(
        call(addr, "/users/1", &[("x-synthetic", "1")])
            .await
            .is_empty()
    );
    assert!(
        call(addr, "/users/1", &[("x-no-trace", "1")])
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn callbacks_add_attributes_and_the_name_can_be_overridden() {
    let addr = serve();
    let spans = call(addr, "/users/7", &[("x-user-id", "u-42")]).await;
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(span.name, "GET /users/{id}");
    let recorded = attributes(span);
    assert_eq!(recorded["enduser.id"], Value::from("u-42"));
    assert_eq!(recorded["app.status_class"], Value::I64(2));

    let spans = call(addr, "/legacy", &[]).await;
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(span.name, "legacy endpoint");
    assert!(!attributes(span).contains_key("enduser.id"));
}

#[tokio::test]
async fn traceresponse_names_the_server_span_when_asked_for() {
    let addr = serve();
    let trace_id = random_trace_id();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/users/3"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    let header = response.headers()["traceresponse"]
        .to_str()
        .unwrap()
        .to_owned();
    let spans = spans().wait_for(trace_id, 1);
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(
        header,
        format!("00-{trace_id}-{}-01", span.span_context.span_id())
    );
}
