//! The `pymongo` seed: commands through the MongoDB driver inside an
//! in-process span, printed as a telemetry tree (or exported as
//! `Tracer::from_env()` says).
//!
//! ```sh
//! eval "$(scripts/services up mongodb)"   # or docker compose up --wait mongo
//! cargo run --example mongodb
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;
use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;

const DEFAULT_URL: &str = "mongodb://127.0.0.1:27017/census";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mongodb example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["mongodb"])?;
    let url = std::env::var("MONGODB_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut options = ClientOptions::parse(&url).await?;
    options.server_selection_timeout = Some(Duration::from_secs(5));
    // The command text, with every value masked, is opt-in.
    census::mongodb::Commands::new()
        .capture_text(true)
        .install(&mut options);
    let client = mongodb::Client::with_options(options)?;
    let orders = client
        .database("census_example")
        .collection::<Document>("orders");

    tracer
        .in_span("monthly report", async {
            orders.drop().await.map_err(|e| {
                format!("cannot reach MongoDB ({e}); run `eval \"$(scripts/services up mongodb)\"` or set MONGODB_URL")
            })?;
            // A literal: the span shows `"customer": ?`.
            orders
                .insert_one(doc! { "_id": 1, "customer": "alice@example.com", "total": 42.5 })
                .await?;
            let big = orders.count_documents(doc! { "total": { "$gt": 10 } }).await?;
            println!("orders over 10: {big}");
            // A failure: the span records code 11000 (duplicate key).
            match orders.insert_one(doc! { "_id": 1 }).await {
                Err(error) => println!("expected failure: {error}"),
                Ok(_) => return Err("the duplicate was accepted".into()),
            }
            Ok::<_, Box<dyn Error>>(())
        })
        .await?;

    client.shutdown().await;
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}
