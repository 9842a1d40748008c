//! census-diesel against real PostgreSQL and MySQL-compatible (MariaDB)
//! servers and SQLite, through diesel's default instrumentation as the
//! facade installs it: exact spans for queries, failures and
//! transactions, parents across threads, and no secret in anything
//! exported.

use std::collections::BTreeMap;

use census_core::registry::Integration;
use census_integration_tests::{secrets, services};
use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture, names};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::Text;
use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{KeyValue, Value};

/// Enables the integration the way applications do, which makes census
/// diesel's default instrumentation.
fn spans() -> &'static SpanCapture {
    let capture = capture(&[]);
    census::config_integration::try_trace_integrations(&["diesel"]).unwrap();
    capture
}

const USERS: &str = "users (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE NOT NULL)";
const ROWS: &str = "INSERT INTO users VALUES (1, 'ann@example.com'), (42, 'bob@example.com')";

/// Connections of their own, each with a `users` table only it sees
/// (tests run in parallel).
fn postgres() -> PgConnection {
    spans();
    let url = services::postgres_url();
    let mut conn = PgConnection::establish(&url)
        .unwrap_or_else(|e| services::unreachable("postgres", &url, &e));
    conn.batch_execute(&format!("CREATE TEMP TABLE {USERS}; {ROWS}"))
        .unwrap();
    conn
}

fn mysql() -> MysqlConnection {
    spans();
    let url = services::mysql_url();
    let mut conn = MysqlConnection::establish(&url)
        .unwrap_or_else(|e| services::unreachable("mysql", &url, &e));
    conn.batch_execute(&format!("CREATE TEMPORARY TABLE {USERS}; {ROWS}"))
        .unwrap();
    conn
}

fn sqlite() -> SqliteConnection {
    spans();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.batch_execute(&format!("CREATE TABLE {USERS}; {ROWS}"))
        .unwrap();
    conn
}

/// The target attributes of each database.
fn target(system: &str) -> Vec<KeyValue> {
    match system {
        "postgresql" => vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.namespace", "census"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", 5432),
        ],
        // diesel does not say which server answered: MariaDB shows as mysql.
        "mysql" => vec![
            KeyValue::new("db.system.name", "mysql"),
            KeyValue::new("db.namespace", "census"),
            KeyValue::new("server.address", "127.0.0.1"),
            KeyValue::new("server.port", 3306),
        ],
        _ => vec![
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.namespace", ":memory:"),
        ],
    }
}

