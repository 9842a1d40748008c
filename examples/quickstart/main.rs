//! census quickstart: one process, no services, no configuration.
//!
//! An axum shop server on a loopback port is called a few times through the
//! traced reqwest client. Each order request does in-process work, a SQLite
//! query through sqlx and an HTTP call to the server's own stock route, so
//! one operation crosses a process boundary through `traceparent`. The
//! telemetry prints as trees; with `CENSUS_EXPORT_JSONL=PATH` it is also
//! written as JSON lines, with `APPLICATIONINSIGHTS_CONNECTION_STRING` it
//! goes to Application Insights and with `OTEL_EXPORTER_OTLP_ENDPOINT` to an
//! OpenTelemetry Collector instead of the console.
//!
//! ```text
//! cargo run --example quickstart
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use census::prelude::*;
use census::reqwest::TracingMiddleware;
use census::sqlx::Traced;
use census::tower::TraceLayer;
use reqwest_middleware::ClientWithMiddleware;
use sqlx::{Row, SqlitePool};

#[derive(Clone)]
struct Shop {
    tracer: Tracer,
    db: Traced<SqlitePool>,
    http: ClientWithMiddleware,
    base: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    // The message, not the `Debug` form `main` would print for an error:
    // a wrong variable should read as what to fix.
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("census quickstart: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    // Console trees unless the environment names another exporter
    // (Application Insights, OTLP), plus JSON lines when CENSUS_EXPORT_JSONL
    // is set.
    let tracer = Tracer::from_env()?;
    census::config_integration::try_trace_integrations(&["axum", "requests", "sqlx"])?;

    let db = Traced::new(SqlitePool::connect("sqlite::memory:").await?);
    // Seeding goes around the tracing: it is set-up, not part of a request.
    sqlx::raw_sql(
        "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, price REAL, status TEXT);
         INSERT INTO products VALUES
           ('sku-1', 'kettle', 25.0, 'active'),
           ('sku-42', 'teapot', 42.5, 'active');",
    )
    .execute(db.get_ref())
    .await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(TracingMiddleware::new())
        .build();
    let shop = Shop {
        tracer: tracer.clone(),
        db,
        http: http.clone(),
        base: base.clone(),
    };
    let app = Router::new()
        .route("/orders/{sku}", get(order))
        .route("/stock/{sku}", get(stock))
        .layer(TraceLayer::new())
        .with_state(shop);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    println!("census quickstart: shop server on {base}\n");
    for sku in ["sku-42", "sku-1", "sku-404"] {
        let response = http.get(format!("{base}/orders/{sku}")).send().await?;
        println!(
            "GET /orders/{sku} -> {} {}",
            response.status(),
            response.text().await?
        );
    }

    let _ = stop.send(());
    server.await??;
    println!("\ntelemetry:\n");
    // Flushes the batch exporters: the trees print (or are sent) here.
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

/// An order: in-process validation, a database lookup and a stock call.
async fn order(State(shop): State<Shop>, Path(sku): Path<String>) -> (StatusCode, String) {
    {
        let _span = shop.tracer.span("validate order");
        if !sku.starts_with("sku-") {
            return (StatusCode::BAD_REQUEST, "bad sku".into());
        }
    }
    let product =
        sqlx::query("SELECT name, price FROM products WHERE sku = ? AND status = 'active'")
            .bind(&sku)
            .fetch_optional(&shop.db)
            .await;
    let (name, price) = match product {
        Ok(Some(row)) => (row.get::<String, _>("name"), row.get::<f64, _>("price")),
        Ok(None) => return (StatusCode::NOT_FOUND, format!("no product {sku}")),
        Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    };
    let stock = match shop
        .http
        .get(format!("{}/stock/{sku}", shop.base))
        .send()
        .await
    {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()),
    };
    (
        StatusCode::OK,
        format!("{name} at {price:.2}, {stock} in stock"),
    )
}

/// The stock service; in a real deployment, another process.
async fn stock(Path(sku): Path<String>) -> String {
    let units = sku.bytes().map(u32::from).sum::<u32>() % 17;
    units.to_string()
}
