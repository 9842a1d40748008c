//! What tracing costs a database call on the real local servers: `SELECT 1`
//! through tokio-postgres, mysql_async and sqlx (PostgreSQL and MySQL),
//! raw, traced and sampled (census's `ProbabilitySampler` at 100%, batch
//! processor, exporter that discards) and traced with the integration off.
//!
//! The machines are shared and noisy, so the three variants of a client
//! run back to back in rounds; compare each round's traced/raw and take
//! the median.

use std::time::{Duration, Instant};

use census_core::testing::discarding_tracer;
use census_integration_tests::services;
use criterion::{Criterion, criterion_group, criterion_main};
use mysql_async::prelude::Queryable as _;
use tokio::runtime::Runtime;

const ROUNDS: usize = 9;

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
    mut raw: impl FnMut(u64) -> Duration,
    mut traced: impl FnMut(u64) -> Duration,
) {
    // The "used while off" warning, once, outside the measurement.
    integration.set_enabled(false);
    let _ = integration.should_trace();
    let mut group = c.benchmark_group(group);
    for round in 0..ROUNDS {
        group.bench_function(format!("raw/{round}"), |b| b.iter_custom(&mut raw));
        integration.set_enabled(true);
        group.bench_function(format!("traced_sampled/{round}"), |b| {
            b.iter_custom(&mut traced)
        });
        integration.set_enabled(false);
        group.bench_function(format!("traced_disabled/{round}"), |b| {
            b.iter_custom(&mut traced)
        });
    }
    group.finish();
}

fn postgres(c: &mut Criterion, rt: &Runtime) {
    let url = services::postgres_url();
    let connect = || async {
        census::postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| services::unreachable("postgres", &url, &e))
    };
    let (raw, raw_connection) = rt.block_on(connect());
    let (traced, traced_connection) = rt.block_on(connect());
    rt.spawn(raw_connection);
    rt.spawn(traced_connection);
    let raw = raw.into_inner();
    rounds(
        c,
        "tokio_postgres_select_1",
        &census::postgres::INTEGRATION,
        |iters| rt.block_on(timed!(iters, raw.query_one("SELECT 1", &[]))),
        |iters| rt.block_on(timed!(iters, traced.query_one("SELECT 1", &[]))),
    );
}

fn mysql(c: &mut Criterion, rt: &Runtime) {
    let url = services::mysql_url();
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let mut raw = rt
        .block_on(mysql_async::Conn::new(opts.clone()))
        .unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    let mut traced = rt
        .block_on(census::mysql::Traced::connect(opts))
        .unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    rounds(
        c,
        "mysql_async_select_1",
        &census::mysql::INTEGRATION,
        |iters| rt.block_on(timed!(iters, raw.query_drop("SELECT 1"))),
        |iters| rt.block_on(timed!(iters, traced.query_drop("SELECT 1"))),
    );
}

/// One sqlx database: a raw and a traced connection (target from the
/// same connect options), `SELECT 1` on each. A macro: sqlx's connection
/// types share no trait that says all this.
macro_rules! sqlx_rounds {
    ($c:expr, $rt:expr, $group:literal, $service:literal, $url:expr, $connection:ty) => {{
        let url = $url;
        let connect = || {
            $rt.block_on(<$connection as sqlx::Connection>::connect(&url))
                .unwrap_or_else(|e| services::unreachable($service, &url, &e))
        };
        let mut raw = connect();
        let options = url.parse().unwrap();
        let mut traced = census::sqlx::Traced::for_connection(connect(), &options);
        rounds(
            $c,
            $group,
            &census::sqlx::INTEGRATION,
            |iters| $rt.block_on(timed!(iters, sqlx::query("SELECT 1").fetch_one(&mut raw))),
            |iters| {
                $rt.block_on(timed!(
                    iters,
                    sqlx::query("SELECT 1").fetch_one(&mut traced)
                ))
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
