//! What a client integration costs a call, through real loopback HTTP: 16
//! concurrent `GET /` to a bare axum server, raw and traced, for reqwest
//! (through reqwest-middleware) and for hyper-util's legacy client
//! (through census's tower layer): sampled (a new operation), unsampled
//! (inside a caller's unsampled trace) and with the integration off; and
//! `reqwest-tracing` + `tracing-opentelemetry` on the same provider, the
//! common alternative for reqwest. reqwest-tracing has no feature for
//! OpenTelemetry 0.33, so it records its span without injecting
//! `traceparent`: it does less work than census here.
//!
//! Each variant is measured in pairs with its baseline (see
//! `census_integration_tests::paired`): a batch through one client, then
//! a batch through the other, in alternating order, so that both see the
//! same machine; the ratios of their totals go to `pairs.json`, one per
//! round.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use census_integration_tests::paired::{Pairs, Side, Totals};
use census_pipeline::testing::{discarding_tracer, unsampled_caller};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tokio::runtime::Runtime;
use tower::{Layer as _, ServiceExt as _};
use tracing_subscriber::layer::SubscriberExt as _;

const ROUNDS: usize = 5;
const IN_FLIGHT: usize = 16;

type HyperClient = Client<HttpConnector, Empty<Bytes>>;

/// A client a batch goes through.
#[derive(Clone)]
enum Caller {
    Reqwest(ClientWithMiddleware),
    Hyper(HyperClient),
    TracedHyper(census::hyper::TraceClient<HyperClient>),
}

impl Caller {
    /// Sends `IN_FLIGHT` concurrent `GET /` to `addr`.
    async fn batch(&self, addr: SocketAddr) {
        let url = format!("http://{addr}/");
        let batch = (0..IN_FLIGHT).map(|_| async {
            match self {
                Caller::Reqwest(client) => {
                    let response = client.get(&url).send().await.expect("GET /");
                    assert!(response.status().is_success());
                    response.bytes().await.expect("body");
                }
                Caller::Hyper(client) => hyper_get(client.clone(), &url).await,
                Caller::TracedHyper(client) => hyper_get(client.clone(), &url).await,
            }
        });
        join_all(batch).await;
    }
}

async fn hyper_get<S>(mut client: S, url: &str)
where
    S: tower::Service<
            hyper::Request<Empty<Bytes>>,
            Response = hyper::Response<hyper::body::Incoming>,
        >,
    S::Error: std::fmt::Debug,
{
    let request = hyper::Request::get(url)
        .body(Empty::new())
        .expect("a valid request");
    let response = client
        .ready()
        .await
        .expect("ready")
        .call(request)
        .await
        .expect("GET /");
    assert!(response.status().is_success());
    response.into_body().collect().await.expect("body");
}

/// A client measured against another.
struct Pair {
    measured: &'static str,
    baseline: &'static str,
    measured_client: Caller,
    baseline_client: Caller,
    /// The context both batches run in.
    cx: Context,
    /// Whether census's integrations are on while the pair runs.
    census: bool,
}

impl Pair {
    /// Sends `iters` pairs of batches, one through each client.
    async fn run(&self, addr: SocketAddr, iters: u64) -> Totals {
        let mut totals = Totals::default();
        for i in 0..iters {
            for side in Side::order(i) {
                let client = match side {
                    Side::Baseline => &self.baseline_client,
                    Side::Measured => &self.measured_client,
                };
                let start = Instant::now();
                client.batch(addr).with_context(self.cx.clone()).await;
                totals.add(side, start);
            }
        }
        totals
    }
}

fn http_client(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    // The default sampler: keeps new operations, follows a caller's flag.
    let tracer = discarding_tracer(None);
    let provider = tracer.provider().clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("reqwest-tracing")));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "Hello World!" }));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let raw = Caller::Reqwest(ClientBuilder::new(reqwest::Client::new()).build());
    let census = Caller::Reqwest(
        ClientBuilder::new(reqwest::Client::new())
            .with(census::reqwest::TracingMiddleware::new())
            .build(),
    );
    let alternative = Caller::Reqwest(
        ClientBuilder::new(reqwest::Client::new())
            .with(reqwest_tracing::TracingMiddleware::default())
            .build(),
    );
    let hyper_client = || -> HyperClient { Client::builder(TokioExecutor::new()).build_http() };
    let hyper_raw = Caller::Hyper(hyper_client());
    let hyper_census =
        Caller::TracedHyper(census::hyper::TraceClientLayer::new().layer(hyper_client()));

    let unsampled = Context::new().with_remote_span_context(unsampled_caller().0);
    let pair = |measured, measured_client: &Caller, baseline, baseline_client: &Caller| Pair {
        measured,
        baseline,
        measured_client: measured_client.clone(),
        baseline_client: baseline_client.clone(),
        cx: Context::new(),
        census: true,
    };
    let pairs = [
        pair("reqwest_census", &census, "reqwest_raw", &raw),
        Pair {
            cx: unsampled.clone(),
            ..pair("reqwest_census_unsampled", &census, "reqwest_raw", &raw)
        },
        Pair {
            census: false,
            ..pair("reqwest_census_off", &census, "reqwest_raw", &raw)
        },
        pair("reqwest_tracing", &alternative, "reqwest_raw", &raw),
        pair("reqwest_census", &census, "reqwest_tracing", &alternative),
        pair("hyper_census", &hyper_census, "hyper_raw", &hyper_raw),
        Pair {
            cx: unsampled.clone(),
            ..pair(
                "hyper_census_unsampled",
                &hyper_census,
                "hyper_raw",
                &hyper_raw,
            )
        },
        Pair {
            census: false,
            ..pair("hyper_census_off", &hyper_census, "hyper_raw", &hyper_raw)
        },
    ];

    let mut recorded = Pairs::new("http_client");
    let mut group = c.benchmark_group("http_client");
    group.throughput(criterion::Throughput::Elements(2 * IN_FLIGHT as u64));
    for round in 0..ROUNDS {
        for pair in &pairs {
            census::reqwest::INTEGRATION.set_enabled(pair.census);
            census::hyper::INTEGRATION.set_enabled(pair.census);
            let name = format!("{}_vs_{}/{round}", pair.measured, pair.baseline);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let totals = runtime.block_on(pair.run(addr, iters));
                    recorded.record(pair.measured, pair.baseline, round, iters, totals);
                    totals.both()
                })
            });
        }
    }
    group.finish();
    if let Some(written) = recorded.write().expect("pairs.json written") {
        println!("http_client: pairs in {}", written.display());
    }
    let _ = tracer.shutdown(Duration::from_secs(5));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    targets = http_client
}
criterion_main!(benches);
