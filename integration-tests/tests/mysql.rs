//! census-mysql against a real MySQL-compatible server (MariaDB here):
//! exact spans for queries, failures, transactions, prepared statements
//! and cancellation, and no secret in anything exported.

use std::time::Duration;

use census::mysql::Traced;
use census_integration_tests::{secrets, services};
use census_pipeline::testing::{SpanCapture, attribute_map, attributes, capture, names};
use mysql_async::{Conn, Opts, TxOpts};
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};

fn spans() -> &'static SpanCapture {
    capture(&[&census::mysql::INTEGRATION])
}

/// A traced connection of its own, with a temporary `users` table that only
/// it sees (tests run in parallel).
async fn conn() -> Traced<Conn> {
    spans();
    let url = services::mysql_url();
    let opts = Opts::from_url(&url).unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    let mut conn = Traced::connect(opts)
        .await
        .unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    use mysql_async::prelude::Queryable as _;
    conn.get_mut()
        .query_drop(
            "CREATE TEMPORARY TABLE users (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE NOT NULL)",
        )
        .await
        .unwrap();
    conn.get_mut()
        .query_drop("INSERT INTO users VALUES (1, 'ann@example.com'), (42, 'bob@example.com')")
        .await
        .unwrap();
    conn
}

/// The server here is MariaDB; a MySQL server would report `mysql`.
fn system(conn: &Traced<Conn>) -> &'static str {
    if conn.get_ref().server_version().0 >= 10 {
        "mariadb"
    } else {
        "mysql"
    }
}

