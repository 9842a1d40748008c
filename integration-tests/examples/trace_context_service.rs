//! The test service of the W3C Trace Context test suite
//! (<https://github.com/w3c/trace-context>, folder `test/`), built from
//! census's axum middleware and reqwest client with census's default
//! propagators. The suite is not part of this repository: fetch it, then
//!
//! ```text
//! cargo run -p census-integration-tests --example trace_context_service &
//! pip install aiohttp
//! SPEC_LEVEL=2 python test/test.py http://127.0.0.1:5000/test
//! ```
//!
//! `POST /test` takes a JSON array of `{"url", "arguments"}` and, for
//! each, posts `arguments` to `url` through census's client, inside the
//! Server span of the request, so the harness sees what census sends on.

use axum::Router;
use axum::routing::post;
use serde_json::Value;

fn main() {
    let _tracer = census_pipeline::testing::discarding_tracer(None);
    census::config_integration::trace_integrations(&["tower", "reqwest"]);
    let address = std::env::var("SERVICE_ADDRESS").unwrap_or_else(|_| "127.0.0.1:5000".into());
    let app = Router::new()
        .route("/test", post(test))
        .layer(census::tower::TraceLayer::new());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&address)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"));
        eprintln!("trace context test service on http://{address}/test");
        axum::serve(listener, app).await.expect("the server runs");
    });
}

/// Calls each `url` of the harness's instructions with its `arguments`.
async fn test(body: String) -> &'static str {
    let client = census::reqwest::client();
    let Ok(Value::Array(calls)) = serde_json::from_str::<Value>(&body) else {
        return "expected a JSON array";
    };
    for call in calls {
        let (Some(url), Some(arguments)) = (call["url"].as_str(), call.get("arguments")) else {
            continue;
        };
        // The harness times out a call it does not hear; an error here
        // shows there, as the test that failed.
        let _ = client
            .post(url)
            .header("content-type", "application/json")
            .body(arguments.to_string())
            .send()
            .await;
    }
    "ok"
}
