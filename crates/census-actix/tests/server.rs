//! Server spans of an actix-web server on loopback, called by a real HTTP
//! client.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::error::{ErrorBadRequest, ErrorInternalServerError};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpResponse, HttpServer};
use census_pipeline::testing::{
    SpanCapture, SpanData, assert_unsampled_child, attribute_map, attributes, capture, current_ids,
    random_trace_id, unsampled_caller,
};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census_actix::INTEGRATION])
}

/// The id of the span current in the handler.
async fn current_span() -> String {
    Context::current()
        .span()
        .span_context()
        .span_id()
        .to_string()
}

/// `count` chunks, `pause` apart (forever with `None`).
fn chunks(
    count: Option<usize>,
    pause: Duration,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(0, move |sent| async move {
        if count.is_some_and(|count| sent == count) {
            return None;
        }
        tokio::time::sleep(pause).await;
        Some((Ok(Bytes::from_static(b"chunk\n")), sent + 1))
    })
}

fn app() -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(census_actix::Trace::new())
        .route("/users/{id}", web::get().to(current_span))
        .route("/context", web::get().to(|| async { current_ids() }))
        .route(
            "/unavailable",
            web::get().to(|| async { HttpResponse::ServiceUnavailable().finish() }),
        )
        .route(
            "/error",
            web::get()
                .to(|| async { Err::<String, _>(ErrorInternalServerError("the ledger is down")) }),
        )
        .route(
            "/bad",
            web::get().to(|| async { Err::<String, _>(ErrorBadRequest("no such user")) }),
        )
        .route(
            "/panic",
            web::get().to(|| async {
                if true {
                    panic!("handler exploded");
                }
                "unreachable"
            }),
        )
        .route(
            "/stream",
            web::get().to(|| async {
                HttpResponse::Ok().streaming(chunks(Some(3), Duration::from_millis(100)))
            }),
        )
        .route(
            "/endless",
            web::get().to(|| async {
                HttpResponse::Ok().streaming(chunks(None, Duration::from_millis(20)))
            }),
        )
}

/// Serves the apps `$factory` makes on loopback, one worker, on a thread
/// of its own; a macro because `HttpServer::new`'s bounds name the app's
/// whole type.
macro_rules! serve_apps {
    ($factory:expr) => {{
        spans();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                HttpServer::new($factory)
                    .workers(1)
                    .listen(listener)
                    .unwrap()
                    .run()
                    .await
                    .unwrap()
            })
        });
        addr
    }};
}

fn serve() -> SocketAddr {
    serve_apps!(app)
}

/// [`serve`], with a middleware outside census's that boxes every
/// response body, as `Compress` and `from_fn` middlewares do: a body whole
/// already then goes out without being polled.
fn serve_boxed() -> SocketAddr {
    serve_apps!(|| {
        app().wrap(actix_web::middleware::from_fn(
            |request, next: actix_web::middleware::Next<_>| async move {
                Ok::<_, actix_web::Error>(next.call(request).await?.map_into_boxed_body())
            },
        ))
    })
}

/// A remote caller's context, sampled, with a trace state.
fn caller() -> SpanContext {
    SpanContext::new(
        random_trace_id(),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "v1")]).unwrap(),
    )
}

fn request(addr: SocketAddr, path: &str, parent: &SpanContext) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .header(
            "traceparent",
            format!("00-{}-{}-01", parent.trace_id(), parent.span_id()),
        )
        .header("tracestate", "vendor=v1")
        .header("user-agent", "census-test/1")
}

/// Sends `path` as a call from a remote parent; returns parent, status, body.
async fn call(addr: SocketAddr, path: &str) -> (SpanContext, u16, String) {
    let parent = caller();
    let response = request(addr, path, &parent).send().await.unwrap();
    let status = response.status().as_u16();
    (parent, status, response.text().await.unwrap())
}

fn only_span(trace_id: TraceId) -> SpanData {
    let spans = spans().wait_for(trace_id, 1);
    let [span] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    span.clone()
}

#[tokio::test]
async fn the_request_span_continues_the_caller_and_is_named_by_route() {
    let addr = serve();
    let (parent, status, body) = call(addr, "/users/42?token=t0ken").await;
    assert_eq!(status, 200);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.parent_span_id, parent.span_id());
    assert!(span.parent_span_is_remote);
    assert_eq!(span.span_context.trace_state().header(), "vendor=v1");
    assert_eq!(span.status, Status::Unset);
    assert_eq!(span.instrumentation_scope.name(), "census-actix");
    assert_eq!(
        attributes(&span),
        attribute_map([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("url.path", "/users/42"),
            KeyValue::new("url.query", "token=REDACTED"),
            KeyValue::new("url.scheme", "http"),
            KeyValue::new("http.route", "/users/{id}"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", i64::from(addr.port())),
            KeyValue::new("client.address", "127.0.0.1"),
            KeyValue::new("user_agent.original", "census-test/1"),
            KeyValue::new("http.response.status_code", 200),
        ])
    );
    // The handler ran inside the request span's context.
    assert_eq!(body, span.span_context.span_id().to_string());
    assert!(!format!("{span:?}").contains("t0ken"));
}

