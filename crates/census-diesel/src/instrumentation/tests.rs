//! The instrumentation on real SQLite connections (in memory); the server
//! databases are covered by the workspace's integration tests.

use census_core::model::{DbSystem, Target};
use census_pipeline::testing::{SpanCapture, SpanData, attribute_map, attributes, capture};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Integer, Text};
use diesel::sqlite::Sqlite;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};

use super::{CensusInstrumentation, MAX_OPEN};

fn spans() -> &'static SpanCapture {
    capture(&[&crate::INTEGRATION])
}

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
    }
}

/// A connection with the default instrumentation (installed by enabling
/// the integration) and a `users` table.
fn conn() -> SqliteConnection {
    spans();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.batch_execute(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL);
         INSERT INTO users VALUES (1, 'ann@example.com'), (42, 'bob@example.com');",
    )
    .unwrap();
    conn
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_ref()).collect()
}

#[test]
fn a_query_is_one_client_span_of_the_caller_with_sanitized_text() {
    let mut conn = conn();
    let (root, children, count) = spans().traced_blocking(|| {
        diesel::sql_query("UPDATE users SET email = 'new@example.com' WHERE id = 42")
            .execute(&mut conn)
    });
    assert_eq!(count.unwrap(), 1);
    let [span] = children.as_slice() else {
        panic!("{:?}", names(&children))
    };
    assert_eq!(span.name, "UPDATE users");
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(span.parent_span_id, root.span_context.span_id());
    assert_eq!(span.status, Status::Unset);
    assert_eq!(span.instrumentation_scope.name(), "census-diesel");
    assert_eq!(
        attributes(span),
        attribute_map([
            KeyValue::new("db.system.name", "sqlite"),
            KeyValue::new("db.namespace", ":memory:"),
            KeyValue::new("db.query.text", "UPDATE users SET email = ? WHERE id = ?"),
            KeyValue::new("db.operation.name", "UPDATE"),
            KeyValue::new("db.collection.name", "users"),
            KeyValue::new("db.query.summary", "UPDATE users"),
        ])
    );
}

#[test]
fn bind_values_are_never_recorded_and_builder_queries_are_named_by_table() {
    let mut conn = conn();
    let (_, children, loaded) = spans().traced_blocking(|| {
        let ids: Vec<i32> = users::table
            .filter(users::email.eq("bob@example.com"))
            .select(users::id)
            .load(&mut conn)?;
        let email: String = diesel::sql_query("SELECT email FROM users WHERE id = ?")
            .bind::<Integer, _>(1)
            .load::<Email>(&mut conn)?
            .remove(0)
            .email;
        QueryResult::Ok((ids, email))
    });
    assert_eq!(loaded.unwrap(), (vec![42], "ann@example.com".to_owned()));
    assert_eq!(names(&children), ["SELECT users", "SELECT users"]);
    assert_eq!(
        attributes(&children[0])["db.query.text"],
        "SELECT `users`.`id` FROM `users` WHERE (`users`.`email` = ?)".into()
    );
    assert_eq!(
        attributes(&children[1])["db.query.text"],
        "SELECT email FROM users WHERE id = ?".into()
    );
    let shown = format!("{children:?}");
    assert!(!shown.contains("bob@example.com"), "{shown}");
    assert!(!shown.contains("binds"), "{shown}");
}

#[derive(QueryableByName)]
struct Email {
    #[diesel(sql_type = Text)]
    email: String,
}

#[test]
fn failures_record_the_error_kind_and_a_message_without_values() {
    let mut conn = conn();
    let (_, children, _) = spans().traced_blocking(|| {
        diesel::sql_query("SELEC 1").execute(&mut conn).unwrap_err();
        diesel::sql_query("INSERT INTO users VALUES (2, 'bob@example.com')")
            .execute(&mut conn)
            .unwrap_err();
    });
    assert_eq!(names(&children), ["SELEC", "INSERT users"]);
    let types: Vec<_> = children
        .iter()
        .map(|s| attributes(s)["error.type"].as_str().into_owned())
        .collect();
    assert_eq!(types, ["database", "unique_violation"]);
    assert_eq!(children[0].status, Status::error("near ?: syntax error"));
    assert_eq!(
        children[1].status,
        Status::error("UNIQUE constraint failed: users.email")
    );
    for span in &children {
        assert!(!attributes(span).contains_key("db.response.status_code"));
    }
}

