//! census's batch processor against the SDK's `BatchSpanProcessor` when
//! many threads end spans at once: census's takes a lock on every span
//! end, the SDK's sends each span through a channel. 8 threads each start
//! and end 512 sampled spans on one provider (so that starting the
//! threads weighs little), whose processor feeds an
//! exporter that drops what it receives; the two providers alternate
//! round by round in pairs (see `census_integration_tests::paired`), so
//! both see the same machine. The measured side is census's, the baseline
//! the SDK's: a ratio below 1 means census's processor is faster.

use std::time::{Duration, Instant};

use census_integration_tests::paired::{Pairs, Side, Totals};
use census_pipeline::batch::{BatchConfig, BatchProcessor};
use census_pipeline::testing::Discard;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider};

const THREADS: usize = 8;
const SPANS_PER_THREAD: usize = 512;
const ROUNDS: usize = 5;

/// Room for every span a round ends: neither processor may drop (and so
/// do less work) because the other's export thread fell behind.
const QUEUE: usize = THREADS * SPANS_PER_THREAD * 4;

fn provider(census: bool) -> SdkTracerProvider {
    let builder = SdkTracerProvider::builder().with_sampler(Sampler::AlwaysOn);
    if census {
        let config = BatchConfig::default().max_queue_size(QUEUE);
        builder
            .with_span_processor(BatchProcessor::new(Discard, config))
            .build()
    } else {
        let config = opentelemetry_sdk::trace::BatchConfigBuilder::default()
            .with_max_queue_size(QUEUE)
            .build();
        builder
            .with_span_processor(
                BatchSpanProcessor::builder(Discard)
                    .with_batch_config(config)
                    .build(),
            )
            .build()
    }
}

/// `THREADS` threads each end `SPANS_PER_THREAD` spans of `tracer`.
fn end_spans(tracer: &SdkTracer) {
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..SPANS_PER_THREAD {
                    let mut span = tracer.start("work");
                    span.end();
                }
            });
        }
    });
}

fn batch_contention(c: &mut Criterion) {
    let census = provider(true);
    let sdk = provider(false);
    let (census_tracer, sdk_tracer) = (census.tracer("bench"), sdk.tracer("bench"));
    let mut pairs = Pairs::new("batch_contention");
    let mut group = c.benchmark_group("batch_contention");
    for round in 0..ROUNDS {
        group.bench_function(format!("census_vs_sdk_8_threads/{round}"), |b| {
            b.iter_custom(|iters| {
                let mut totals = Totals::default();
                for i in 0..iters {
                    for side in Side::order(i) {
                        let start = Instant::now();
                        match side {
                            Side::Baseline => end_spans(&sdk_tracer),
                            Side::Measured => end_spans(&census_tracer),
                        }
                        totals.add(side, start);
                    }
                }
                pairs.record("census", "sdk", round, iters, totals);
                totals.both()
            })
        });
    }
    group.finish();
    if let Some(written) = pairs.write().expect("pairs.json written") {
        println!("batch_contention: pairs in {}", written.display());
    }
    census.shutdown().unwrap();
    sdk.shutdown().unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(300));
    targets = batch_contention
}
criterion_main!(benches);
