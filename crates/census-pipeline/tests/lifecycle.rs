//! The span lifecycle of census-core, recorded through the pipeline's
//! test capture: what every integration's spans go through.

use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use futures_util::StreamExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use census_core::model::{DbSystem, Failure, Outcome, Target};
use census_core::registry::Integration;
use census_core::span::{ActiveSpan, InSpan, InSpanStream, SqlSpans};
use census_pipeline::operation::OPERATION_NAME_ATTRIBUTE;
use census_pipeline::testing::{attribute_map, attributes, capture};

static LIFE: Integration = Integration::new("life", "census-core", "0");
static SQL: Integration = Integration::new("sql", "census-core", "0");

fn start(name: &'static str, kind: SpanKind, parent: &Context) -> ActiveSpan {
    LIFE.start(kind, name, parent, || vec![KeyValue::new("k", "v")])
}

#[tokio::test]
async fn a_future_runs_in_its_span_which_ends_once_with_the_outcome() {
    let capture = capture(&[&LIFE]);
    let (root, trace) = capture.root("root");
    let span = start("call", SpanKind::Client, &root);
    let out = InSpan::new(
        async {
            // Work inside sees the span as its parent.
            drop(start("inner", SpanKind::Internal, &Context::current()));
            404
        },
        Some(span),
        |status: &u16| Outcome::HttpClient(*status),
    )
    .await;
    assert_eq!(out, 404);
    let spans = capture.spans(trace);
    let [call, inner] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(call.name, "call");
    assert_eq!(call.span_kind, SpanKind::Client);
    assert_eq!(call.parent_span_id, root.span().span_context().span_id());
    assert_eq!(inner.parent_span_id, call.span_context.span_id());
    assert_eq!(
        attributes(call),
        attribute_map([
            KeyValue::new("k", "v"),
            KeyValue::new("http.response.status_code", 404),
            KeyValue::new("error.type", "404"),
        ])
    );
    assert_eq!(call.status, Status::error(""));
}

#[test]
fn a_dropped_future_ends_its_span_without_an_outcome() {
    let capture = capture(&[&LIFE]);
    let (root, trace) = capture.root("root");
    let mut future = Box::pin(InSpan::new(
        std::future::pending::<()>(),
        Some(start("cancelled", SpanKind::Client, &root)),
        |_: &()| Outcome::Ok,
    ));
    let mut task = TaskContext::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut task).is_pending());
    assert!(capture.spans(trace).is_empty(), "still running");
    drop(future);
    let spans = capture.spans(trace);
    let [cancelled] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(cancelled.name, "cancelled");
    assert_eq!(cancelled.status, Status::Unset);
}

type Row = Result<u32, &'static str>;

fn classify(row: &Row) -> Option<Outcome> {
    row.as_ref()
        .err()
        .map(|e| Outcome::Failed(Failure::new("io", *e)))
}

#[tokio::test]
async fn a_stream_span_ends_at_the_end_at_the_first_error_or_when_dropped() {
    let capture = capture(&[&LIFE]);

    let (root, trace) = capture.root("root");
    let rows: Vec<Row> = vec![Ok(1), Ok(2)];
    let stream = InSpanStream::new(
        futures_util::stream::iter(rows),
        Some(start("all", SpanKind::Client, &root)),
        classify,
    );
    let mut stream = pin!(stream);
    assert_eq!(stream.next().await, Some(Ok(1)));
    assert_eq!(stream.next().await, Some(Ok(2)));
    assert!(capture.spans(trace).is_empty(), "not at the end yet");
    assert_eq!(stream.next().await, None);
    let spans = capture.spans(trace);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].status, Status::Unset);

    let (root, trace) = capture.root("root");
    let rows: Vec<Row> = vec![Ok(1), Err("broken pipe"), Ok(3)];
    let seen: Vec<Row> = InSpanStream::new(
        futures_util::stream::iter(rows),
        Some(start("failing", SpanKind::Client, &root)),
        classify,
    )
    .collect()
    .await;
    assert_eq!(seen.len(), 3);
    let spans = capture.spans(trace);
    let [failing] = spans.as_slice() else {
        panic!("{spans:#?}")
    };
    assert_eq!(failing.status, Status::error("broken pipe"));
    assert_eq!(failing.events.len(), 1);

    let (root, trace) = capture.root("root");
    let rows: Vec<Row> = vec![Ok(1), Ok(2)];
    let mut stream = Box::pin(InSpanStream::new(
        futures_util::stream::iter(rows),
        Some(start("abandoned", SpanKind::Client, &root)),
        classify,
    ));
    assert_eq!(stream.next().await, Some(Ok(1)));
    assert!(capture.spans(trace).is_empty());
    drop(stream);
    let spans = capture.spans(trace);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "abandoned");
}