fn expected(system: &str, extra: &[(&'static str, Value)]) -> BTreeMap<String, Value> {
    attribute_map(
        target(system)
            .into_iter()
            .chain(extra.iter().map(|(k, v)| KeyValue::new(*k, v.clone()))),
    )
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Email {
    #[diesel(sql_type = Text)]
    email: String,
}

const WITH_LITERALS: &str = "SELECT email FROM users WHERE email = 'bob@example.com' AND id > 41";

/// One query with literals: one sanitized Client span, child of the root.
fn assert_one_sanitized_select(system: &str, root: &SpanData, children: &[SpanData]) {
    let [span] = children else {
        panic!("{system}: {:?}", names(children))
    };
    assert_eq!(span.name, "SELECT users");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.span_context.trace_id(), root.span_context.trace_id());
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attributes(span),
        expected(
            system,
            &[
                (
                    "db.query.text",
                    "SELECT email FROM users WHERE email = ? AND id > ?".into()
                ),
                ("db.operation.name", "SELECT".into()),
                ("db.collection.name", "users".into()),
                ("db.query.summary", "SELECT users".into()),
            ]
        ),
        "{system}"
    );
}

fn bob() -> Vec<Email> {
    vec![Email {
        email: "bob@example.com".into(),
    }]
}

#[test]
fn postgres_a_query_with_literals_is_one_sanitized_client_span_under_the_caller() {
    let mut conn = postgres();
    let (root, children, rows) =
        spans().traced_blocking(|| diesel::sql_query(WITH_LITERALS).load::<Email>(&mut conn));
    assert_eq!(rows.unwrap(), bob());
    assert_one_sanitized_select("postgresql", &root, &children);
}

#[test]
fn mysql_a_query_with_literals_is_one_sanitized_client_span_under_the_caller() {
    let mut conn = mysql();
    let (root, children, rows) =
        spans().traced_blocking(|| diesel::sql_query(WITH_LITERALS).load::<Email>(&mut conn));
    assert_eq!(rows.unwrap(), bob());
    assert_one_sanitized_select("mysql", &root, &children);
}

#[test]
fn sqlite_a_query_with_literals_is_one_sanitized_client_span_under_the_caller() {
    let mut conn = sqlite();
    let (root, children, rows) =
        spans().traced_blocking(|| diesel::sql_query(WITH_LITERALS).load::<Email>(&mut conn));
    assert_eq!(rows.unwrap(), bob());
    assert_one_sanitized_select("sqlite", &root, &children);
}

/// The `users` table, for builder queries.
mod schema {
    diesel::table! {
        users (id) {
            id -> Integer,
            email -> Text,
        }
    }
}
use schema::users;

#[test]
fn postgres_a_builder_query_shows_its_sql_with_placeholders_not_its_binds() {
    let mut conn = postgres();
    let (_, children, ids) = spans().traced_blocking(|| {
        users::table
            .filter(users::email.eq("bob@example.com"))
            .select(users::id)
            .load::<i32>(&mut conn)
    });
    assert_eq!(ids.unwrap(), [42]);
    assert_eq!(names(&children), ["SELECT users"]);
    assert_eq!(
        attributes(&children[0])["db.query.text"],
        Value::from(r#"SELECT "users"."id" FROM "users" WHERE ("users"."email" = $1)"#)
    );
    secrets::assert_none_of(&["bob@example.com"], &children);
}

/// `error.type`, `db.response.status_code` (if any) and the status of each
/// span.
fn failures(children: &[SpanData]) -> Vec<(String, Option<String>, Status)> {
    children
        .iter()
        .map(|s| {
            let a = attributes(s);
            (
                a["error.type"].as_str().into_owned(),
                a.get("db.response.status_code")
                    .map(|c| c.as_str().into_owned()),
                s.status.clone(),
            )
        })
        .collect()
}

fn failing_queries(conn: &mut impl Connection) {
    conn.batch_execute("SELEC 1").unwrap_err();
    conn.batch_execute("INSERT INTO users VALUES (2, 'bob@example.com')")
        .unwrap_err();
}

#[test]
fn postgres_failures_record_the_kind_the_sqlstate_diesel_implies_and_no_values() {
    let mut conn = postgres();
    let (_, children, _) = spans().traced_blocking(|| failing_queries(&mut conn));
    assert_eq!(names(&children), ["SELEC", "INSERT users"]);
    assert_eq!(
        failures(&children),
        [
            (
                "database".into(),
                None,
                Status::error("syntax error at or near ?")
            ),
            (
                "unique_violation".into(),
                Some("23505".into()),
                Status::error("duplicate key value violates unique constraint ?")
            ),
        ]
    );
    secrets::assert_none_of(&["bob@example.com"], &children);
}

#[test]
fn mysql_failures_record_the_kind_and_no_values() {
    let mut conn = mysql();
    let (_, children, _) = spans().traced_blocking(|| failing_queries(&mut conn));
    assert_eq!(names(&children), ["SELEC", "INSERT users"]);
    let recorded = failures(&children);
    assert_eq!(
        recorded
            .iter()
            .map(|(t, c, _)| (t.as_str(), c.clone()))
            .collect::<Vec<_>>(),
        [("database", None), ("database", None)],
        "batch_execute errors carry no kind on MySQL"
    );
    let Status::Error { description } = &recorded[1].2 else {
        panic!("{recorded:?}")
    };
    assert!(
        description.starts_with("Duplicate entry ? for key"),
        "{description}"
    );

    // Prepared statements do: diesel maps the error number to a kind.
    let (_, children, _) = spans().traced_blocking(|| {
        diesel::sql_query("INSERT INTO users VALUES (2, 'bob@example.com')")
            .execute(&mut conn)
            .unwrap_err()
    });
    assert_eq!(
        failures(&children)[0].0,
        "unique_violation",
        "{:?}",
        failures(&children)
    );
    secrets::assert_none_of(&["bob@example.com"], &children);
}

#[test]
fn sqlite_failures_record_the_kind_and_no_values() {
    let mut conn = sqlite();
    let (_, children, _) = spans().traced_blocking(|| {
        diesel::sql_query("SELEC 1").execute(&mut conn).unwrap_err();
        diesel::sql_query("INSERT INTO users VALUES (2, 'bob@example.com')")
            .execute(&mut conn)
            .unwrap_err();
    });
    assert_eq!(
        failures(&children),
        [
            (
                "database".into(),
                None,
                Status::error("near ?: syntax error")
            ),
            (
                "unique_violation".into(),
                None,
                Status::error("UNIQUE constraint failed: users.email")
            ),
        ]
    );
}

fn transactions(conn: &mut impl Connection) {
    conn.transaction(|conn| conn.batch_execute("INSERT INTO users VALUES (3, 'cy@example.com')"))
        .unwrap();
    conn.transaction(|conn| {
        conn.batch_execute("DELETE FROM users")?;
        QueryResult::<()>::Err(diesel::result::Error::RollbackTransaction)
    })
    .unwrap_err();
}

fn assert_transactions(system: &str, root: &SpanData, children: &[SpanData]) {
    assert_eq!(
        names(children),
        [
            "BEGIN",
            "INSERT users",
            "COMMIT",
            "BEGIN",
            "DELETE users",
            "ROLLBACK"
        ],
        "{system}"
    );
    for span in children {
        assert_eq!(span.parent_span_id, root.span_context.span_id(), "{system}");
        assert_eq!(span.span_kind, SpanKind::Client, "{system}");
        assert_eq!(span.status, Status::Unset, "{system}");
    }
    assert_eq!(
        attributes(&children[2]),
        expected(
            system,
            &[
                ("db.query.text", "COMMIT".into()),
                ("db.operation.name", "COMMIT".into()),
                ("db.query.summary", "COMMIT".into()),
            ]
        ),
        "{system}"
    );
}

#[test]
fn postgres_a_transaction_records_begin_statements_and_commit_or_rollback() {
    let mut conn = postgres();
    let (root, children, _) = spans().traced_blocking(|| transactions(&mut conn));
    assert_transactions("postgresql", &root, &children);
    let left = users::table.count().get_result::<i64>(&mut conn).unwrap();
    assert_eq!(left, 3, "committed insert kept, rolled-back delete undone");
}

#[test]
fn mysql_a_transaction_records_begin_statements_and_commit_or_rollback() {
    let mut conn = mysql();
    let (root, children, _) = spans().traced_blocking(|| transactions(&mut conn));
    assert_transactions("mysql", &root, &children);
    let left = users::table.count().get_result::<i64>(&mut conn).unwrap();
    assert_eq!(left, 3, "committed insert kept, rolled-back delete undone");
}

#[test]
fn sqlite_a_transaction_records_begin_statements_and_commit_or_rollback() {
    let mut conn = sqlite();
    let (root, children, _) = spans().traced_blocking(|| transactions(&mut conn));
    assert_transactions("sqlite", &root, &children);
}

/// The application's own in-process spans, on the same provider.
static APP: Integration = Integration::new("app", "app", "0");

#[test]
fn queries_are_children_of_the_in_process_span_around_them() {
    let mut conn = postgres();
    APP.set_enabled(true);
    let (root, children, _) = spans().traced_blocking(|| {
        let _work = APP
            .start(
                SpanKind::Internal,
                "load users",
                &census::context::current(),
                Vec::new,
            )
            .enter();
        diesel::sql_query("SELECT 1").execute(&mut conn).unwrap();
    });
    assert_eq!(names(&children), ["load users", "SELECT"]);
    assert_eq!(children[0].parent_span_id, root.span_context.span_id());
    assert_eq!(
        children[1].parent_span_id,
        children[0].span_context.span_id()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_spawn_blocking_the_context_is_carried_by_hand_or_by_census() {
    let conn = std::sync::Arc::new(std::sync::Mutex::new(postgres()));
    let (root, children, _) = spans()
        .traced(async {
            // By hand: take the context before, attach it inside.
            let cx = opentelemetry::Context::current();
            let by_hand = conn.clone();
            tokio::task::spawn_blocking(move || {
                let _attached = cx.attach();
                diesel::sql_query("SELECT 1 AS by_hand")
                    .execute(&mut *by_hand.lock().unwrap())
                    .unwrap();
            })
            .await
            .unwrap();
            // census's spawn_blocking does the same.
            let by_census = conn.clone();
            census::context::spawn_blocking(move || {
                diesel::sql_query("SELECT 2 AS by_census")
                    .execute(&mut *by_census.lock().unwrap())
                    .unwrap();
            })
            .await
            .unwrap();
            // Without either, the query starts a trace of its own.
            let bare = conn.clone();
            tokio::task::spawn_blocking(move || {
                diesel::sql_query("SELECT 3 AS bare")
                    .execute(&mut *bare.lock().unwrap())
                    .unwrap();
            })
            .await
            .unwrap();
        })
        .await;
    let texts: Vec<_> = children
        .iter()
        .map(|s| attributes(s)["db.query.text"].as_str().into_owned())
        .collect();
    assert_eq!(texts, ["SELECT ? AS by_hand", "SELECT ? AS by_census"]);
    for span in &children {
        assert_eq!(span.parent_span_id, root.span_context.span_id());
    }
}

#[test]
fn no_password_or_literal_reaches_telemetry() {
    let mut pg = postgres();
    let mut my = mysql();
    let mut lite = sqlite();
    let (root, children, _) = spans().traced_blocking(|| {
        let queries = [
            "SELECT id FROM users WHERE email = 'secret-mail@example.com' AND id <> 987654",
            "UPDATE users SET email = 'upd-secret' WHERE id = 123456789",
            "INSERT INTO users VALUES (42, 'dup-secret')",
        ];
        for query in queries {
            let _ = diesel::sql_query(query).execute(&mut pg);
            let _ = diesel::sql_query(query).execute(&mut my);
            let _ = diesel::sql_query(query).execute(&mut lite);
        }
        users::table
            .filter(users::email.eq("bind-secret"))
            .filter(users::id.eq(55_555_555))
            .select(users::id)
            .load::<i32>(&mut pg)
            .unwrap();
    });
    assert_eq!(children.len(), 10, "{:?}", names(&children));
    assert_eq!(
        children
            .iter()
            .filter(|s| matches!(s.status, Status::Error { .. }))
            .count(),
        3,
        "the duplicate insert fails on each database"
    );
    let mut all = children;
    all.push(root);
    secrets::assert_none_of(
        &[
            services::PASSWORD,
            "secret-mail",
            "987654",
            "123456789",
            "55555555",
            "secret",
        ],
        &all,
    );
    // The target was read from the URLs, which hold the password.
    assert!(
        all.iter()
            .any(|s| attributes(s).get("server.port") == Some(&Value::I64(3306)))
    );
}

/// Every query is measured, sampled or not:
/// `db.client.operation.duration` by operation and table, with the kind
/// of a failure diesel reports.
#[test]
fn every_query_is_measured_by_operation_and_table_sampled_or_not() {
    use opentelemetry::trace::TraceContextExt as _;
    let metrics = census_pipeline::testing::metrics();
    let mut conn = postgres();
    // A table of its own: the other tests' queries go to `users`.
    conn.batch_execute("CREATE TEMP TABLE metered (id INT PRIMARY KEY)")
        .unwrap();
    let insert = "INSERT INTO metered VALUES (7)";
    let (_, _, inserted) = spans().traced_blocking(|| diesel::sql_query(insert).execute(&mut conn));
    inserted.unwrap();
    let (caller, _) = census_pipeline::testing::unsampled_caller();
    {
        let _unsampled = opentelemetry::Context::new()
            .with_remote_span_context(caller)
            .attach();
        diesel::sql_query("SELECT id FROM metered WHERE id = 7")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query(insert).execute(&mut conn).unwrap_err();
    }

    let metric = |operation: &'static str, extra: &[(&'static str, Value)]| {
        let mut attributes = vec![
            ("db.operation.name", Value::from(operation)),
            ("db.collection.name", "metered".into()),
        ];
        attributes.extend_from_slice(extra);
        expected("postgresql", &attributes)
    };
    let wanted = census_pipeline::testing::sorted_counts(vec![
        // diesel reports every statement on the connection, the table's
        // creation included.
        (metric("CREATE", &[]), 1),
        (metric("INSERT", &[]), 1),
        (metric("SELECT", &[]), 1),
        (
            metric(
                "INSERT",
                &[
                    ("error.type", "unique_violation".into()),
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
            "census-diesel"
        ),
        wanted
    );
}
