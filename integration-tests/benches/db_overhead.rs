//! What tracing costs a database call on the real local servers: `SELECT 1`
//! through tokio-postgres, mysql_async, sqlx (PostgreSQL and MySQL) and
//! diesel (PostgreSQL), and a `find` by `_id` through the MongoDB driver,
//! traced (the default sampler, batch processor, exporter that discards)
//! against the raw client: sampled (a new operation), unsampled (the
//! caller's `traceparent` said not sampled) and with the integration off.
//!
//! Each variant is measured in pairs with the raw call (see
//! `census_integration_tests::paired`): raw and traced alternate call by
//! call on the same connection (the wrapper's `get_ref`/`get_mut`; for
//! diesel, census's instrumentation switched off for the raw call), so
//! both see the same machine and the same server backend, and the ratio of
//! their totals is the variant's cost. MongoDB's tracing hooks into the
//! client's options, so its raw calls go through a second client of the
//! same server. Criterion reports the time of a
//! pair; the ratios go to `pairs.json`, one per round, and the table shows
//! their median.

use std::time::{Duration, Instant};

use census_integration_tests::paired::{Pairs, Side, Totals};
use census_integration_tests::services;
use census_pipeline::testing::discarding_tracer;
use criterion::{Criterion, criterion_group, criterion_main};
use mysql_async::prelude::Queryable as _;
use opentelemetry::Context;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::TraceContextExt as _;
use tokio::runtime::Runtime;

const ROUNDS: usize = 9;

/// How the traced call of a pair runs.
#[derive(Clone, Copy)]
enum Variant {
    Sampled,
    Unsampled,
    Disabled,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Sampled => "traced_sampled",
            Variant::Unsampled => "traced_unsampled",
            Variant::Disabled => "traced_disabled",
        }
    }

    /// The context both calls of a pair run in: a new operation, or the
    /// child of a caller that did not sample its trace.
    fn context(self) -> Context {
        match self {
            Variant::Sampled | Variant::Disabled => Context::new(),
            Variant::Unsampled => Context::new()
                .with_remote_span_context(census_pipeline::testing::unsampled_caller().0),
        }
    }
}

/// Checks a `SELECT 1` went through; its row is of no interest.
fn answered<T, E: std::fmt::Debug>(result: Result<T, E>) {
    result.expect("SELECT 1");
}

/// Runs `$iters` pairs of `$raw` and `$traced` (expressions awaited each
/// time, both inside `$cx`) and returns their totals; a macro because the
/// calls borrow their connection mutably in turn.
macro_rules! pairs {
    ($iters:expr, $cx:expr, raw: $raw:expr, traced: $traced:expr) => {
        async {
            let mut totals = Totals::default();
            for i in 0..$iters {
                for side in Side::order(i) {
                    let start = Instant::now();
                    match side {
                        Side::Baseline => answered($raw.with_context($cx.clone()).await),
                        Side::Measured => answered($traced.with_context($cx.clone()).await),
                    }
                    totals.add(side, start);
                }
            }
            totals
        }
    };
}

/// Runs `ROUNDS` rounds of each variant against the raw call, with
/// `integration` switched as the variant needs; `measure(cx, iters)` runs
/// `iters` pairs in `cx`.
fn rounds(
    c: &mut Criterion,
    group_name: &str,
    integration: &'static census_core::registry::Integration,
    mut measure: impl FnMut(&Context, u64) -> Totals,
) {
    // The "used while off" warning, once, outside the measurement.
    integration.set_enabled(false);
    let _ = integration.should_trace();
    let mut pairs = Pairs::new(group_name);
    let mut group = c.benchmark_group(group_name);
    for round in 0..ROUNDS {
        let mut order = [Variant::Sampled, Variant::Unsampled, Variant::Disabled];
        if round % 2 == 1 {
            order.reverse();
        }
        for variant in order {
            integration.set_enabled(!matches!(variant, Variant::Disabled));
            let cx = variant.context();
            group.bench_function(format!("{}_pair/{round}", variant.name()), |b| {
                b.iter_custom(|iters| {
                    let totals = measure(&cx, iters);
                    pairs.record(variant.name(), "raw", round, iters, totals);
                    totals.both()
                })
            });
        }
    }
    group.finish();
    if let Some(written) = pairs.write().expect("pairs.json written") {
        println!("{group_name}: pairs in {}", written.display());
    }
}

fn postgres(c: &mut Criterion, rt: &Runtime) {
    let url = services::postgres_url();
    let (client, connection) = rt
        .block_on(census::postgres::connect(&url, tokio_postgres::NoTls))
        .unwrap_or_else(|e| services::unreachable("postgres", &url, &e));
    rt.spawn(connection);
    rounds(
        c,
        "tokio_postgres_select_1",
        &census::postgres::INTEGRATION,
        |cx, iters| {
            rt.block_on(pairs!(iters, cx,
                raw: client.get_ref().query_one("SELECT 1", &[]),
                traced: client.query_one("SELECT 1", &[])))
        },
    );
}

