//! What a server middleware costs a trivial handler, through real loopback
//! HTTP: requests per second of `GET /` answering `Hello World!`, bare and
//! with the middleware (census's default sampler, which keeps every new
//! operation; batch processor; exporter that discards), for census's tower layer and actix middleware, and for
//! `axum-tracing-opentelemetry` (the common alternative for axum, through
//! `tracing-opentelemetry` on the same provider) and
//! `opentelemetry-instrumentation-actix-web` (the global provider, the
//! same one) as the points of comparison.
//!
//! Each iteration sends 16 requests at once over kept-alive connections.
//! The machines are shared and noisy, so the variants run back to back in
//! rounds; compare each round's time with its bare run and take the median.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use census_core::testing::discarding_tracer;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry::trace::TracerProvider as _;
use tokio::runtime::Runtime;
use tracing_subscriber::layer::SubscriberExt as _;

const ROUNDS: usize = 3;
const IN_FLIGHT: usize = 16;

async fn hello() -> &'static str {
    "Hello World!"
}

async fn serve_axum(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Which middleware an actix server runs.
#[derive(Clone, Copy)]
enum Actix {
    Bare,
    Census,
    OpenTelemetry,
}

fn serve_actix(middleware: Actix) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // One app type per middleware: `wrap` changes the type.
    macro_rules! run {
        ($app:expr) => {
            actix_web::HttpServer::new(move || $app.route("/", actix_web::web::get().to(hello)))
                .workers(1)
                .listen(listener)
                .unwrap()
                .run()
        };
    }
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match middleware {
                Actix::Bare => run!(actix_web::App::new()).await,
                Actix::Census => {
                    run!(actix_web::App::new().wrap(census::actix::Trace::new())).await
                }
                Actix::OpenTelemetry => {
                    run!(
                        actix_web::App::new()
                            .wrap(opentelemetry_instrumentation_actix_web::RequestTracing::new())
                    )
                    .await
                }
            }
        })
    });
    addr
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Sends `iters` batches of `IN_FLIGHT` concurrent requests to `addr`.
async fn load(client: &HttpClient, addr: SocketAddr, iters: u64) -> Duration {
    let uri: hyper::Uri = format!("http://{addr}/").parse().unwrap();
    let start = Instant::now();
    for _ in 0..iters {
        let batch = (0..IN_FLIGHT).map(|_| async {
            let response = client.get(uri.clone()).await.expect("GET /");
            assert!(response.status().is_success());
            response.into_body().collect().await.expect("body");
        });
        join_all(batch).await;
    }
    start.elapsed()
}

fn http_server(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    // The default sampler (keep every new operation), as from
    // `Tracer::from_env()`.
    let tracer = discarding_tracer(None);
    let provider = tracer.provider().clone();
    // axum-tracing-opentelemetry records through `tracing` spans, which
    // tracing-opentelemetry turns into spans of the same provider.
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer().with_tracer(provider.tracer("axum-tracing-opentelemetry")),
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    census::tower::INTEGRATION.set_enabled(true);
    census::actix::INTEGRATION.set_enabled(true);

    let (bare, census_tower, alternative) = runtime.block_on(async {
        let app = || Router::new().route("/", get(hello));
        (
            serve_axum(app()).await,
            serve_axum(app().layer(census::tower::TraceLayer::new())).await,
            serve_axum(
                app()
                    .layer(axum_tracing_opentelemetry::middleware::OtelInResponseLayer)
                    .layer(axum_tracing_opentelemetry::middleware::OtelAxumLayer::default()),
            )
            .await,
        )
    });
    let (actix_bare, actix_census, actix_alternative) = (
        serve_actix(Actix::Bare),
        serve_actix(Actix::Census),
        serve_actix(Actix::OpenTelemetry),
    );
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    let mut group = c.benchmark_group("http_server");
    group.throughput(criterion::Throughput::Elements(IN_FLIGHT as u64));
    for round in 0..ROUNDS {
        for (name, addr) in [
            ("axum_bare", bare),
            ("axum_census", census_tower),
            ("axum_tracing_opentelemetry", alternative),
            ("actix_bare", actix_bare),
            ("actix_census", actix_census),
            ("actix_opentelemetry_instrumentation", actix_alternative),
        ] {
            group.bench_function(format!("{name}/{round}"), |b| {
                b.iter_custom(|iters| runtime.block_on(load(&client, addr, iters)))
            });
        }
    }
    group.finish();
    let _ = tracer.shutdown(Duration::from_secs(5));
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(20);
    targets = http_server
}
criterion_main!(benches);
