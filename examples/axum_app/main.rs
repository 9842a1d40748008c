//! The Flask/FastAPI seed on axum: `GET /` answers `Hello World!`, `GET
//! /users/{id}` looks the user up in SQLite through sqlx (users have
//! positive ids; others are 404), `GET /orders/{id}` fails (its table is
//! missing: 500, logged as an error), `GET /health` is excluded from
//! tracing. Telemetry goes where `Tracer::from_env()` says (a tree on the
//! console by default), the `tracing` events at `CENSUS_LOG_FILTER`'s
//! levels (`info`) with it, each under the request that wrote it; SIGINT
//! or SIGTERM stops the server gracefully, flushes, and exits 0.
//!
//! ```sh
//! PORT=8080 cargo run --example axum_app
//! curl localhost:8080/users/42
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use census::http::{Exclusions, HttpHooks};
use census::prelude::*;
use census::sqlx::Traced;
use sqlx::SqlitePool;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[path = "../support/port.rs"]
mod port;
#[path = "../support/signal.rs"]
mod signal;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum_app example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let tracer = Tracer::from_env()?;
    tracing_subscriber::registry()
        .with(census::tracing::logs_layer(
            &tracer,
            census::tracing::log_filter_from_env()?,
        ))
        .try_init()?;
    census::config_integration::try_trace_integrations(&["axum", "sqlx"])?;
    let db = Traced::new(SqlitePool::connect("sqlite::memory:").await?);
    let hooks = HttpHooks::new().exclusions(Exclusions::new().path("/health"));
    let app = Router::new()
        .route("/", get(|| async { "Hello World!" }))
        .route("/users/{id}", get(user))
        .route("/orders/{id}", get(order))
        .route("/health", get(|| async { "ok" }))
        .with_state(db)
        .layer(census::tower::TraceLayer::new().hooks(hooks));
    let port = port::port()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port} ({e}); set PORT to a free port"))?;
    println!("listening on http://127.0.0.1:{port}");
    tracing::info!(port, "axum_app listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(signal::stop())
        .await?;
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

async fn user(
    State(db): State<Traced<SqlitePool>>,
    Path(id): Path<i64>,
) -> Result<String, (StatusCode, String)> {
    tracing::info!(user_id = id, "looking up user");
    let name: Option<String> = sqlx::query_scalar("SELECT 'user-' || ? WHERE ? > 0")
        .bind(id)
        .bind(id)
        .fetch_optional(&db)
        .await
        .map_err(|e| {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("lookup failed: {e}"),
            )
        })?;
    name.ok_or((StatusCode::NOT_FOUND, format!("no user {id}")))
}

async fn order(
    State(db): State<Traced<SqlitePool>>,
    Path(id): Path<i64>,
) -> Result<String, StatusCode> {
    sqlx::query_scalar("SELECT item FROM orders WHERE id = ?")
        .bind(id)
        .fetch_one(&db)
        .await
        .map_err(|error| {
            tracing::error!(order_id = id, error = %error, "order lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR
        })
}
