//! census-sqlx against the real PostgreSQL and MySQL-compatible servers:
//! the typed target from the connect options, sanitized statements, server
//! error codes, transactions and pooled connections.

use census::sqlx::Traced;
use census_integration_tests::{secrets, services};
use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture, names};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use sqlx::{MySqlPool, PgPool};

fn spans() -> &'static SpanCapture {
    capture(&[&census::sqlx::INTEGRATION])
}

fn target(system: &'static str, port: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::new("db.system.name", system),
        KeyValue::new("db.namespace", "census"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", port),
    ]
}

fn select_attributes(system: &'static str, port: i64) -> std::collections::BTreeMap<String, Value> {
    attribute_map(target(system, port).into_iter().chain([
        KeyValue::new(
            "db.query.text",
            "SELECT email FROM users WHERE email = ? AND id > ?",
        ),
        KeyValue::new("db.operation.name", "SELECT"),
        KeyValue::new("db.collection.name", "users"),
        KeyValue::new("db.query.summary", "SELECT users"),
    ]))
}

fn error_code(span: &SpanData) -> (String, String) {
    let a = attributes(span);
    (
        a["error.type"].as_str().into_owned(),
        a["db.response.status_code"].as_str().into_owned(),
    )
}

#[tokio::test]
async fn postgres_pool_connections_and_transactions_are_traced_with_their_target() {
    spans();
    let url = services::postgres_url();
    let pool = Traced::new(
        PgPool::connect(&url)
            .await
            .unwrap_or_else(|e| services::unreachable("postgres", &url, &e)),
    );
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(
        "CREATE TEMP TABLE users (id int PRIMARY KEY, email text UNIQUE NOT NULL);
         INSERT INTO users VALUES (42, 'bob@example.com');",
    )
    .execute(&mut **conn.get_mut())
    .await
    .unwrap();
    let (root, children, _) = spans()
        .traced(async {
            let email: String = sqlx::query_scalar(
                "SELECT email FROM users WHERE email = 'bob@example.com' AND id > 41",
            )
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!(email, "bob@example.com");
            let duplicate = sqlx::query("INSERT INTO users VALUES (1, 'bob@example.com')")
                .execute(&mut conn)
                .await
                .unwrap_err();
            assert!(duplicate.as_database_error().is_some());
            let one: i32 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(one, 1);
        })
        .await;
    assert_eq!(names(&children), ["SELECT users", "INSERT users", "SELECT"]);
    assert!(children.iter().all(
        |s| s.span_kind == SpanKind::Client && s.parent_span_id == root.span_context.span_id()
    ));
    assert_eq!(
        attributes(&children[0]),
        select_attributes("postgresql", 5432)
    );
    assert_eq!(error_code(&children[1]), ("23505".into(), "23505".into()));
    assert!(matches!(children[1].status, Status::Error { .. }));
    secrets::assert_none_of(&["bob@example.com", services::PASSWORD], &children);
}

#[tokio::test]
async fn mysql_pool_connections_and_transactions_are_traced_with_their_target() {
    spans();
    let url = services::mysql_url();
    let pool = Traced::new(
        MySqlPool::connect(&url)
            .await
            .unwrap_or_else(|e| services::unreachable("mysql", &url, &e)),
    );
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(
        "CREATE TEMPORARY TABLE users (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE NOT NULL);
         INSERT INTO users VALUES (42, 'bob@example.com');",
    )
    .execute(&mut **tx.get_mut())
    .await
    .unwrap();
    let (root, children, _) = spans()
        .traced(async {
            let email: String = sqlx::query_scalar(
                "SELECT email FROM users WHERE email = 'bob@example.com' AND id > 41",
            )
            .fetch_one(&mut tx)
            .await
            .unwrap();
            assert_eq!(email, "bob@example.com");
            sqlx::query("INSERT INTO users VALUES (1, 'bob@example.com')")
                .execute(&mut tx)
                .await
                .unwrap_err();
        })
        .await;
    tx.rollback().await.unwrap();
    assert_eq!(names(&children), ["SELECT users", "INSERT users"]);
    assert!(
        children
            .iter()
            .all(|s| s.parent_span_id == root.span_context.span_id())
    );
    // sqlx's MySQL driver does not tell MySQL from MariaDB: `mysql`.
    assert_eq!(attributes(&children[0]), select_attributes("mysql", 3306));
    assert_eq!(error_code(&children[1]), ("1062".into(), "1062".into()));
    secrets::assert_none_of(&["bob@example.com", services::PASSWORD], &children);
}

#[tokio::test]
async fn a_single_connection_takes_its_target_from_its_options() {
    use sqlx::Connection as _;
    spans();
    let url = services::postgres_url();
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    let mut conn = Traced::for_connection(
        sqlx::PgConnection::connect_with(&options)
            .await
            .unwrap_or_else(|e| services::unreachable("postgres", &url, &e)),
        &options,
    );
    let (_, children, _) = spans()
        .traced(sqlx::query("SELECT 1").execute(&mut conn))
        .await;
    assert_eq!(names(&children), ["SELECT"]);
    let a = attributes(&children[0]);
    for kv in target("postgresql", 5432) {
        assert_eq!(a[kv.key.as_str()], kv.value, "{}", kv.key);
    }
}
