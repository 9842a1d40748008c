//! The per-span cost of census's lifecycle (on/off check, start from the
//! cached tracer, attributes, outcome, end) next to a bare OpenTelemetry
//! SDK span with the same name, kind and attributes, in the same run and
//! on the same provider (batch processor, exporter that discards), for a
//! sampled span, an unsampled root and an unsampled child; and what
//! measuring a statement's duration metric, and a server request's
//! duration metric and active count, add to it in each case.

use std::hint::black_box;
use std::time::Duration;

use census_core::metrics::CallMetric;
use census_core::model::{DbSystem, Outcome, Target};
use census_core::registry::Integration;
use census_core::span::SqlSpans;
use census_pipeline::Tracer;
use census_pipeline::sampling::ProbabilitySampler;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SpanData, SpanExporter};

static BENCH: Integration = Integration::new("bench", "census-core", "0");

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

/// Census's tracer on a batch processor that discards; it installs itself,
/// as applications do, so census knows its sampler.
fn tracer(rate: f64) -> Tracer {
    Tracer::builder()
        .exporter(Discard)
        .sampler(ProbabilitySampler::new(rate).unwrap())
        .build()
}

/// A caller's `traceparent` that says its operation was not sampled.
fn unsampled_caller() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from_bytes([7; 16]),
        SpanId::from_bytes([3; 8]),
        TraceFlags::default(),
        true,
        TraceState::default(),
    ))
}

fn attributes() -> Vec<KeyValue> {
    vec![
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("db.query.text", "SELECT * FROM users WHERE id = ?"),
        KeyValue::new("server.address", "db"),
    ]
}

fn census_span() {
    if BENCH.should_trace() {
        let parent = census_core::context::current();
        BENCH
            .start(SpanKind::Client, "SELECT users", &parent, attributes)
            .finish(&Outcome::Ok);
    }
}

/// A statement through census's SQL spans, as the database integrations
/// run one: measured while a meter provider is installed and measuring is
/// on.
fn census_statement(spans: &SqlSpans) {
    if let Some(span) = spans.start("SELECT * FROM users WHERE id = 42") {
        span.finish(&Outcome::Ok);
    }
}

/// A server request as census's HTTP middlewares run one: its span, with
/// its duration metric and active count while measuring is on, and its
/// response's status.
fn census_request() {
    if BENCH.should_trace() {
        let parent = census_core::context::current();
        BENCH
            .start_named_by(
                SpanKind::Server,
                || "GET /users/{id}".into(),
                &parent,
                || vec![KeyValue::new("http.route", "/users/{id}")],
            )
            .measured(|| CallMetric::http_server(&http::Method::GET, false, Some("/users/{id}")))
            .finish(&Outcome::HttpServer(200));
    }
}

fn bare_unsampled(bare: &SdkTracer) {
    let mut span = bare
        .span_builder("SELECT users")
        .with_kind(SpanKind::Client)
        .start_with_context(bare, &Context::current());
    if span.is_recording() {
        span.set_attributes(attributes());
    }
    span.end();
}

/// Measures census's span with `tracer`'s provider installed with its
/// presampler, then without it.
fn census_both_ways(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    case: &str,
    round: usize,
    tracer: &Tracer,
    reinstall: impl Fn(),
) {
    group.bench_function(format!("census_{case}/{round}"), |b| b.iter(census_span));
    // The same statement with its duration metric and without, back to
    // back.
    let spans = SqlSpans::new(
        &BENCH,
        DbSystem::Postgres,
        &Target::new().with_host("db").with_port(5432),
    );
    census_core::metrics::set_measuring(false);
    group.bench_function(format!("census_statement_{case}/{round}"), |b| {
        b.iter(|| census_statement(&spans))
    });
    census_core::metrics::set_measuring(true);
    group.bench_function(format!("census_measured_{case}/{round}"), |b| {
        b.iter(|| census_statement(&spans))
    });
    census_core::metrics::set_measuring(false);
    group.bench_function(format!("census_request_{case}/{round}"), |b| {
        b.iter(census_request)
    });
    census_core::metrics::set_measuring(true);
    group.bench_function(format!("census_request_measured_{case}/{round}"), |b| {
        b.iter(census_request)
    });
    census_core::registry::set_tracer_provider(tracer.provider().clone());
    group.bench_function(format!("census_no_presample_{case}/{round}"), |b| {
        b.iter(census_span)
    });
    reinstall();
}

fn lifecycle(c: &mut Criterion) {
    let meters = census_pipeline::testing::recording_meter_provider();
    let sampled = tracer(1.0);
    let bare = sampled.provider().tracer("bare");
    BENCH.set_enabled(true);
    let mut group = c.benchmark_group("span");
    // Pairs run back to back so that both sides see the same machine load.
    for round in 0..2 {
        group.bench_function(format!("bare_sdk_sampled/{round}"), |b| {
            b.iter(|| {
                let mut span = bare
                    .span_builder("SELECT users")
                    .with_kind(SpanKind::Client)
                    .with_attributes(attributes())
                    .start_with_context(&bare, &Context::current());
                span.end();
            })
        });
        census_both_ways(&mut group, "sampled", round, &sampled, || {
            census_pipeline::testing::install_presampled(&sampled)
        });
    }
    let unsampled = tracer(0.0);
    let bare = unsampled.provider().tracer("bare");
    let reinstall = || census_pipeline::testing::install_presampled(&unsampled);
    for round in 0..2 {
        // A root: no caller, so the SDK draws the trace id and decides.
        group.bench_function(format!("bare_sdk_unsampled_root/{round}"), |b| {
            b.iter(|| bare_unsampled(&bare))
        });
        census_both_ways(&mut group, "unsampled_root", round, &unsampled, reinstall);
        // Inside an operation its caller did not sample: the common case.
        let _in_caller = unsampled_caller().attach();
        group.bench_function(format!("bare_sdk_unsampled_child/{round}"), |b| {
            b.iter(|| bare_unsampled(&bare))
        });
        census_both_ways(&mut group, "unsampled_child", round, &unsampled, reinstall);
    }
    BENCH.set_enabled(false);
    black_box(BENCH.should_trace()); // the one warning, outside the measurement
    group.bench_function("census_disabled", |b| b.iter(census_span));
    group.finish();
    let _ = sampled.shutdown(Duration::from_secs(5));
    let _ = unsampled.shutdown(Duration::from_secs(5));
    let _ = meters.shutdown();
}
criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = lifecycle
}
criterion_main!(benches);
