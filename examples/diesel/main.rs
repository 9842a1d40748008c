//! census with diesel: switching the `diesel` integration on makes census
//! diesel's default instrumentation, so the connection below is traced
//! without any change to it. A few statements run inside an in-process
//! span (one with string literals, which never reach telemetry, and one
//! that fails), and the telemetry prints as a tree; with
//! `CENSUS_EXPORT_JSONL=PATH` it is also written as JSON lines.
//!
//! ```text
//! cargo run --example diesel --features diesel-backends                  # SQLite, in memory
//! cargo run --example diesel --features diesel-backends -- --db postgres # POSTGRES_URL
//! cargo run --example diesel --features diesel-backends -- --db mysql    # MYSQL_URL (MySQL or MariaDB)
//! ```
//!
//! `diesel-backends` turns on diesel's PostgreSQL and MySQL backends, which
//! link the system's libpq and MySQL client library (Debian:
//! `apt-get install libpq-dev default-libmysqlclient-dev`); no other
//! example needs them.
//!
//! The server URLs default to the ones `scripts/services up` prepares.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use census::prelude::*;
use diesel::prelude::*;
use diesel::query_builder::SqlQuery;
use diesel::query_dsl::methods::ExecuteDsl;

const USAGE: &str = "usage: diesel [--db postgres|mysql|sqlite]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("census diesel example: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let db = database(std::env::args().skip(1))?;
    let tracer = Tracer::from_env()?;
    // Before connecting: connections pick the default instrumentation up
    // when they are established.
    census::config_integration::try_trace_integrations(&["diesel"])?;

    match db.as_str() {
        "postgres" => {
            let url = env_or(
                "POSTGRES_URL",
                "postgres://census:census-Pw-7Q2x@127.0.0.1:5432/census",
            );
            restock(&tracer, &mut PgConnection::establish(&url)?)?;
        }
        "mysql" => {
            let url = env_or(
                "MYSQL_URL",
                "mysql://census:census-Pw-7Q2x@127.0.0.1:3306/census",
            );
            restock(&tracer, &mut MysqlConnection::establish(&url)?)?;
        }
        _ => restock(&tracer, &mut SqliteConnection::establish(":memory:")?)?,
    }

    println!("\ntelemetry:\n");
    // Flushes the batch exporters: the tree prints (or is sent) here.
    tracer.shutdown(Duration::from_secs(5))?;
    Ok(())
}

/// `--db NAME`, SQLite when not given.
fn database(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut db = "sqlite".to_owned();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--db", Some(name)) if ["postgres", "mysql", "sqlite"].contains(&name.as_str()) => {
                db = name;
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    Ok(db)
}

fn env_or(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

/// Statements of one in-process operation; each is a Client span under it.
fn restock<C>(tracer: &Tracer, conn: &mut C) -> QueryResult<()>
where
    C: Connection,
    SqlQuery: ExecuteDsl<C>,
{
    let _span = tracer.span("restock");
    // A temporary table: nothing is left behind on a shared server.
    conn.batch_execute(
        "CREATE TEMPORARY TABLE products (sku VARCHAR(20) PRIMARY KEY, name VARCHAR(50), stock INT)",
    )?;
    conn.batch_execute(
        "INSERT INTO products VALUES ('sku-1', 'kettle', 3), ('sku-42', 'teapot', 0)",
    )?;
    conn.transaction(|conn| {
        diesel::sql_query("UPDATE products SET stock = stock + 5 WHERE sku = 'sku-42'")
            .execute(conn)
    })?;
    let removed = diesel::sql_query("DELETE FROM products WHERE stock = 0").execute(conn)?;
    println!("restocked; {removed} products still out of stock removed");
    // Fails: the SKU is taken. The span records the error, without the value.
    match conn.batch_execute("INSERT INTO products VALUES ('sku-1', 'kettle again', 1)") {
        Ok(()) => println!("unexpectedly inserted a duplicate"),
        Err(diesel::result::Error::DatabaseError(kind, _)) => {
            println!("duplicate insert refused ({kind:?})");
        }
        Err(other) => return Err(other),
    }
    Ok(())
}
