//! The `requests` seed: one GET through census's reqwest client, inside an
//! in-process span, printed as a telemetry tree (or exported as
//! `Tracer::from_env()` says).
//!
//! ```sh
//! cargo run --example reqwest_client -- http://127.0.0.1:8080/
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;

#[path = "../support/mod.rs"]
mod support;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!(
            "reqwest_client example: pass the URL to call, e.g. `cargo run --example reqwest_client -- http://127.0.0.1:8080/`"
        );
        return ExitCode::FAILURE;
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("reqwest_client example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["reqwest"])?;
    let client = census::reqwest::client();
    let outcome = tracer
        .in_span("fetch", async {
            let response =
                client.get(url).send().await.map_err(|e| {
                    format!("the call to {url} failed: {}", support::with_causes(&e))
                })?;
            let status = response.status();
            let body = response.bytes().await?;
            println!("{status}, {} bytes", body.len());
            Ok::<_, Box<dyn Error>>(())
        })
        .await;
    tracer.shutdown(Duration::from_secs(5))?;
    outcome
}
