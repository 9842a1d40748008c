//! What a reqwest middleware costs a call, through real loopback HTTP:
//! 16 concurrent `GET /` to a bare axum server through reqwest-middleware
//! with no middleware (raw), with census's `TracingMiddleware` (span and
//! `traceparent`), and with `reqwest-tracing` + `tracing-opentelemetry` on
//! the same provider, the common alternative. reqwest-tracing has no
//! feature for OpenTelemetry 0.33, so it records its span without
//! injecting `traceparent`: it does less work than census here.
//!
//! The variants run back to back in rounds; compare each round's time
//! with its raw run and take the median.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use census_core::testing::discarding_tracer;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use opentelemetry::trace::TracerProvider as _;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tokio::runtime::Runtime;
use tracing_subscriber::layer::SubscriberExt as _;

const ROUNDS: usize = 3;
const IN_FLIGHT: usize = 16;

/// Sends `iters` batches of `IN_FLIGHT` concurrent requests to `addr`.
async fn load(client: &ClientWithMiddleware, addr: SocketAddr, iters: u64) -> Duration {
    let url = format!("http://{addr}/");
    let start = Instant::now();
    for _ in 0..iters {
        let batch = (0..IN_FLIGHT).map(|_| async {
            let response = client.get(&url).send().await.expect("GET /");
            assert!(response.status().is_success());
            response.bytes().await.expect("body");
        });
        join_all(batch).await;
    }
    start.elapsed()
}

fn http_client(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    let tracer = discarding_tracer(None);
    let provider = tracer.provider().clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("reqwest-tracing")));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    census::reqwest::INTEGRATION.set_enabled(true);

    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "Hello World!" }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let raw = ClientBuilder::new(reqwest::Client::new()).build();
    let census = ClientBuilder::new(reqwest::Client::new())
        .with(census::reqwest::TracingMiddleware::new())
        .build();
    let alternative = ClientBuilder::new(reqwest::Client::new())
        .with(reqwest_tracing::TracingMiddleware::default())
        .build();

    let mut group = c.benchmark_group("http_client");
    group.throughput(criterion::Throughput::Elements(IN_FLIGHT as u64));
    for round in 0..ROUNDS {
        for (name, client) in [
            ("reqwest_raw", &raw),
            ("reqwest_census", &census),
            ("reqwest_tracing", &alternative),
        ] {
            group.bench_function(format!("{name}/{round}"), |b| {
                b.iter_custom(|iters| runtime.block_on(load(client, addr, iters)))
            });
        }
    }
    group.finish();
    let _ = tracer.shutdown(Duration::from_secs(5));
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(20);
    targets = http_client
}
criterion_main!(benches);
