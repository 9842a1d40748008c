//! The sqlx seed: statements through a traced sqlx pool inside an
//! in-process span, printed as a telemetry tree (or exported as
//! `Tracer::from_env()` says).
//!
//! ```sh
//! cargo run --example sqlx                    # SQLite in memory
//! cargo run --example sqlx -- --db postgres   # POSTGRES_URL
//! cargo run --example sqlx -- --db mysql      # MYSQL_URL
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;
use census::sqlx::Traced;

/// The same statements on any database, on one connection so that the
/// temporary table is visible to each (a macro: sqlx's generic bounds over
/// databases say less than the three calls).
macro_rules! report {
    ($tracer:expr, $pool:expr, $int:literal) => {{
        let pool = $pool;
        let mut conn = pool.acquire().await?;
        $tracer
            .in_span("monthly report", async {
                sqlx::query(concat!(
                    "CREATE TEMPORARY TABLE orders (id ",
                    $int,
                    " PRIMARY KEY, customer VARCHAR(100))"
                ))
                .execute(&mut conn)
                .await?;
                // A literal: the span shows `customer = ?`.
                sqlx::query("INSERT INTO orders VALUES (1, 'alice@example.com')")
                    .execute(&mut conn)
                    .await?;
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
                    .fetch_one(&mut conn)
                    .await?;
                println!("orders: {count}");
                // A failure: the span records the database's error code.
                match sqlx::query("SELECT * FROM missing_table")
                    .execute(&mut conn)
                    .await
                {
                    Err(error) => println!("expected failure: {error}"),
                    Ok(_) => return Err("missing_table exists".into()),
                }
                Ok::<_, Box<dyn Error>>(())
            })
            .await?;
    }};
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sqlx example: {error}");
            ExitCode::FAILURE
        }
    }
}

fn url(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

async fn run() -> Result<(), Box<dyn Error>> {
    let db = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => "sqlite".to_owned(),
        [flag, db] if flag == "--db" => db.clone(),
        _ => return Err("usage: sqlx [--db postgres|mysql|sqlite]".into()),
    };
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["sqlx"])?;
    let unreachable = |e: sqlx::Error| {
        format!(
            "cannot reach {db} ({e}); run `eval \"$(scripts/services up {db})\"` or set its URL"
        )
    };
    match db.as_str() {
        "sqlite" => {
            let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
            report!(tracer, Traced::new(pool), "INTEGER");
        }
        "postgres" => {
            let url = url(
                "POSTGRES_URL",
                "postgres://census:census-Pw-7Q2x@127.0.0.1:5432/census",
            );
            let pool = sqlx::PgPool::connect(&url).await.map_err(unreachable)?;
            report!(tracer, Traced::new(pool), "int");
        }
        "mysql" => {
            let url = url(
                "MYSQL_URL",
                "mysql://census:census-Pw-7Q2x@127.0.0.1:3306/census",
            );
            let pool = sqlx::MySqlPool::connect(&url).await.map_err(unreachable)?;
            report!(tracer, Traced::new(pool), "INT");
        }
        other => {
            return Err(
                format!("unknown database `{other}`: use postgres, mysql or sqlite").into(),
            );
        }
    }
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}
