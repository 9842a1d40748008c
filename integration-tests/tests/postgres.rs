//! census-postgres against a real PostgreSQL server: exact spans for
//! queries, failures, transactions, prepared statements, streams and
//! cancellation, and no secret in anything exported.

use std::time::Duration;

use census::postgres::{Traced, connect};
use census_integration_tests::{secrets, services};
use census_pipeline::testing::{SpanCapture, attributes, capture, names};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use tokio_postgres::Client;

fn spans() -> &'static SpanCapture {
    capture(&[&census::postgres::INTEGRATION])
}

/// A traced client on its own connection, with a temporary `users` table
/// that only this connection sees (tests run in parallel).
async fn client() -> Traced<Client> {
    spans();
    let url = services::postgres_url();
    let (client, connection) = match connect(&url, tokio_postgres::NoTls).await {
        Ok(pair) => pair,
        Err(error) => services::unreachable("postgres", &url, &error),
    };
    tokio::spawn(connection);
    client
        .get_ref()
        .batch_execute(
            "CREATE TEMP TABLE users (id int PRIMARY KEY, email text UNIQUE NOT NULL);
             INSERT INTO users VALUES (1, 'ann@example.com'), (42, 'bob@example.com');",
        )
        .await
        .unwrap();
    client
}

fn target() -> Vec<KeyValue> {
    vec![
        KeyValue::new("db.system.name", "postgresql"),
        KeyValue::new("db.namespace", "census"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", 5432),
    ]
}

fn expected(extra: &[(&'static str, Value)]) -> std::collections::BTreeMap<String, Value> {
    census_pipeline::testing::attribute_map(
        target()
            .into_iter()
            .chain(extra.iter().map(|(k, v)| KeyValue::new(*k, v.clone()))),
    )
}

#[tokio::test]
async fn a_query_with_literals_is_one_sanitized_client_span_under_the_caller() {
    let client = client().await;
    let (root, children, rows) = spans()
        .traced(client.query(
            "SELECT email FROM users WHERE email = 'bob@example.com' AND id > 41",
            &[],
        ))
        .await;
    assert_eq!(rows.unwrap().len(), 1);
    assert_eq!(names(&children), ["SELECT users"]);
    let span = &children[0];
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attributes(span),
        expected(&[
            (
                "db.query.text",
                "SELECT email FROM users WHERE email = ? AND id > ?".into()
            ),
            ("db.operation.name", "SELECT".into()),
            ("db.collection.name", "users".into()),
            ("db.query.summary", "SELECT users".into()),
        ])
    );
}

#[tokio::test]
async fn parameters_are_never_recorded_and_each_method_is_one_span() {
    let client = client().await;
    let (_, children, _) = spans()
        .traced(async {
            let email = "bob@example.com";
            let one = client
                .query_one("SELECT id FROM users WHERE email = $1", &[&email])
                .await
                .unwrap();
            assert_eq!(one.get::<_, i32>(0), 42);
            let none = client
                .query_opt("SELECT id FROM users WHERE id = $1", &[&7i32])
                .await
                .unwrap();
            assert!(none.is_none());
            let changed = client
                .execute(
                    "UPDATE users SET email = $1 WHERE id = $2",
                    &[&"x@y.z", &1i32],
                )
                .await
                .unwrap();
            assert_eq!(changed, 1);
            let messages = client.simple_query("SELECT 1").await.unwrap();
            assert!(!messages.is_empty());
            client
                .batch_execute("DELETE FROM users WHERE id = 1")
                .await
                .unwrap();
        })
        .await;
    assert_eq!(
        names(&children),
        [
            "SELECT users",
            "SELECT users",
            "UPDATE users",
            "SELECT",
            "DELETE users"
        ]
    );
    assert_eq!(
        attributes(&children[0])["db.query.text"],
        Value::from("SELECT id FROM users WHERE email = $1")
    );
    secrets::assert_none_of(&["bob@example.com", "x@y.z"], &children);
}

#[tokio::test]
async fn failures_record_sqlstate_error_type_and_a_message_without_values() {
    let client = client().await;
    let (_, children, _) = spans()
        .traced(async {
            let syntax = client.query("SELEC 1", &[]).await.unwrap_err();
            assert!(syntax.as_db_error().is_some());
            let duplicate = client
                .execute("INSERT INTO users VALUES (2, 'bob@example.com')", &[])
                .await
                .unwrap_err();
            assert_eq!(
                duplicate.code(),
                Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            );
            let cast = client
                .query("SELECT 'not-a-number'::int", &[])
                .await
                .unwrap_err();
            assert!(cast.as_db_error().is_some());
        })
        .await;
    assert_eq!(children.len(), 3, "{:?}", names(&children));
    let codes: Vec<_> = children
        .iter()
        .map(|s| {
            let a = attributes(s);
            (
                a["error.type"].as_str().into_owned(),
                a["db.response.status_code"].as_str().into_owned(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("42601".to_owned(), "42601".to_owned()),
            ("23505".to_owned(), "23505".to_owned()),
            ("22P02".to_owned(), "22P02".to_owned()),
        ]
    );
    for span in &children {
        assert!(matches!(span.status, Status::Error { .. }), "{}", span.name);
    }
    // PostgreSQL quotes the offending input in the message: masked.
    let Status::Error { description } = &children[2].status else {
        unreachable!()
    };
    assert!(
        description.contains("invalid input syntax"),
        "{description}"
    );
    secrets::assert_none_of(&["bob@example.com", "not-a-number"], &children);
}

#[tokio::test]
async fn a_transaction_records_begin_statements_and_commit_in_order() {
    let mut client = client().await;
    let (root, children, _) = spans()
        .traced(async {
            let tx = client.transaction().await.unwrap();
            tx.execute("INSERT INTO users VALUES (3, 'cy@example.com')", &[])
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let tx = client.transaction().await.unwrap();
            tx.execute("DELETE FROM users", &[]).await.unwrap();
            tx.rollback().await.unwrap();
        })
        .await;
    assert_eq!(
        names(&children),
        [
            "BEGIN",
            "INSERT users",
            "COMMIT",
            "BEGIN",
            "DELETE users",
            "ROLLBACK"
        ]
    );
    assert!(
        children
            .iter()
            .all(|s| s.parent_span_id == root.span_context.span_id())
    );
    let count: i64 = client
        .get_ref()
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 3, "committed insert kept, rolled-back delete undone");
}

#[tokio::test]
async fn a_prepared_statement_names_its_executions_by_its_sql() {
    let client = client().await;
    let (_, children, _) = spans()
        .traced(async {
            let statement = client
                .prepare("SELECT email FROM users WHERE id = $1")
                .await
                .unwrap();
            for id in [1i32, 42] {
                client.query_one(&statement, &[&id]).await.unwrap();
            }
        })
        .await;
    assert_eq!(names(&children), ["SELECT users"; 3]);
    for span in &children {
        assert_eq!(
            attributes(span)["db.query.text"],
            Value::from("SELECT email FROM users WHERE id = $1")
        );
    }
}

#[tokio::test]
async fn a_row_stream_keeps_its_span_until_the_last_row_or_until_dropped() {
    use futures_util::StreamExt as _;
    let client = client().await;
    let (_, children, _) = spans()
        .traced(async {
            let stream = client
                .query_raw(
                    "SELECT g FROM generate_series(1, 5) g",
                    std::iter::empty::<i32>(),
                )
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            assert_eq!(stream.count().await, 5);
            let mut early = Box::pin(
                client
                    .query_raw(
                        "SELECT g FROM generate_series(1, 1000) g",
                        std::iter::empty::<i32>(),
                    )
                    .await
                    .unwrap(),
            );
            early.next().await.unwrap().unwrap();
            drop(early);
        })
        .await;
    assert_eq!(names(&children), ["SELECT generate_series"; 2]);
    let full = &children[0];
    let lasted = full.end_time.duration_since(full.start_time).unwrap();
    assert!(
        lasted >= Duration::from_millis(30),
        "ended at the last row: {lasted:?}"
    );
    assert_eq!(children[1].status, Status::Unset);
}

#[tokio::test]
async fn a_cancelled_query_ends_its_span() {
    let client = client().await;
    let (root, children, timed_out) = spans()
        .traced(tokio::time::timeout(
            Duration::from_millis(100),
            client.query("SELECT pg_sleep(2)", &[]),
        ))
        .await;
    assert!(timed_out.is_err());
    assert_eq!(names(&children), ["SELECT"]);
    assert_eq!(children[0].parent_span_id, root.span_context.span_id());
    let lasted = children[0]
        .end_time
        .duration_since(children[0].start_time)
        .unwrap();
    assert!(
        lasted < Duration::from_secs(1),
        "ended when dropped: {lasted:?}"
    );
}

#[tokio::test]
async fn no_password_or_literal_reaches_telemetry() {
    let client = client().await;
    let (root, children, _) = spans()
        .traced(async {
            client
                .query(
                    "SELECT id FROM users WHERE email = 'secret-mail@example.com' AND id <> 987654",
                    &[],
                )
                .await
                .unwrap();
            client
                .execute(
                    "UPDATE users SET email = E'tab\\tsecret' WHERE id = 123456789",
                    &[],
                )
                .await
                .unwrap();
            let _ = client
                .query("SELECT 'leaked-literal'::int", &[])
                .await
                .unwrap_err();
        })
        .await;
    assert_eq!(children.len(), 3);
    let mut all = children;
    all.push(root);
    secrets::assert_none_of(
        &[
            services::PASSWORD,
            "secret-mail",
            "987654",
            "123456789",
            "secret",
            "leaked-literal",
        ],
        &all,
    );
}

#[tokio::test]
async fn the_sql_commenter_sends_the_statement_span_as_traceparent_when_asked() {
    let plain = client().await;
    let url = services::postgres_url();
    let config: tokio_postgres::Config = url.parse().unwrap();
    let (raw, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let commented = census::postgres::Spans::new(&config)
        .with_sql_commenter(true)
        .wrap(raw);
    let (_, children, seen) = spans()
        .traced(async {
            let off: String = plain
                .query_one("SELECT current_query()", &[])
                .await
                .unwrap()
                .get(0);
            let on: String = commented
                .query_one("SELECT current_query()", &[])
                .await
                .unwrap()
                .get(0);
            let prepared = commented.prepare("SELECT current_query()").await.unwrap();
            let as_prepared: String = commented.query_one(&prepared, &[]).await.unwrap().get(0);
            (off, on, as_prepared)
        })
        .await;
    let (off, on, as_prepared) = seen;
    assert_eq!(off, "SELECT current_query()", "off by default");
    let span = &children[1].span_context;
    assert_eq!(
        on,
        format!(
            "SELECT current_query() /*traceparent='00-{}-{}-01'*/",
            span.trace_id(),
            span.span_id()
        ),
        "the server saw the statement's own span"
    );
    assert_eq!(
        as_prepared, "SELECT current_query()",
        "prepared statements stay as prepared"
    );
    // The span records the statement as the application wrote it.
    assert!(
        children
            .iter()
            .all(|s| attributes(s)["db.query.text"] == Value::from("SELECT current_query()"))
    );
}

/// Every statement is measured, sampled or not:
/// `db.client.operation.duration` by operation and table, with the
/// SQLSTATE of a failure.
#[tokio::test]
async fn every_statement_is_measured_by_operation_and_table_sampled_or_not() {
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::TraceContextExt as _;
    let metrics = census_pipeline::testing::metrics();
    let client = client().await;
    // A table of its own: the other tests' statements go to `users`.
    client
        .get_ref()
        .batch_execute("CREATE TEMP TABLE metered (id int PRIMARY KEY)")
        .await
        .unwrap();
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    let unsampled = || opentelemetry::Context::new().with_remote_span_context(caller.clone());
    let insert = "INSERT INTO metered VALUES (7)";
    let (_, _, inserted) = spans().traced(client.execute(insert, &[])).await;
    inserted.unwrap();
    client
        .query("SELECT id FROM metered WHERE id = 7", &[])
        .with_context(unsampled())
        .await
        .unwrap();
    client
        .execute(insert, &[])
        .with_context(unsampled())
        .await
        .unwrap_err();

    let metric = |operation: &'static str, extra: &[(&'static str, Value)]| {
        let mut attributes = vec![
            ("db.operation.name", Value::from(operation)),
            ("db.collection.name", "metered".into()),
        ];
        attributes.extend_from_slice(extra);
        expected(&attributes)
    };
    let wanted = census_pipeline::testing::sorted_counts(vec![
        (metric("INSERT", &[]), 1),
        (metric("SELECT", &[]), 1),
        (
            metric(
                "INSERT",
                &[
                    ("error.type", "23505".into()),
                    ("db.response.status_code", "23505".into()),
                ],
            ),
            1,
        ),
    ]);
    assert_eq!(
        metrics.counts(
            "db.client.operation.duration",
            &[("db.collection.name", "metered".into())],
            "census-postgres"
        ),
        wanted
    );
}
