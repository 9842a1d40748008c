//! What tracing costs a sqlx call, against the raw client in the same run:
//! the same SQLite query on one connection, raw; traced and sampled
//! (`ProbabilitySampler` at 100%, batch processor, exporter that discards);
//! traced with the integration off; traced but not sampled (0%). The
//! `uncached` pair sends a new text every call (a literal built into it),
//! so every traced call misses the statement cache and is sanitized anew.
//! The point of comparison is what sqlx users do without census: a
//! `tracing` span around each query, sqlx's own statement logging as its
//! event, and `tracing-opentelemetry` turning both into OpenTelemetry on
//! the same provider.

use std::time::{Duration, Instant};

use census_core::model::{DbSystem, Target};
use census_pipeline::testing::discarding_tracer;
use census_sqlx::Traced;
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::TracerProvider as _;
use sqlx::{Connection, Executor, Sqlite, SqliteConnection};
use tracing_subscriber::layer::SubscriberExt as _;

const QUERY: &str = "SELECT name, price FROM products WHERE sku = ? AND status = 'active'";

async fn connection() -> SqliteConnection {
    let mut conn = SqliteConnection::connect("sqlite::memory:").await.unwrap();
    conn.execute(
        "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL, status TEXT);
         INSERT INTO products VALUES ('sku-42', 'teapot', 42.5, 'active');",
    )
    .await
    .unwrap();
    conn
}

/// Times `iters` runs of the query on `executor`.
async fn run<X>(executor: &mut X, iters: u64) -> Duration
where
    for<'a> &'a mut X: Executor<'a, Database = Sqlite>,
{
    let start = Instant::now();
    for _ in 0..iters {
        let row = sqlx::query(QUERY)
            .bind("sku-42")
            .fetch_optional(&mut *executor)
            .await
            .unwrap();
        assert!(row.is_some());
    }
    start.elapsed()
}

/// [`run`] on a raw connection, each query in a `tracing` span that
/// sqlx's statement log lands in.
async fn run_in_spans(conn: &mut SqliteConnection, iters: u64) -> Duration {
    use tracing::Instrument as _;
    let start = Instant::now();
    for _ in 0..iters {
        let row = sqlx::query(QUERY)
            .bind("sku-42")
            .fetch_optional(&mut *conn)
            .instrument(tracing::info_span!("sqlx.query"))
            .await
            .unwrap();
        assert!(row.is_some());
    }
    start.elapsed()
}

/// Times `iters` runs of queries whose texts differ in a literal, as code
/// that formats values into SQL sends them.
async fn run_uncached<X>(executor: &mut X, iters: u64, offset: u64) -> Duration
where
    for<'a> &'a mut X: Executor<'a, Database = Sqlite>,
{
    let texts: Vec<String> = (offset..offset + iters)
        .map(|i| format!("SELECT name, price FROM products WHERE sku = 'sku-42' AND price < {i}.5"))
        .collect();
    let start = Instant::now();
    for text in &texts {
        let _ = sqlx::query(sqlx::AssertSqlSafe(text.as_str()))
            .fetch_optional(&mut *executor)
            .await
            .unwrap();
    }
    start.elapsed()
}

fn overhead(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut raw = rt.block_on(connection());
    let mut traced = Traced::with_target(
        rt.block_on(connection()),
        DbSystem::Sqlite,
        Target::new().with_namespace(":memory:"),
    );
    let mut group = c.benchmark_group("sqlite_fetch_optional");

    group.bench_function("raw", |b| {
        b.iter_custom(|iters| rt.block_on(run::<SqliteConnection>(&mut raw, iters)))
    });

    let sampled = discarding_tracer(Some(1.0));
    census_sqlx::INTEGRATION.set_enabled(true);
    group.bench_function("traced_sampled", |b| {
        b.iter_custom(|iters| rt.block_on(run::<Traced<SqliteConnection>>(&mut traced, iters)))
    });

    // Scoped to this thread and this bench: a global subscriber would make
    // every other variant's sqlx calls log too.
    let subscriber = tracing_subscriber::registry().with(
        tracing_opentelemetry::layer().with_tracer(sampled.provider().tracer("sqlx-tracing")),
    );
    tracing::subscriber::with_default(subscriber, || {
        group.bench_function("tracing_opentelemetry", |b| {
            b.iter_custom(|iters| rt.block_on(run_in_spans(&mut raw, iters)))
        });
    });

    // Fresh texts every run: neither SQLite's nor census's cache helps.
    let mut offset = 0;
    group.bench_function("raw_uncached", |b| {
        b.iter_custom(|iters| {
            offset += iters;
            rt.block_on(run_uncached::<SqliteConnection>(&mut raw, iters, offset))
        })
    });
    group.bench_function("traced_sampled_uncached", |b| {
        b.iter_custom(|iters| {
            offset += iters;
            rt.block_on(run_uncached::<Traced<SqliteConnection>>(
                &mut traced,
                iters,
                offset,
            ))
        })
    });

    census_sqlx::INTEGRATION.set_enabled(false);
    // Use up the one "used while off" warning outside the measurement.
    assert!(!census_sqlx::INTEGRATION.should_trace());
    group.bench_function("traced_disabled", |b| {
        b.iter_custom(|iters| rt.block_on(run::<Traced<SqliteConnection>>(&mut traced, iters)))
    });

    let unsampled = discarding_tracer(Some(0.0));
    census_sqlx::INTEGRATION.set_enabled(true);
    group.bench_function("traced_unsampled", |b| {
        b.iter_custom(|iters| rt.block_on(run::<Traced<SqliteConnection>>(&mut traced, iters)))
    });

    group.bench_function("raw_again", |b| {
        b.iter_custom(|iters| rt.block_on(run::<SqliteConnection>(&mut raw, iters)))
    });
    group.finish();
    sampled.shutdown(Duration::from_secs(5)).unwrap();
    unsampled
        .shutdown(std::time::Duration::from_secs(5))
        .unwrap();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = overhead
}
criterion_main!(benches);