fn mysql(c: &mut Criterion, rt: &Runtime) {
    let url = services::mysql_url();
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let mut conn = rt
        .block_on(census::mysql::Traced::connect(opts))
        .unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    rounds(
        c,
        "mysql_async_select_1",
        &census::mysql::INTEGRATION,
        |cx, iters| {
            rt.block_on(pairs!(iters, cx,
                raw: conn.get_mut().query_drop("SELECT 1"),
                traced: conn.query_drop("SELECT 1")))
        },
    );
}

/// One sqlx database: a traced connection (target from the connect
/// options), `SELECT 1` through it and through the connection inside. A
/// macro: sqlx's connection types share no trait that says all this.
macro_rules! sqlx_rounds {
    ($c:expr, $rt:expr, $group:literal, $service:literal, $url:expr, $connection:ty) => {{
        let url = $url;
        let raw = $rt
            .block_on(<$connection as sqlx::Connection>::connect(&url))
            .unwrap_or_else(|e| services::unreachable($service, &url, &e));
        let options = url.parse().unwrap();
        let mut conn = census::sqlx::Traced::for_connection(raw, &options);
        rounds($c, $group, &census::sqlx::INTEGRATION, |cx, iters| {
            $rt.block_on(pairs!(iters, cx,
                raw: sqlx::query("SELECT 1").fetch_one(conn.get_mut()),
                traced: sqlx::query("SELECT 1").fetch_one(&mut conn)))
        });
    }};
}

fn mongodb(c: &mut Criterion, rt: &Runtime) {
    use mongodb::bson::{Document, doc};
    let url = services::mongodb_url();
    let collection = |traced: bool| {
        rt.block_on(async {
            let mut options = mongodb::options::ClientOptions::parse(&url)
                .await
                .unwrap_or_else(|e| services::unreachable("mongodb", &url, &e));
            if traced {
                census::mongodb::Commands::new().install(&mut options);
            }
            let client = mongodb::Client::with_options(options).unwrap();
            client
                .database(&format!("census_bench_{}", std::process::id()))
                .collection::<Document>("orders")
        })
    };
    let (raw, traced) = (collection(false), collection(true));
    rt.block_on(raw.insert_one(doc! { "_id": 1, "total": 42 }).into_future())
        .unwrap_or_else(|e| services::unreachable("mongodb", &url, &e));
    rounds(
        c,
        "mongodb_find_one",
        &census::mongodb::INTEGRATION,
        |cx, iters| {
            rt.block_on(pairs!(iters, cx,
            raw: raw.find_one(doc! { "_id": 1 }).into_future(),
            traced: traced.find_one(doc! { "_id": 1 }).into_future()))
        },
    );
    rt.block_on(raw.drop().into_future()).unwrap();
}

/// census's diesel instrumentation, idle while `on` is false: diesel keeps
/// one instrumentation per connection, and a new one would start with an
/// empty statement cache.
struct Switched {
    on: std::sync::Arc<std::sync::atomic::AtomicBool>,
    inner: census::diesel::CensusInstrumentation,
}

impl diesel::connection::Instrumentation for Switched {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if self.on.load(std::sync::atomic::Ordering::Relaxed) {
            self.inner.on_connection_event(event);
        }
    }
}

fn diesel(c: &mut Criterion) {
    use diesel::{Connection as _, RunQueryDsl as _};
    let url = services::postgres_url();
    let mut conn = diesel::PgConnection::establish(&url)
        .unwrap_or_else(|e| services::unreachable("postgres", &url, &e));
    let on = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    conn.set_instrumentation(Switched {
        on: on.clone(),
        inner: census::diesel::CensusInstrumentation::from_url(&url),
    });
    rounds(
        c,
        "diesel_postgres_select_1",
        &census::diesel::INTEGRATION,
        |cx, iters| {
            let _attached = cx.clone().attach();
            let mut totals = Totals::default();
            for i in 0..iters {
                for side in Side::order(i) {
                    on.store(side == Side::Measured, std::sync::atomic::Ordering::Relaxed);
                    let start = Instant::now();
                    answered(diesel::sql_query("SELECT 1").execute(&mut conn));
                    totals.add(side, start);
                }
            }
            totals
        },
    );
}

fn db_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The default sampler: keeps new operations, follows a caller's flag.
    let tracer = discarding_tracer(None);
    postgres(c, &rt);
    mysql(c, &rt);
    sqlx_rounds!(
        c,
        rt,
        "sqlx_postgres_select_1",
        "postgres",
        services::postgres_url(),
        sqlx::PgConnection
    );
    sqlx_rounds!(
        c,
        rt,
        "sqlx_mysql_select_1",
        "mysql",
        services::mysql_url(),
        sqlx::MySqlConnection
    );
    mongodb(c, &rt);
    diesel(c);
    tracer.shutdown(Duration::from_secs(5)).unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    targets = db_overhead
}
criterion_main!(benches);
