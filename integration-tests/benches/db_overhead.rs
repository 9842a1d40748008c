//! What tracing costs a database call on the real local servers: `SELECT 1`
//! through tokio-postgres, mysql_async and sqlx (PostgreSQL and MySQL),
//! raw, traced and sampled (census's `ProbabilitySampler` at 100%, batch
//! processor, exporter that discards) and traced with the integration off.
//!
//! The machines are shared and noisy, so the three variants of a client
//! run back to back in rounds, in the opposite order every other round so
//! that drift within a round favours neither; compare each round's
//! traced/raw and take the median. Raw and traced calls go over the same
//! connection (the wrapper's `get_ref`/`get_mut`), so a difference
//! between two server backends cannot pass for tracing's cost.

use std::time::{Duration, Instant};

use census_core::testing::discarding_tracer;
use census_integration_tests::services;
use criterion::{Criterion, criterion_group, criterion_main};
use mysql_async::prelude::Queryable as _;
use tokio::runtime::Runtime;

const ROUNDS: usize = 15;

/// Which side of the pair a measurement runs.
#[derive(Clone, Copy)]
enum Variant {
    Raw,
    Traced,
}

/// Times `$iters` runs of `$call` (an expression awaited each time); a
/// macro because the calls borrow their connection mutably.
macro_rules! timed {
    ($iters:expr, $call:expr) => {
        async {
            let start = Instant::now();
            for _ in 0..$iters {
                $call.await.expect("SELECT 1");
            }
            start.elapsed()
        }
    };
}

/// Runs `ROUNDS` rounds of raw, traced-sampled and traced-disabled, each
/// with `integration` switched as the variant needs.
fn rounds(
    c: &mut Criterion,
    group: &str,
    integration: &'static census_core::registry::Integration,
    mut measure: impl FnMut(Variant, u64) -> Duration,
) {
    // The "used while off" warning, once, outside the measurement.
    integration.set_enabled(false);
    let _ = integration.should_trace();
    let mut group = c.benchmark_group(group);
    for round in 0..ROUNDS {
        let mut order = [
            ("raw", Variant::Raw, false),
            ("traced_sampled", Variant::Traced, true),
            ("traced_disabled", Variant::Traced, false),
        ];
        if round % 2 == 1 {
            order.reverse();
        }
        for (name, variant, enabled) in order {
            integration.set_enabled(enabled);
            group.bench_function(format!("{name}/{round}"), |b| {
                b.iter_custom(|iters| measure(variant, iters))
            });
        }
    }
    group.finish();
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
        |variant, iters| match variant {
            Variant::Raw => rt.block_on(timed!(iters, client.get_ref().query_one("SELECT 1", &[]))),
            Variant::Traced => rt.block_on(timed!(iters, client.query_one("SELECT 1", &[]))),
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
        |variant, iters| match variant {
            Variant::Raw => rt.block_on(timed!(iters, conn.get_mut().query_drop("SELECT 1"))),
            Variant::Traced => rt.block_on(timed!(iters, conn.query_drop("SELECT 1"))),
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
        rounds(
            $c,
            $group,
            &census::sqlx::INTEGRATION,
            |variant, iters| match variant {
                Variant::Raw => $rt.block_on(timed!(
                    iters,
                    sqlx::query("SELECT 1").fetch_one(conn.get_mut())
                )),
                Variant::Traced => {
                    $rt.block_on(timed!(iters, sqlx::query("SELECT 1").fetch_one(&mut conn)))
                }
            },
        );
    }};
}

fn db_overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sampled = discarding_tracer(Some(1.0));
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
    sampled.shutdown(Duration::from_secs(5)).unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    targets = db_overhead
}
criterion_main!(benches);
