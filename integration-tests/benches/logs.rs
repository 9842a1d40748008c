//! What census's `tracing` log bridge costs an event, next to `tracing`'s
//! own formatting layer at the same filter, in the same run:
//!
//! - a `debug!` below the `info` filter, which the goal says must cost
//!   what `tracing` costs for a disabled event;
//! - an `info!` with two fields that is written: census builds a log
//!   record and queues it for export (to an exporter that discards);
//!   `tracing`'s layer formats it into a discarding writer.

use std::hint::black_box;

use census::Tracer;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

/// Takes every batch and keeps nothing.
#[derive(Debug)]
struct Discard;

impl LogExporter for Discard {
    async fn export(&self, _batch: LogBatch<'_>) -> OTelSdkResult {
        Ok(())
    }
}

fn events(c: &mut Criterion) {
    let tracer = Tracer::builder()
        .log_exporter(Discard)
        .install(false)
        .build();
    let census = || {
        tracing_subscriber::registry().with(census::tracing::logs_layer(
            &tracer,
            census::tracing::log_filter("info").unwrap(),
        ))
    };
    let fmt = || {
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::sink)
                .with_filter(tracing_subscriber::EnvFilter::new("info")),
        )
    };
    let mut group = c.benchmark_group("logs");
    group.bench_function("disabled debug!, tracing fmt layer at info", |b| {
        tracing::subscriber::with_default(fmt(), || {
            b.iter(|| tracing::debug!(order_id = black_box(42), "cache warmed"))
        })
    });
    group.bench_function("disabled debug!, census logs layer at info", |b| {
        tracing::subscriber::with_default(census(), || {
            b.iter(|| tracing::debug!(order_id = black_box(42), "cache warmed"))
        })
    });
    group.bench_function("info!, tracing fmt layer to a sink", |b| {
        tracing::subscriber::with_default(fmt(), || {
            b.iter(|| tracing::info!(order_id = black_box(42), express = true, "order accepted"))
        })
    });
    group.bench_function("info!, census logs layer to a discarding exporter", |b| {
        tracing::subscriber::with_default(census(), || {
            b.iter(|| tracing::info!(order_id = black_box(42), express = true, "order accepted"))
        })
    });
    group.finish();
}

criterion_group!(benches, events);
criterion_main!(benches);
