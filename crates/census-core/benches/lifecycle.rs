//! The per-span cost of census's lifecycle (on/off check, start from the
//! cached tracer, attributes, outcome, end) next to a bare OpenTelemetry
//! SDK span with the same name, kind and attributes, in the same run and
//! on the same kind of provider (batch processor, exporter that discards).

use std::hint::black_box;
use std::time::Duration;

use census_core::model::Outcome;
use census_core::registry::{Integration, set_tracer_provider};
use census_core::sampling::ProbabilitySampler;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Span as _, SpanKind, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};

static BENCH: Integration = Integration::new("bench", "census-core", "0");

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

fn provider(rate: f64) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .with_sampler(ProbabilitySampler::new(rate).unwrap())
        .build()
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

fn lifecycle(c: &mut Criterion) {
    let sampled = provider(1.0);
    let bare = sampled.tracer("bare");
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
        set_tracer_provider(sampled.clone());
        BENCH.set_enabled(true);
        group.bench_function(format!("census_sampled/{round}"), |b| b.iter(census_span));
    }
    let unsampled = provider(0.0);
    let bare = unsampled.tracer("bare");
    set_tracer_provider(unsampled.clone());
    for round in 0..2 {
        group.bench_function(format!("bare_sdk_unsampled/{round}"), |b| {
            b.iter(|| {
                let mut span = bare
                    .span_builder("SELECT users")
                    .with_kind(SpanKind::Client)
                    .start_with_context(&bare, &Context::current());
                if span.is_recording() {
                    span.set_attributes(attributes());
                }
                span.end();
            })
        });
        group.bench_function(format!("census_unsampled/{round}"), |b| b.iter(census_span));
    }
    BENCH.set_enabled(false);
    black_box(BENCH.should_trace()); // the one warning, outside the measurement
    group.bench_function("census_disabled", |b| b.iter(census_span));
    group.finish();
    let _ = sampled.shutdown();
    let _ = unsampled.shutdown();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = lifecycle
}
criterion_main!(benches);