#[test]
fn a_transaction_shows_as_its_statements() {
    let mut conn = conn();
    let (root, children, _) = spans().traced_blocking(|| {
        conn.transaction(|conn| {
            diesel::sql_query("INSERT INTO users VALUES (3, 'cy@example.com')").execute(conn)?;
            conn.transaction(|conn| {
                diesel::sql_query("DELETE FROM users").execute(conn)?;
                QueryResult::<()>::Err(diesel::result::Error::RollbackTransaction)
            })
            .unwrap_err();
            QueryResult::Ok(())
        })
    });
    assert_eq!(
        names(&children),
        [
            "BEGIN",
            "INSERT users",
            "SAVEPOINT",
            "DELETE users",
            "ROLLBACK",
            "COMMIT"
        ]
    );
    assert!(
        children
            .iter()
            .all(|s| s.parent_span_id == root.span_context.span_id())
    );
    assert_eq!(
        attributes(&children[4])["db.query.text"],
        "ROLLBACK TO SAVEPOINT diesel_savepoint_1".into()
    );
}

/// A value diesel cannot bind: diesel returns the error without reporting
/// the query finished.
#[derive(Debug, diesel::expression::AsExpression)]
#[diesel(sql_type = Text)]
struct Unencodable;

impl ToSql<Text, Sqlite> for Unencodable {
    fn to_sql<'b>(&'b self, _: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        Err("cannot encode".into())
    }
}

#[test]
fn a_query_never_reported_finished_ends_with_its_connection_and_adopts_nothing() {
    let mut conn = conn();
    let (root, trace) = spans().root("test");
    {
        let _attached = root.clone().attach();
        diesel::sql_query("SELECT ?")
            .bind::<Text, _>(Unencodable)
            .execute(&mut conn)
            .unwrap_err();
        diesel::sql_query("DELETE FROM users")
            .execute(&mut conn)
            .unwrap();
    }
    let before_drop = spans().spans(trace);
    assert_eq!(names(&before_drop), ["DELETE users"]);
    assert_eq!(
        before_drop[0].parent_span_id,
        root.span().span_context().span_id(),
        "the unfinished query is not the next one's parent"
    );
    drop(conn);
    let after_drop = spans().spans(trace);
    assert_eq!(names(&after_drop), ["SELECT", "DELETE users"]);
    assert_eq!(after_drop[0].status, Status::Unset);
}

#[test]
fn unfinished_queries_are_bounded_per_connection() {
    let mut conn = conn();
    let (root, trace) = spans().root("test");
    let _attached = root.attach();
    for _ in 0..=MAX_OPEN {
        diesel::sql_query("SELECT ?")
            .bind::<Text, _>(Unencodable)
            .execute(&mut conn)
            .unwrap_err();
    }
    assert_eq!(spans().spans(trace).len(), 1, "the oldest ended early");
    drop(conn);
    assert_eq!(spans().spans(trace).len(), MAX_OPEN + 1);
}

#[test]
fn a_connection_can_be_given_its_own_target() {
    spans();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.set_instrumentation(CensusInstrumentation::new(
        DbSystem::Sqlite,
        &Target::new().with_namespace("orders"),
    ));
    let (_, children, _) =
        spans().traced_blocking(|| diesel::sql_query("SELECT 1").execute(&mut conn));
    assert_eq!(names(&children), ["SELECT"]);
    assert_eq!(attributes(&children[0])["db.namespace"], "orders".into());
}

#[test]
fn a_fresh_instrumentation_traces_nothing_until_it_learns_the_target() {
    spans();
    let mut conn = SqliteConnection::establish(":memory:").unwrap();
    conn.set_instrumentation(CensusInstrumentation::on_establish());
    let (_, children, _) =
        spans().traced_blocking(|| diesel::sql_query("SELECT 1").execute(&mut conn));
    assert!(children.is_empty(), "{:?}", names(&children));
}
