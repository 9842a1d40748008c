//! A plain hyper server (no router to name routes) with census's layer:
//! the route comes from the `route` hook.

use std::convert::Infallible;

use census_core::http::HttpHooks;
use census_pipeline::testing::{attributes, capture};
use census_tower::TraceLayer;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use opentelemetry::Value;
use opentelemetry::trace::TraceId;
use tower_layer::Layer;

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

#[tokio::test]
async fn the_route_hook_names_requests_of_a_server_without_a_router() {
    let spans = capture(&[&census_tower::INTEGRATION]);
    let hooks = HttpHooks::new().route(|request| {
        let id = request.path().strip_prefix("/users/")?;
        (!id.is_empty() && !id.contains('/')).then(|| "/users/{id}".to_owned())
    });
    let service = TraceLayer::new()
        .hooks(hooks)
        .layer(tower::service_fn(hello));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    for (trace, path, name, route) in [
        (1u128, "/users/42", "GET /users/{id}", Some("/users/{id}")),
        (2, "/about", "GET", None),
    ] {
        let trace_id = TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_0000 + trace);
        reqwest::Client::new()
            .get(format!("http://{addr}{path}"))
            .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
            .send()
            .await
            .unwrap();
        let recorded = spans.wait_for(trace_id, 1);
        let [span] = recorded.as_slice() else {
            panic!("{recorded:#?}")
        };
        assert_eq!(span.name, name);
        assert_eq!(
            attributes(span).get("http.route"),
            route.map(Value::from).as_ref()
        );
    }
}