#[tokio::test]
async fn an_unsampled_caller_gets_no_span_and_its_trace_goes_on() {
    let addr = serve();
    let (parent, traceparent) = unsampled_caller();
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/context"))
        .header("traceparent", traceparent)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The span ends before the response is written: none was recorded.
    assert_unsampled_child(spans(), &parent, &response.text().await.unwrap());

    // The next caller, sampled, gets its span.
    let (parent, status, _) = call(addr, "/context").await;
    assert_eq!(status, 200);
    assert_eq!(only_span(parent.trace_id()).name, "GET /context");
}

#[tokio::test]
async fn a_body_boxed_outside_the_middleware_still_ends_the_span() {
    let addr = serve_boxed();
    let (parent, status, body) = call(addr, "/users/42").await;
    assert_eq!(status, 200);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /users/{id}");
    assert_eq!(body, span.span_context.span_id().to_string());
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(200)
    );
    // Streamed bodies cannot be taken whole: they still end at their end.
    let (parent, status, body) = call(addr, "/stream").await;
    assert_eq!((status, body.as_str()), (200, "chunk\nchunk\nchunk\n"));
    let span = only_span(parent.trace_id());
    let took = span.end_time.duration_since(span.start_time).unwrap();
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

#[tokio::test]
async fn server_errors_fail_the_span_and_client_errors_do_not() {
    let addr = serve();
    let (parent, status, _) = call(addr, "/unavailable").await;
    assert_eq!(status, 503);
    let span = only_span(parent.trace_id());
    assert_eq!(span.status, Status::error(""));
    assert_eq!(attributes(&span)["error.type"], Value::from("503"));
    assert!(span.events.is_empty());

    // A handler's error: its message is the exception's.
    let (parent, status, _) = call(addr, "/error").await;
    assert_eq!(status, 500);
    let span = only_span(parent.trace_id());
    assert_eq!(span.status, Status::error("the ledger is down"));
    assert_eq!(attributes(&span)["error.type"], Value::from("500"));
    let [event] = span.events.events.as_slice() else {
        panic!("{:?}", span.events)
    };
    assert_eq!(event.name, "exception");
    assert!(
        event
            .attributes
            .contains(&KeyValue::new("exception.message", "the ledger is down"))
    );

    for (path, code) in [("/bad", 400), ("/no/such/route", 404)] {
        let (parent, status, _) = call(addr, path).await;
        assert_eq!(status, code);
        let span = only_span(parent.trace_id());
        assert_eq!(span.status, Status::Unset, "{path}");
        assert_eq!(
            attributes(&span)["http.response.status_code"],
            Value::I64(code.into())
        );
        assert!(!attributes(&span).contains_key("error.type"), "{path}");
    }
}

#[tokio::test]
async fn unmatched_routes_are_named_by_method_only() {
    let addr = serve();
    let (parent, _, _) = call(addr, "/no/such/route/123").await;
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET");
    assert!(!attributes(&span).contains_key("http.route"));
}

#[tokio::test]
async fn a_panicking_handler_fails_its_span_answers_500_and_the_server_goes_on() {
    let addr = serve();
    let (parent, status, _) = call(addr, "/panic").await;
    assert_eq!(status, 500);
    let span = only_span(parent.trace_id());
    assert_eq!(span.status, Status::error("handler exploded"));
    assert_eq!(attributes(&span)["error.type"], Value::from("panic"));
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(500)
    );
    // The one worker survived.
    let (parent, status, body) = call(addr, "/users/7").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        only_span(parent.trace_id())
            .span_context
            .span_id()
            .to_string()
    );
}

#[tokio::test]
async fn a_streamed_response_ends_its_span_at_the_end_of_the_body() {
    let addr = serve();
    let (parent, status, body) = call(addr, "/stream").await;
    assert_eq!((status, body.as_str()), (200, "chunk\nchunk\nchunk\n"));
    let span = only_span(parent.trace_id());
    let took = span.end_time.duration_since(span.start_time).unwrap();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert_eq!(span.status, Status::Unset);
}

// Multi-threaded: the client's connection task must run to close the
// socket while the test waits for the span.
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_leaves_mid_response_still_ends_the_span() {
    let addr = serve();
    let parent = caller();
    let mut response = request(addr, "/endless", &parent).send().await.unwrap();
    assert_eq!(response.chunk().await.unwrap().unwrap(), "chunk\n");
    drop(response);
    let span = only_span(parent.trace_id());
    assert_eq!(span.name, "GET /endless");
    assert_eq!(
        attributes(&span)["http.response.status_code"],
        Value::I64(200)
    );
}
