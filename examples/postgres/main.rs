//! The `postgresql` seed: statements through tokio-postgres inside an
//! in-process span, printed as a telemetry tree (or exported as
//! `Tracer::from_env()` says).
//!
//! ```sh
//! eval "$(scripts/services up postgres)"   # or docker compose up --wait postgres
//! cargo run --example postgres
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;

const DEFAULT_URL: &str = "postgres://census:census-Pw-7Q2x@127.0.0.1:5432/census";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("postgres example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["postgres"])?;
    let url = std::env::var("POSTGRES_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let (client, connection) = census::postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .map_err(|e| {
            format!("cannot reach PostgreSQL ({e}); run `eval \"$(scripts/services up postgres)\"` or set POSTGRES_URL")
        })?;
    tokio::spawn(connection);

    tracer
        .in_span("monthly report", async {
            client
                .batch_execute(
                    "CREATE TEMP TABLE orders (id int PRIMARY KEY, customer text, total numeric)",
                )
                .await?;
            // A literal: the span shows `customer = ?`.
            client
                .execute(
                    "INSERT INTO orders VALUES (1, 'alice@example.com', 42.50)",
                    &[],
                )
                .await?;
            let big = client
                .query("SELECT id FROM orders WHERE id > $1", &[&0i32])
                .await?;
            println!("orders: {}", big.len());
            // A failure: the span records SQLSTATE 42P01.
            match client.query("SELECT * FROM missing_table", &[]).await {
                Err(error) => println!("expected failure: {error}"),
                Ok(_) => return Err("missing_table exists".into()),
            }
            Ok::<_, Box<dyn Error>>(())
        })
        .await?;

    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}