#[test]
fn without_a_span_work_passes_through_untouched() {
    let mut future = pin!(InSpan::new(async { 7 }, None, |_: &i32| -> Outcome {
        unreachable!("nothing to classify without a span")
    }));
    let mut task = TaskContext::from_waker(Waker::noop());
    assert_eq!(future.as_mut().poll(&mut task), Poll::Ready(7));
}

#[test]
fn an_unsampled_span_builds_no_attributes() {
    let capture = capture(&[&LIFE]);
    let (_, trace) = capture.root("root");
    let unsampled =
        Context::new().with_remote_span_context(opentelemetry::trace::SpanContext::new(
            trace,
            opentelemetry::trace::SpanId::from_bytes([7; 8]),
            opentelemetry::trace::TraceFlags::default(),
            true,
            Default::default(),
        ));
    let span = LIFE.start(SpanKind::Client, "skipped", &unsampled, || {
        panic!("attributes built for a span that does not record")
    });
    assert!(!span.is_recording());
    // Its own ids still go downstream, unsampled, in the caller's trace.
    let own = span.context().span().span_context().clone();
    assert_eq!(own.trace_id(), trace);
    assert!(own.is_valid());
    assert!(!own.is_sampled());
    assert_ne!(
        own.span_id(),
        opentelemetry::trace::SpanId::from_bytes([7; 8])
    );
}

/// The operation name a span was given, if any.
fn operation_of(span: &opentelemetry_sdk::trace::SpanData) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == OPERATION_NAME_ATTRIBUTE)
        .map(|kv| kv.value.to_string())
}

#[test]
fn children_of_a_request_carry_its_operation_name_and_the_request_does_not() {
    let capture = capture(&[&LIFE]);
    let (root, trace) = capture.root("root");
    {
        let request = start("GET /orders/{id}", SpanKind::Server, &root);
        let entered = start("validate", SpanKind::Internal, request.context()).enter();
        drop(start(
            "SELECT orders",
            SpanKind::Client,
            &Context::current(),
        ));
        drop(entered);
    }
    let spans = capture.spans(trace);
    let names: Vec<(&str, Option<String>)> = spans
        .iter()
        .map(|s| (s.name.as_ref(), operation_of(s)))
        .collect();
    assert_eq!(
        names,
        vec![
            ("GET /orders/{id}", None),
            ("validate", Some("GET /orders/{id}".into())),
            ("SELECT orders", Some("GET /orders/{id}".into())),
        ]
    );
}

#[test]
fn requests_read_from_headers_keep_their_callers_and_operations_apart() {
    let capture = capture(&[&LIFE]);
    // The same route twice on one thread (its operation's context is
    // reused), then a name built for one request.
    let names = [
        "GET /orders/{id}".to_owned(),
        "GET /orders/{id}".to_owned(),
        format!("POST /orders/{}", "{id}"),
    ];
    for (i, name) in names.into_iter().enumerate() {
        let trace = census_pipeline::testing::random_trace_id();
        let caller = format!("{:016x}", 0xa0 + i);
        let headers = std::collections::HashMap::from([(
            "traceparent".to_owned(),
            format!("00-{trace}-{caller}-01"),
        )]);
        let kept = i < 2;
        let request = LIFE.start_server(
            &headers,
            || match kept {
                true => "GET /orders/{id}".into(),
                false => name.clone().into(),
            },
            || vec![KeyValue::new("k", "v")],
        );
        request.in_context(|| {
            drop(start(
                "SELECT orders",
                SpanKind::Client,
                &Context::current(),
            ))
        });
        drop(request);
        let spans = capture.spans(trace);
        let [server, child] = spans.as_slice() else {
            panic!("{spans:#?}")
        };
        assert_eq!(server.name, name);
        assert_eq!(server.span_kind, SpanKind::Server);
        assert_eq!(server.parent_span_id.to_string(), caller);
        assert!(server.parent_span_is_remote);
        assert_eq!(operation_of(server), None);
        assert_eq!(attributes(server), attribute_map([KeyValue::new("k", "v")]));
        assert_eq!(child.parent_span_id, server.span_context.span_id());
        assert_eq!(operation_of(child), Some(name), "request {i}");
    }
}

#[test]
fn a_lazy_statement_is_rendered_only_for_a_span_that_records() {
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceState};
    let capture = capture(&[&SQL]);
    let spans = SqlSpans::new(&SQL, DbSystem::Postgres, &Target::new());
    let (root, trace) = capture.root("root");
    let span = {
        let _in_root = root.clone().attach();
        spans.start_with(|| String::from("DELETE FROM t WHERE id = 7"))
    };
    drop(span.expect("on"));
    let recorded = capture.spans(trace);
    assert_eq!(recorded[0].name, "DELETE t");

    let unsampled = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
        trace,
        SpanId::from_bytes([7; 8]),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ));
    let _in_unsampled = unsampled.attach();
    let span = spans.start_with(|| -> &str { panic!("rendered for an unsampled span") });
    assert!(!span.expect("on, but unsampled").is_recording());
}
