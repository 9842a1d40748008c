//! The statement model on top of census-sanitize: summaries, collection
//! names and the bound on what is analysed, per database system.

use super::*;
use crate::model::DbSystem;
use crate::sanitize::MAX_ANALYZED;

const ALL: [DbSystem; 4] = [
    DbSystem::Postgres,
    DbSystem::MySql,
    DbSystem::Sqlite,
    DbSystem::MariaDb,
];

#[test]
fn sqlite_double_quoted_table_names_name_the_collection() {
    let cmd = SqlCommand::parse(r#"UPDATE "users" SET "a" = "b""#, DbSystem::Sqlite);
    assert_eq!(
        (cmd.text(), cmd.collection()),
        (r#"UPDATE "users" SET ? = ?"#, Some("users"))
    );
}

fn summary(sql: &str) -> (Option<String>, Option<String>, Option<String>) {
    let cmd = SqlCommand::parse(sql, DbSystem::Postgres);
    (
        cmd.operation().map(str::to_owned),
        cmd.collection().map(str::to_owned),
        cmd.summary(),
    )
}

fn some(
    op: &str,
    collection: Option<&str>,
    summary: &str,
) -> (Option<String>, Option<String>, Option<String>) {
    (
        Some(op.into()),
        collection.map(Into::into),
        Some(summary.into()),
    )
}

#[test]
fn operation_and_first_table_make_the_summary() {
    assert_eq!(
        summary("select * from users where id = 1"),
        some("SELECT", Some("users"), "SELECT users")
    );
    assert_eq!(
        summary("INSERT INTO orders (a) VALUES (1)"),
        some("INSERT", Some("orders"), "INSERT orders")
    );
    assert_eq!(
        summary("UPDATE public.accounts SET x = 1"),
        some("UPDATE", Some("public.accounts"), "UPDATE public.accounts")
    );
    assert_eq!(
        summary("DELETE FROM \"Audit Log\" WHERE 1=1"),
        some("DELETE", Some("Audit Log"), "DELETE Audit Log")
    );
    assert_eq!(
        summary("CREATE TABLE IF NOT EXISTS items (id int)"),
        some("CREATE", Some("items"), "CREATE items")
    );
    assert_eq!(
        summary("DROP TABLE IF EXISTS items"),
        some("DROP", Some("items"), "DROP items")
    );
    assert_eq!(summary("BEGIN"), some("BEGIN", None, "BEGIN"));
    assert_eq!(summary("   "), (None, None, None));
}

#[test]
fn several_tables_keep_the_first_in_the_summary_and_no_collection() {
    assert_eq!(
        summary("SELECT * FROM orders o JOIN customers c ON c.id = o.cid"),
        some("SELECT", None, "SELECT orders")
    );
    assert_eq!(
        summary("SELECT * FROM a, b WHERE a.x = b.x"),
        some("SELECT", None, "SELECT a")
    );
    assert_eq!(
        summary("WITH recent AS (SELECT * FROM orders) SELECT * FROM recent"),
        some("SELECT", Some("recent"), "SELECT recent")
    );
    assert_eq!(
        summary("WITH r AS (SELECT 1) DELETE FROM sessions WHERE id IN (SELECT id FROM r)"),
        some("DELETE", None, "DELETE sessions")
    );
}

#[test]
fn from_and_in_inside_function_arguments_name_no_table() {
    assert_eq!(
        summary("SELECT EXTRACT(YEAR FROM created) FROM orders"),
        some("SELECT", Some("orders"), "SELECT orders")
    );
    assert_eq!(
        summary("SELECT SUBSTRING(name FROM start_pos FOR 3) FROM users"),
        some("SELECT", Some("users"), "SELECT users")
    );
    assert_eq!(
        summary("SELECT TRIM(BOTH ' ' FROM name) AS n FROM customers WHERE id = 1"),
        some("SELECT", Some("customers"), "SELECT customers")
    );
    assert_eq!(
        summary("SELECT POSITION('a' IN email) FROM accounts WHERE id IN (1, 2)"),
        some("SELECT", Some("accounts"), "SELECT accounts")
    );
    assert_eq!(
        crate::sanitize::sanitize_sql(
            "SELECT POSITION('a' IN email), SUBSTRING(x FROM 2 FOR 3) FROM t WHERE id IN (1, 2)",
            DbSystem::Postgres
        ),
        "SELECT POSITION(? IN email), SUBSTRING(x FROM ? FOR ?) FROM t WHERE id IN (?)"
    );
    // Subqueries still name their tables, inside function arguments too.
    assert_eq!(
        summary("SELECT COALESCE((SELECT max(d) FROM audit), now()) FROM (SELECT * FROM events) e"),
        some("SELECT", None, "SELECT audit")
    );
    assert_eq!(
        summary("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE EXTRACT(DAY FROM u.d) = 1)"),
        some("SELECT", None, "SELECT t")
    );
}

#[test]
fn a_huge_statement_is_analysed_up_to_a_bound_and_shows_nothing_past_it() {
    let secret = "s3cr3t-".repeat(10 * 1024 * 1024 / 7);
    let numbers: Vec<String> = (0..200_000).map(|i| (i * 7919).to_string()).collect();
    for sql in [
        format!("SELECT * FROM orders WHERE note = '{secret}' AND id = 42"),
        format!("INSERT INTO t (v) VALUES ({})", numbers.join("), (")),
        // Cut inside a multi-byte character.
        format!("SELECT 1 FROM t WHERE a = 'x' {}", "é".repeat(MAX_ANALYZED)),
    ] {
        for system in ALL {
            let command = SqlCommand::parse(&sql, system);
            assert!(command.text().len() <= MAX_ANALYZED + " …".len());
            assert!(command.text().ends_with(" …"), "{system:?}");
            assert!(!command.text().contains("s3cr3t"), "{system:?}");
            assert!(!command.text().contains("7919"), "{system:?}");
            assert!(command.summary().is_some(), "{system:?}");
        }
    }
    let insert = SqlCommand::parse(
        &format!("INSERT INTO t (v) VALUES ({})", numbers.join("), (")),
        DbSystem::Postgres,
    );
    assert_eq!(insert.summary().as_deref(), Some("INSERT t"));
}
