//! census propagates through OpenTelemetry's global propagator: baggage
//! crosses a census server and goes on through a census client, and
//! census and the SDK's own W3C propagator read each other's headers.
//! Over real sockets, with census's default propagators installed (as a
//! census tracer installs them).

use std::net::SocketAddr;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use census_pipeline::testing::capture;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceState,
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator as SdkTraceContext;

/// The headers a request carried, as `name: value` lines.
async fn echo(headers: HeaderMap) -> String {
    let mut lines: Vec<String> = headers
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "traceparent" | "tracestate" | "baggage"))
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// The body `url` answers to a GET through census's reqwest client.
async fn text_through_census(url: &str) -> String {
    let response = census::reqwest::client().get(url).send().await.unwrap();
    response.text().await.unwrap()
}

/// `/front` calls `/back` through census's reqwest client and answers what
/// `/back` received; `/back` answers its headers.
async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/front",
            get(move || async move { text_through_census(&format!("http://{addr}/back")).await }),
        )
        .route("/back", get(echo))
        .layer(census::tower::TraceLayer::new());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn spans() -> &'static census_pipeline::testing::SpanCapture {
    capture(&[&census::tower::INTEGRATION, &census::reqwest::INTEGRATION])
}

#[tokio::test(flavor = "multi_thread")]
async fn baggage_sent_to_a_census_server_reaches_the_next_service_through_the_census_client() {
    let spans = spans();
    let addr = serve().await;
    let trace_id = census_pipeline::testing::random_trace_id();
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let seen = reqwest::Client::new()
        .get(format!("http://{addr}/front"))
        .header("traceparent", &traceparent)
        .header("tracestate", "congo=t61rcWkgMzE")
        .header("baggage", "tenant=acme,request.origin=mobile%20app;ttl=30")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let seen: Vec<&str> = seen.lines().collect();
    // `/front`'s server span, its client span and `/back`'s server span.
    let recorded = spans.wait_for(trace_id, 3);
    let client = recorded
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .unwrap();
    let [baggage, traceparent, tracestate] = seen.as_slice() else {
        panic!("{seen:?}")
    };
    assert_eq!(
        *traceparent,
        format!(
            "traceparent: 00-{trace_id}-{}-01",
            client.span_context.span_id()
        )
    );
    assert_eq!(*tracestate, "tracestate: congo=t61rcWkgMzE");
    // Baggage members may be written in another order.
    let mut members: Vec<&str> = baggage
        .strip_prefix("baggage: ")
        .unwrap()
        .split(',')
        .collect();
    members.sort_unstable();
    assert_eq!(
        members,
        ["request.origin=mobile%20app;ttl=30", "tenant=acme"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_census_server_continues_what_the_sdk_propagator_injected() {
    let spans = spans();
    let addr = serve().await;
    let trace_id = census_pipeline::testing::random_trace_id();
    let caller = SpanContext::new(
        trace_id,
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("rojo", "00f067aa0ba902b7")]).unwrap(),
    );
    let cx = opentelemetry::Context::new().with_remote_span_context(caller.clone());
    let mut headers = HeaderMap::new();
    SdkTraceContext::new().inject_context(&cx, &mut HeaderInjector(&mut headers));
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/back"))
        .headers(headers)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let recorded = spans.wait_for(trace_id, 1);
    let [server] = recorded.as_slice() else {
        panic!("{recorded:?}")
    };
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.parent_span_id, caller.span_id());
    assert!(server.parent_span_is_remote);
    assert_eq!(
        server.span_context.trace_state().get("rojo"),
        Some("00f067aa0ba902b7")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_propagator_reads_what_a_census_client_sent() {
    let spans = spans();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // A server without census, reading the caller with the SDK's propagator.
    let app = Router::new().route(
        "/",
        get(|headers: HeaderMap| async move {
            let cx = SdkTraceContext::new().extract(&HeaderExtractor(&headers));
            let span = cx.span();
            let ids = span.span_context();
            format!("{} {} {}", ids.trace_id(), ids.span_id(), ids.is_sampled())
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (root, trace_id) = spans.root("caller");
    let answer = opentelemetry::context::FutureExt::with_context(
        text_through_census(&format!("http://{addr}/")),
        root.clone(),
    )
    .await;
    root.span().end();
    let recorded = spans.wait_for(trace_id, 2);
    let client = recorded
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .unwrap();
    assert_eq!(
        answer,
        format!("{trace_id} {} true", client.span_context.span_id())
    );
}
