//! The `mysql` / `pymysql` seed: statements through mysql_async inside an
//! in-process span, printed as a telemetry tree (or exported as
//! `Tracer::from_env()` says).
//!
//! ```sh
//! eval "$(scripts/services up mysql)"   # or docker compose up --wait mysql
//! cargo run --example mysql
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::mysql::Traced;
use census::prelude::*;

const DEFAULT_URL: &str = "mysql://census:census-Pw-7Q2x@127.0.0.1:3306/census";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mysql example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["mysql"])?;
    let url = std::env::var("MYSQL_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let pool = Traced::pool(mysql_async::Opts::from_url(&url)?);
    let mut conn = pool.get_conn().await.map_err(|e| {
        format!(
            "cannot reach MySQL ({e}); run `eval \"$(scripts/services up mysql)\"` or set MYSQL_URL"
        )
    })?;

    tracer
        .in_span("monthly report", async {
            conn.query_drop(
                "CREATE TEMPORARY TABLE orders (id INT PRIMARY KEY, customer VARCHAR(100), total DECIMAL(10,2))",
            )
            .await?;
            // A literal: the span shows `customer = ?`.
            conn.query_drop("INSERT INTO orders VALUES (1, 'alice@example.com', 42.50)")
                .await?;
            let big: Vec<i32> = conn
                .exec("SELECT id FROM orders WHERE total > ?", (10,))
                .await?;
            println!("orders over 10: {}", big.len());
            // A failure: the span records error 1146.
            match conn.query_drop("SELECT * FROM missing_table").await {
                Err(error) => println!("expected failure: {error}"),
                Ok(()) => return Err("missing_table exists".into()),
            }
            Ok::<_, Box<dyn Error>>(())
        })
        .await?;

    drop(conn);
    pool.disconnect().await?;
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}
