//! What a server middleware costs a trivial handler, through real loopback
//! HTTP: the time of `GET /` answering `Hello World!`, bare and with the
//! middleware (census's default sampler, which keeps every new operation;
//! batch processor; exporter that discards), for census's tower layer and
//! actix middleware: sampled, unsampled (the client's `traceparent` says
//! not sampled) and with the integration off; and for
//! `axum-tracing-opentelemetry` (the common alternative for axum, through
//! `tracing-opentelemetry` on the same provider) and
//! `opentelemetry-instrumentation-actix-web` (the global provider, the
//! same one) as the points of comparison. With metrics: census's
//! middleware with each request also measured (a meter provider
//! installed as census's pipeline installs one) against the same server
//! measuring nothing, sampled and unsampled: what the duration metric and
//! the active-requests count add to a request.
//!
//! An iteration sends 16 requests at once over kept-alive connections.
//! The metric pairs run again in process (`http_server_in_process`): 64
//! requests one after another to a `/users/{id}` route of an axum app
//! called as a tower service, without sockets, measuring and not.
//! Each variant is measured in pairs with its baseline (see
//! `census_integration_tests::paired`): a batch to one server, then a
//! batch to the other, in alternating order, so that both see the same
//! machine; the ratios of their totals go to `pairs.json`, one per round.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use census_integration_tests::paired::{Pairs, Side, Totals};
use census_pipeline::testing::discarding_tracer;
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

const ROUNDS: usize = 5;
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

/// The `traceparent` of a caller that did not sample its trace.
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

/// Sends one batch of `IN_FLIGHT` concurrent requests to `uri`.
async fn batch(client: &HttpClient, uri: &hyper::Uri, traceparent: Option<&'static str>) {
    let batch = (0..IN_FLIGHT).map(|_| async {
        let mut request = hyper::Request::get(uri.clone());
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        let request = request.body(Empty::new()).expect("a valid request");
        let response = client.request(request).await.expect("GET /");
        assert!(response.status().is_success());
        response.into_body().collect().await.expect("body");
    });
    join_all(batch).await;
}

/// A server measured against another.
struct Pair {
    measured: &'static str,
    baseline: &'static str,
    measured_addr: SocketAddr,
    baseline_addr: SocketAddr,
    traceparent: Option<&'static str>,
    /// Whether census's integrations are on while the pair runs.
    census: bool,
    /// Whether the measured side's requests are measured (the baseline's
    /// never are).
    metrics: bool,
}

impl Pair {
    /// Sends `iters` pairs of batches, one to each server.
    async fn run(&self, client: &HttpClient, iters: u64) -> Totals {
        let uri = |addr| -> hyper::Uri { format!("http://{addr}/").parse().unwrap() };
        let (measured, baseline) = (uri(self.measured_addr), uri(self.baseline_addr));
        let mut totals = Totals::default();
        for i in 0..iters {
            for side in Side::order(i) {
                census_core::metrics::set_measuring(self.metrics && side == Side::Measured);
                let start = Instant::now();
                match side {
                    Side::Baseline => batch(client, &baseline, self.traceparent).await,
                    Side::Measured => batch(client, &measured, self.traceparent).await,
                }
                totals.add(side, start);
            }
        }
        totals
    }
}

