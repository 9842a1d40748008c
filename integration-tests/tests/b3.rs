//! With B3 chosen in the settings, a census client and a census server on
//! loopback speak B3 to each other: the server's span is the child of the
//! client's. Its own process: the global propagator is process-wide.

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use census::settings::Settings;
use census_pipeline::propagators::PropagatorName;
use census_pipeline::testing::capture;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, TraceContextExt};

#[tokio::test(flavor = "multi_thread")]
async fn client_and_server_speak_b3_when_the_settings_say_so() {
    let spans = capture(&[&census::tower::INTEGRATION, &census::reqwest::INTEGRATION]);
    let settings = Settings::from_toml("propagators = \"b3\"\nexporter = \"none\"").unwrap();
    // The capture's provider records; what a tracer built from these
    // settings installs as the global propagator is installed here.
    opentelemetry::global::set_text_map_propagator(PropagatorName::composite(
        settings.propagators.as_deref().unwrap(),
    ));

    let app = Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move {
                let names: Vec<_> = headers.keys().map(|k| k.as_str().to_owned()).collect();
                names.join(",")
            }),
        )
        .layer(census::tower::TraceLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (cx, trace_id) = spans.root("caller");
    let seen = async {
        census::reqwest::client()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
    .with_context(cx.clone())
    .await;
    cx.span().end();
    assert!(seen.split(',').any(|h| h == "b3"), "{seen}");
    assert!(!seen.contains("traceparent"), "{seen}");
    let recorded = spans.wait_for(trace_id, 3);
    let client = recorded
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .unwrap();
    let server = recorded
        .iter()
        .find(|s| s.span_kind == SpanKind::Server)
        .unwrap();
    assert_eq!(server.span_context.trace_id(), trace_id);
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);
}
