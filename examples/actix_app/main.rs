//! The Django seed on actix-web, configured from a settings file
//! (`examples/actix_app/census.toml`, or the file `CENSUS_SETTINGS`
//! names): `GET /` answers `Hello World!`, `GET /users/{id}` looks the user
//! up in SQLite through sqlx, `GET /health` is excluded by the settings.
//! SIGINT or SIGTERM stops the server gracefully, flushes, and exits 0.
//!
//! ```sh
//! PORT=8080 cargo run --example actix_app
//! curl localhost:8080/users/42
//! ```

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use census::settings::Settings;
use census::sqlx::Traced;
use sqlx::SqlitePool;

#[path = "../support/port.rs"]
mod port;

const SETTINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/actix_app/census.toml");

#[actix_web::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix_app example: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let path = std::env::var("CENSUS_SETTINGS").unwrap_or_else(|_| SETTINGS.to_owned());
    let settings = Settings::from_file(&path)?.with_env()?;
    let tracer = settings.tracer()?;
    census::config_integration::try_trace_integrations(&["actix", "sqlx"])?;
    let db = Traced::new(SqlitePool::connect("sqlite::memory:").await?);
    let hooks = settings.http_hooks();
    let port = port::port()?;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(census::actix::Trace::new().hooks(hooks.clone()))
            .app_data(web::Data::new(db.clone()))
            .route("/", web::get().to(|| async { "Hello World!" }))
            .route("/users/{id}", web::get().to(user))
            .route("/health", web::get().to(|| async { "ok" }))
    })
    .workers(2)
    .bind(("127.0.0.1", port))
    .map_err(|e| format!("cannot listen on 127.0.0.1:{port} ({e}); set PORT to a free port"))?;
    println!("listening on http://127.0.0.1:{port}");
    // actix stops gracefully on SIGINT and SIGTERM by itself.
    server.run().await?;
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

async fn user(db: web::Data<Traced<SqlitePool>>, id: web::Path<i64>) -> String {
    let name: Result<String, _> = sqlx::query_scalar("SELECT 'user-' || ?")
        .bind(id.into_inner())
        .fetch_one(db.get_ref())
        .await;
    name.unwrap_or_else(|e| format!("lookup failed: {e}"))
}
