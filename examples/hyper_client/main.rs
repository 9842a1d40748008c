//! The `httplib` seed: one GET through hyper-util's client with census's
//! client layer, inside an in-process span, printed as a telemetry tree (or
//! exported as `Tracer::from_env()` says).
//!
//! ```sh
//! cargo run --example hyper_client -- http://127.0.0.1:8080/
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{Layer, ServiceExt};

#[path = "../support/mod.rs"]
mod support;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!(
            "hyper_client example: pass the URL to call, e.g. `cargo run --example hyper_client -- http://127.0.0.1:8080/`"
        );
        return ExitCode::FAILURE;
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hyper_client example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["hyper"])?;
    let uri: http::Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a URL ({e}); pass e.g. http://127.0.0.1:8080/"))?;
    let client = census::hyper::TraceClientLayer::new()
        .layer(Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>());
    let outcome = tracer
        .in_span("fetch", async {
            let request = http::Request::get(uri).body(Empty::new())?;
            let response = client
                .oneshot(request)
                .await
                .map_err(|e| format!("the call to {url} failed: {}", support::with_causes(&e)))?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            println!("{status}, {} bytes", body.len());
            Ok::<_, Box<dyn Error>>(())
        })
        .await;
    tracer.shutdown(Duration::from_secs(5))?;
    outcome
}