fn http_server(c: &mut Criterion) {
    let runtime = Runtime::new().unwrap();
    // The default sampler (keep every new operation, follow the caller's
    // flag), as from `Tracer::from_env()`.
    let tracer = discarding_tracer(None);
    let provider = tracer.provider().clone();
    // Off but for the measured side of the metric pairs.
    let meters = census_pipeline::testing::recording_meter_provider();
    census_core::metrics::set_measuring(false);
    // axum-tracing-opentelemetry records through `tracing` spans, which
    // tracing-opentelemetry turns into spans of the same provider.
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer().with_tracer(provider.tracer("axum-tracing-opentelemetry")),
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();
    // Both middlewares read the caller with the global propagator the
    // census tracer installed (W3C Trace Context and Baggage).

    let (axum_bare, axum_census, axum_alternative) = runtime.block_on(async {
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
    let pair = |measured, measured_addr, baseline, baseline_addr| Pair {
        measured,
        baseline,
        measured_addr,
        baseline_addr,
        traceparent: None,
        census: true,
        metrics: false,
    };
    let metrics = |measured, addr, baseline, traceparent| Pair {
        metrics: true,
        traceparent,
        ..pair(measured, addr, baseline, addr)
    };
    let pairs = [
        pair("axum_census", axum_census, "axum_bare", axum_bare),
        Pair {
            traceparent: Some(UNSAMPLED),
            ..pair("axum_census_unsampled", axum_census, "axum_bare", axum_bare)
        },
        Pair {
            census: false,
            ..pair("axum_census_off", axum_census, "axum_bare", axum_bare)
        },
        pair(
            "axum_tracing_opentelemetry",
            axum_alternative,
            "axum_bare",
            axum_bare,
        ),
        pair(
            "axum_census",
            axum_census,
            "axum_tracing_opentelemetry",
            axum_alternative,
        ),
        pair("actix_census", actix_census, "actix_bare", actix_bare),
        Pair {
            traceparent: Some(UNSAMPLED),
            ..pair(
                "actix_census_unsampled",
                actix_census,
                "actix_bare",
                actix_bare,
            )
        },
        Pair {
            census: false,
            ..pair("actix_census_off", actix_census, "actix_bare", actix_bare)
        },
        pair(
            "actix_opentelemetry_instrumentation",
            actix_alternative,
            "actix_bare",
            actix_bare,
        ),
        pair(
            "actix_census",
            actix_census,
            "actix_opentelemetry_instrumentation",
            actix_alternative,
        ),
        metrics("axum_census_metrics", axum_census, "axum_census", None),
        metrics(
            "axum_census_unsampled_metrics",
            axum_census,
            "axum_census_unsampled",
            Some(UNSAMPLED),
        ),
        metrics("actix_census_metrics", actix_census, "actix_census", None),
        metrics(
            "actix_census_unsampled_metrics",
            actix_census,
            "actix_census_unsampled",
            Some(UNSAMPLED),
        ),
    ];
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    let mut recorded = Pairs::new("http_server");
    let mut group = c.benchmark_group("http_server");
    group.throughput(criterion::Throughput::Elements(2 * IN_FLIGHT as u64));
    for round in 0..ROUNDS {
        for pair in &pairs {
            census::tower::INTEGRATION.set_enabled(pair.census);
            census::actix::INTEGRATION.set_enabled(pair.census);
            let name = format!("{}_vs_{}/{round}", pair.measured, pair.baseline);
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let totals = runtime.block_on(pair.run(&client, iters));
                    recorded.record(pair.measured, pair.baseline, round, iters, totals);
                    totals.both()
                })
            });
        }
    }
    group.finish();
    if let Some(written) = recorded.write().expect("pairs.json written") {
        println!("http_server: pairs in {}", written.display());
    }
    in_process(c, &runtime);
    let _ = tracer.shutdown(Duration::from_secs(5));
    let _ = meters.shutdown();
}

/// Requests an in-process pair sends per side and iteration.
const IN_PROCESS_BATCH: usize = 64;

/// An axum app with census's layer called in process, without sockets
/// or HTTP parsing, measuring and not: what measuring adds to a request,
/// without the network stack's noise around it.
fn in_process(c: &mut Criterion, runtime: &Runtime) {
    use tower::ServiceExt as _;
    census::tower::INTEGRATION.set_enabled(true);
    let app = Router::new()
        .route("/users/{id}", get(hello))
        .layer(census::tower::TraceLayer::new());
    let requests = |traceparent: Option<&'static str>| {
        let app = app.clone();
        async move {
            for _ in 0..IN_PROCESS_BATCH {
                let mut request = axum::http::Request::get("/users/7");
                if let Some(traceparent) = traceparent {
                    request = request.header("traceparent", traceparent);
                }
                let request = request.body(axum::body::Body::empty()).unwrap();
                let response = app.clone().oneshot(request).await.unwrap();
                assert!(response.status().is_success());
                response.into_body().collect().await.expect("body");
            }
        }
    };
    let mut recorded = Pairs::new("http_server_in_process");
    let mut group = c.benchmark_group("http_server_in_process");
    group.throughput(criterion::Throughput::Elements(2 * IN_PROCESS_BATCH as u64));
    let pairs = [
        ("axum_in_process_metrics", "axum_in_process", None),
        (
            "axum_in_process_unsampled_metrics",
            "axum_in_process_unsampled",
            Some(UNSAMPLED),
        ),
    ];
    for round in 0..ROUNDS {
        for (measured, baseline, traceparent) in pairs {
            group.bench_function(format!("{measured}_vs_{baseline}/{round}"), |b| {
                b.iter_custom(|iters| {
                    let totals = runtime.block_on(async {
                        let mut totals = Totals::default();
                        for i in 0..iters {
                            for side in Side::order(i) {
                                census_core::metrics::set_measuring(side == Side::Measured);
                                let start = Instant::now();
                                requests(traceparent).await;
                                totals.add(side, start);
                            }
                        }
                        totals
                    });
                    recorded.record(measured, baseline, round, iters, totals);
                    totals.both()
                })
            });
        }
    }
    group.finish();
    census_core::metrics::set_measuring(false);
    if let Some(written) = recorded.write().expect("pairs.json written") {
        println!("http_server_in_process: pairs in {}", written.display());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
    targets = http_server
}
criterion_main!(benches);