fn expected(
    conn: &Traced<Conn>,
    extra: &[(&'static str, Value)],
) -> std::collections::BTreeMap<String, Value> {
    attribute_map(
        [
            KeyValue::new("db.system.name", system(conn)),
            KeyValue::new("db.namespace", "census"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", 3306),
        ]
        .into_iter()
        .chain(extra.iter().map(|(k, v)| KeyValue::new(*k, v.clone()))),
    )
}

#[tokio::test]
async fn the_server_is_reported_as_the_product_it_is() {
    let mut traced = conn().await;
    use mysql_async::prelude::Queryable as _;
    let version: String = traced
        .get_mut()
        .query_first("SELECT VERSION()")
        .await
        .unwrap()
        .unwrap();
    let (_, children, _) = spans().traced(traced.query_drop("SELECT 1")).await;
    let reported = attributes(&children[0])["db.system.name"]
        .as_str()
        .into_owned();
    let expected = if version.contains("MariaDB") {
        "mariadb"
    } else {
        "mysql"
    };
    assert_eq!(reported, expected, "server version {version}");
}

#[tokio::test]
async fn a_query_with_literals_is_one_sanitized_client_span_under_the_caller() {
    let mut conn = conn().await;
    let (root, children, rows) = spans()
        .traced(conn.query::<String, _>(
            "SELECT email FROM users WHERE email = 'bob@example.com' AND id > 41",
        ))
        .await;
    assert_eq!(rows.unwrap(), ["bob@example.com"]);
    assert_eq!(names(&children), ["SELECT users"]);
    let span = &children[0];
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attributes(span),
        expected(
            &conn,
            &[
                (
                    "db.query.text",
                    "SELECT email FROM users WHERE email = ? AND id > ?".into()
                ),
                ("db.operation.name", "SELECT".into()),
                ("db.collection.name", "users".into()),
                ("db.query.summary", "SELECT users".into()),
            ]
        )
    );
}

#[tokio::test]
async fn parameters_are_never_recorded_and_each_method_is_one_span() {
    let mut conn = conn().await;
    let (_, children, _) = spans()
        .traced(async {
            let ids: Vec<i32> = conn
                .exec("SELECT id FROM users WHERE email = ?", ("bob@example.com",))
                .await
                .unwrap();
            assert_eq!(ids, [42]);
            let none: Option<i32> = conn
                .exec_first("SELECT id FROM users WHERE id = ?", (7,))
                .await
                .unwrap();
            assert_eq!(none, None);
            conn.exec_drop("UPDATE users SET email = ? WHERE id = ?", ("x@y.z", 1))
                .await
                .unwrap();
            conn.exec_batch(
                "INSERT INTO users VALUES (?, ?)",
                [(5, "e@example.com"), (6, "f@example.com")],
            )
            .await
            .unwrap();
            let first: Option<i64> = conn
                .query_first("SELECT COUNT(*) FROM users")
                .await
                .unwrap();
            assert_eq!(first, Some(4));
            conn.query_drop(String::from("DELETE FROM users WHERE id = 1"))
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
            "INSERT users",
            "SELECT users",
            "DELETE users"
        ]
    );
    assert_eq!(
        attributes(&children[2])["db.query.text"],
        Value::from("UPDATE users SET email = ? WHERE id = ?")
    );
    secrets::assert_none_of(&["bob@example.com", "x@y.z", "e@example.com"], &children);
}

#[tokio::test]
async fn failures_record_the_error_code_and_a_message_without_values() {
    let mut conn = conn().await;
    let (_, children, _) = spans()
        .traced(async {
            conn.query_drop("SELEC 1").await.unwrap_err();
            conn.query_drop("INSERT INTO users VALUES (2, 'bob@example.com')")
                .await
                .unwrap_err();
            conn.query_drop("SELECT * FROM no_such_table")
                .await
                .unwrap_err();
        })
        .await;
    assert_eq!(children.len(), 3, "{:?}", names(&children));
    let codes: Vec<(String, String)> = children
        .iter()
        .map(|s| {
            let a = attributes(s);
            (
                a["error.type"].as_str().into_owned(),
                a["db.response.status_code"].as_str().into_owned(),
            )
        })
        .collect();
    let pair = |c: &str| (c.to_owned(), c.to_owned());
    assert_eq!(codes, [pair("1064"), pair("1062"), pair("1146")]);
    for span in &children {
        assert!(matches!(span.status, Status::Error { .. }), "{}", span.name);
    }
    let Status::Error { description } = &children[1].status else {
        unreachable!()
    };
    assert!(description.starts_with("Duplicate entry"), "{description}");
    secrets::assert_none_of(&["bob@example.com"], &children);
}

#[tokio::test]
async fn a_transaction_records_begin_statements_and_commit_in_order() {
    let mut conn = conn().await;
    let (root, children, _) = spans()
        .traced(async {
            let mut tx = conn.start_transaction(TxOpts::default()).await.unwrap();
            tx.query_drop("INSERT INTO users VALUES (3, 'cy@example.com')")
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let mut tx = conn.start_transaction(TxOpts::default()).await.unwrap();
            tx.query_drop("DELETE FROM users").await.unwrap();
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
    let count: Option<i64> = conn
        .query_first("SELECT COUNT(*) FROM users")
        .await
        .unwrap();
    assert_eq!(
        count,
        Some(3),
        "committed insert kept, rolled-back delete undone"
    );
}

#[tokio::test]
async fn a_prepared_statement_names_its_executions_by_its_sql() {
    let mut conn = conn().await;
    let (_, children, _) = spans()
        .traced(async {
            let statement = conn
                .prep("SELECT email FROM users WHERE id = ?")
                .await
                .unwrap();
            for id in [1, 42] {
                let email: Option<String> = conn.exec_first(&statement, (id,)).await.unwrap();
                assert!(email.is_some());
            }
        })
        .await;
    assert_eq!(names(&children), ["SELECT users"; 3]);
    for span in &children {
        assert_eq!(
            attributes(span)["db.query.text"],
            Value::from("SELECT email FROM users WHERE id = ?")
        );
    }
}

#[tokio::test]
async fn a_cancelled_query_ends_its_span() {
    let mut conn = conn().await;
    let (root, children, timed_out) = spans()
        .traced(tokio::time::timeout(
            Duration::from_millis(100),
            conn.query_drop("SELECT SLEEP(2)"),
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
async fn a_pool_hands_out_traced_connections() {
    spans();
    let url = services::mysql_url();
    let pool = Traced::pool(Opts::from_url(&url).unwrap());
    let (root, children, _) = spans()
        .traced(async {
            let mut conn = pool.get_conn().await.unwrap();
            let one: Option<i32> = conn.query_first("SELECT 1").await.unwrap();
            assert_eq!(one, Some(1));
        })
        .await;
    pool.disconnect().await.unwrap();
    assert_eq!(names(&children), ["SELECT"]);
    assert_eq!(children[0].parent_span_id, root.span_context.span_id());
}

#[tokio::test]
async fn no_password_or_literal_reaches_telemetry() {
    let mut conn = conn().await;
    let (root, children, _) = spans()
        .traced(async {
            conn.query_drop(
                "SELECT id FROM users WHERE email = 'secret-mail@example.com' AND id <> 987654",
            )
            .await
            .unwrap();
            conn.query_drop("UPDATE users SET email = \"dq-secret\" WHERE id = 123456789")
                .await
                .unwrap();
            conn.query_drop("INSERT INTO users VALUES (42, 'dup-secret')")
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
        ],
        &all,
    );
}

#[tokio::test]
async fn the_sql_commenter_sends_the_statement_span_as_traceparent_when_asked() {
    const WHO_AM_I: &str =
        "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()";
    spans();
    let url = services::mysql_url();
    let opts = Opts::from_url(&url).unwrap();
    let mut commented = census::mysql::Spans::new(&opts)
        .with_sql_commenter(true)
        .wrap(Conn::new(opts).await.unwrap());
    let mut plain = conn().await;
    let (_, children, seen) = spans()
        .traced(async {
            let off: Option<String> = plain.query_first(WHO_AM_I).await.unwrap();
            let on: Option<String> = commented.query_first(WHO_AM_I).await.unwrap();
            let exec: Option<String> = commented.exec_first(WHO_AM_I, ()).await.unwrap();
            (off.unwrap(), on.unwrap(), exec.unwrap())
        })
        .await;
    let (off, on, exec) = seen;
    assert_eq!(off, WHO_AM_I, "off by default");
    let span = &children[1].span_context;
    assert_eq!(
        on,
        format!(
            "{WHO_AM_I} /*traceparent='00-{}-{}-01'*/",
            span.trace_id(),
            span.span_id()
        ),
        "the server saw the statement's own span"
    );
    assert_eq!(exec, WHO_AM_I, "prepared (exec) statements stay as written");
}

/// Every statement is measured, sampled or not:
/// `db.client.operation.duration` by operation and table, with the error
/// number of a failure.
#[tokio::test]
async fn every_statement_is_measured_by_operation_and_table_sampled_or_not() {
    use mysql_async::prelude::Queryable as _;
    use opentelemetry::context::FutureExt as _;
    use opentelemetry::trace::TraceContextExt as _;
    let metrics = census_pipeline::testing::metrics();
    let mut conn = conn().await;
    // A table of its own: the other tests' statements go to `users`.
    conn.get_mut()
        .query_drop("CREATE TEMPORARY TABLE metered (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    let unsampled = || opentelemetry::Context::new().with_remote_span_context(caller.clone());
    let insert = "INSERT INTO metered VALUES (7)";
    let (_, _, inserted) = spans().traced(conn.query_drop(insert)).await;
    inserted.unwrap();
    conn.query_drop("SELECT id FROM metered WHERE id = 7")
        .with_context(unsampled())
        .await
        .unwrap();
    conn.query_drop(insert)
        .with_context(unsampled())
        .await
        .unwrap_err();

    let metric = |operation: &'static str, extra: &[(&'static str, Value)]| {
        let mut attributes = vec![
            ("db.operation.name", Value::from(operation)),
            ("db.collection.name", "metered".into()),
        ];
        attributes.extend_from_slice(extra);
        expected(&conn, &attributes)
    };
    let wanted = census_pipeline::testing::sorted_counts(vec![
        (metric("INSERT", &[]), 1),
        (metric("SELECT", &[]), 1),
        (
            metric(
                "INSERT",
                &[
                    ("error.type", "1062".into()),
                    ("db.response.status_code", "1062".into()),
                ],
            ),
            1,
        ),
    ]);
    assert_eq!(
        metrics.counts(
            "db.client.operation.duration",
            &[("db.collection.name", "metered".into())],
            "census-mysql"
        ),
        wanted
    );
}
