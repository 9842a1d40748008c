//! Spans produced by traced sqlx calls, checked exactly, on real SQLite.

use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture};
use census_sqlx::Traced;
use futures_util::StreamExt;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::{Connection, Row};

fn spans() -> &'static SpanCapture {
    capture(&[&census_sqlx::INTEGRATION])
}

async fn pool(name: &str) -> Traced<SqlitePool> {
    let path = std::env::temp_dir().join(format!("census-sqlx-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = Traced::new(SqlitePool::connect_with(options).await.unwrap());
    sqlx::raw_sql(
        "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL);
         INSERT INTO products VALUES ('sku-1', 'kettle', 25.0), ('sku-42', 'teapot', 42.5);",
    )
    .execute(pool.get_ref())
    .await
    .unwrap();
    pool
}

fn namespace(pool: &Traced<SqlitePool>) -> String {
    pool.get_ref()
        .connect_options()
        .get_filename()
        .to_string_lossy()
        .into_owned()
}

async fn traced<F: Future>(work: F) -> (SpanData, Vec<SpanData>, F::Output) {
    spans().traced(work).await
}

#[tokio::test]
async fn query_with_literals_becomes_a_sanitized_client_span_under_the_caller() {
    let pool = pool("select").await;
    let (root, children, row) = traced(async {
        sqlx::query("SELECT name, price FROM products WHERE sku = 'sku-42' AND price > 10")
            .fetch_one(&pool)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(row.get::<String, _>("name"), "teapot");
    let [span] = children.as_slice() else {
        panic!("{children:#?}")
    };
    assert_eq!(span.name, "SELECT products");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.span_context.trace_id(), root.span_context.trace_id());
    assert_eq!(span.status, Status::Unset);
    assert_eq!(span.instrumentation_scope.name(), "census-sqlx");
    assert_eq!(
        attributes(span),
        attribute_map([
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.namespace", namespace(&pool)),
            KeyValue::new(
                "db.query.text",
                "SELECT name, price FROM products WHERE sku = ? AND price > ?"
            ),
            KeyValue::new("db.operation.name", "SELECT"),
            KeyValue::new("db.collection.name", "products"),
            KeyValue::new("db.query.summary", "SELECT products"),
        ])
    );
    let dump = format!("{:?}", span.attributes);
    assert!(
        !dump.contains("sku-42") && !dump.contains("> 10"),
        "literal leaked: {dump}"
    );
}

#[tokio::test]
async fn every_executor_method_is_traced_once_through_pools_connections_and_transactions() {
    let pool = pool("methods").await;
    let (root, children, _) = traced(async {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO products VALUES (?, ?, ?)")
            .bind("sku-7")
            .bind("cup")
            .bind(3.5)
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut conn = pool.acquire().await.unwrap();
        let all = sqlx::query("SELECT sku FROM products ORDER BY sku")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        let none = sqlx::query("DELETE FROM products WHERE price > 1000")
            .fetch_optional(&pool)
            .await
            .unwrap();
        assert!(none.is_none());
    })
    .await;
    let names: Vec<&str> = children.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(
        names,
        ["INSERT products", "SELECT products", "DELETE products",],
        "{children:#?}"
    );
    for span in &children {
        assert_eq!(
            span.parent_span_id,
            root.span_context.span_id(),
            "{}",
            span.name
        );
        assert_eq!(span.span_kind, SpanKind::Client);
    }
    let insert = &children[0];
    assert_eq!(
        attributes(insert)["db.query.text"],
        Value::from("INSERT INTO products VALUES (?, ?, ?)")
    );
}

#[tokio::test]
async fn failures_record_error_type_status_and_an_exception_without_values() {
    let pool = pool("failure").await;
    let (_, children, result) = traced(async {
        sqlx::query("INSERT INTO products VALUES ('sku-1', 'hunter2', 1.0)")
            .execute(&pool)
            .await
    })
    .await;
    let error = result.unwrap_err();
    assert!(error.as_database_error().is_some(), "{error}");
    let [span] = children.as_slice() else {
        panic!("{children:#?}")
    };
    assert_eq!(span.name, "INSERT products");
    assert_eq!(
        span.status,
        Status::error(
            "error returned from database: (code: 1555) UNIQUE constraint failed: products.sku"
        )
    );
    let attrs = attributes(span);
    assert_eq!(attrs["error.type"], Value::from("1555"), "{attrs:?}");
    assert_eq!(
        attrs["db.response.status_code"],
        Value::from("1555"),
        "{attrs:?}"
    );
    let [event] = span.events.events.as_slice() else {
        panic!("{:?}", span.events)
    };
    assert_eq!(event.name, "exception");
    assert_eq!(
        event.attributes,
        vec![
            KeyValue::new("exception.type", "1555"),
            KeyValue::new(
                "exception.message",
                "error returned from database: (code: 1555) UNIQUE constraint failed: products.sku"
            ),
        ]
    );
    assert!(!format!("{span:?}").contains("hunter2"));
}

#[tokio::test]
async fn single_connection_with_explicit_target() {
    let conn = sqlx::SqliteConnection::connect("sqlite::memory:")
        .await
        .unwrap();
    let mut conn = Traced::with_target(
        conn,
        census_core::model::DbSystem::Sqlite,
        census_core::model::Target::new().with_namespace("memory"),
    );
    let (root, children, value) = traced(async {
        sqlx::query_scalar::<_, i64>("SELECT 6 * 7")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    })
    .await;
    assert_eq!(value, 42);
    let [span] = children.as_slice() else {
        panic!("{children:#?}")
    };
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.name, "SELECT");
    assert_eq!(
        attributes(span),
        attribute_map([
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.namespace", "memory"),
            KeyValue::new("db.query.text", "SELECT ? * ?"),
            KeyValue::new("db.operation.name", "SELECT"),
            KeyValue::new("db.query.summary", "SELECT"),
        ])
    );
    assert!(!Context::current().has_active_span());
}

#[tokio::test]
async fn a_stream_dropped_early_ends_its_span_when_dropped_not_before() {
    let pool = pool("abandoned").await;
    let (cx, trace_id) = spans().root("test");
    async {
        let mut stream = sqlx::query("SELECT sku FROM products").fetch(&pool);
        assert!(stream.next().await.unwrap().is_ok());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(
            spans().spans(trace_id).is_empty(),
            "the span lasts while the caller holds the stream"
        );
        drop(stream);
        let ended = spans().spans(trace_id);
        let [select] = ended.as_slice() else {
            panic!("the span ends when the stream is dropped: {ended:#?}")
        };
        assert_eq!(select.name, "SELECT products");
        assert_eq!(select.status, Status::Unset);
        let lasted = select.end_time.duration_since(select.start_time).unwrap();
        assert!(lasted >= std::time::Duration::from_millis(50), "{lasted:?}");
    }
    .with_context(cx)
    .await;
}

/// Every query is measured, sampled or not:
/// `db.client.operation.duration` by operation and table, with the code
/// of a failure.
#[tokio::test]
async fn every_query_is_measured_by_operation_and_table_sampled_or_not() {
    let metrics = census_pipeline::testing::metrics();
    let pool = pool("metered").await;
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    let unsampled = || Context::new().with_remote_span_context(caller.clone());
    let insert = "INSERT INTO products VALUES ('sku-7', 'mug', 7.0)";
    let (_, _, inserted) = traced(async { sqlx::query(insert).execute(&pool).await }).await;
    inserted.unwrap();
    sqlx::query("SELECT name FROM products WHERE sku = 'sku-7'")
        .fetch_one(&pool)
        .with_context(unsampled())
        .await
        .unwrap();
    sqlx::query(insert)
        .execute(&pool)
        .with_context(unsampled())
        .await
        .unwrap_err();

    let namespace = namespace(&pool);
    let metric = |operation: &'static str, extra: &[(&'static str, Value)]| {
        attribute_map(
            [
                KeyValue::new("db.system.name", "sqlite"),
                KeyValue::new("db.namespace", namespace.clone()),
                KeyValue::new("db.operation.name", operation),
                KeyValue::new("db.collection.name", "products"),
            ]
            .into_iter()
            .chain(extra.iter().map(|(k, v)| KeyValue::new(*k, v.clone()))),
        )
    };
    let wanted = census_pipeline::testing::sorted_counts(vec![
        (metric("INSERT", &[]), 1),
        (metric("SELECT", &[]), 1),
        (
            metric(
                "INSERT",
                &[
                    ("error.type", "1555".into()),
                    ("db.response.status_code", "1555".into()),
                ],
            ),
            1,
        ),
    ]);
    assert_eq!(
        metrics.counts(
            "db.client.operation.duration",
            &[("db.namespace", namespace.clone().into())],
            "census-sqlx"
        ),
        wanted
    );
}
