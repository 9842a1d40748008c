use super::*;
use crate::model::{DbSystem, SqlCommand};
use crate::sanitize::sanitize_sql;

fn clean(sql: &str, system: DbSystem) -> String {
    sanitize_sql(sql, system)
}

/// Sanitizes and checks that none of `secrets` survives.
fn assert_no_leak(sql: &str, system: DbSystem, secrets: &[&str]) -> String {
    let out = clean(sql, system);
    for secret in secrets {
        assert!(
            !out.contains(secret),
            "{secret:?} leaked from {sql:?} into {out:?}"
        );
    }
    out
}

const ALL: [DbSystem; 4] = [
    DbSystem::Postgres,
    DbSystem::MySql,
    DbSystem::Sqlite,
    DbSystem::MariaDb,
];

#[test]
fn literals_become_placeholders() {
    for system in ALL {
        assert_eq!(
            clean(
                "SELECT * FROM users WHERE name = 'bob' AND age > 42 AND score < -1.5e3",
                system
            ),
            "SELECT * FROM users WHERE name = ? AND age > ? AND score < -?"
        );
        assert_eq!(
            clean(
                "UPDATE t SET a = 0x1F, b = X'ABCD', c = .5, d = 1e-9 WHERE id = 7",
                system
            ),
            "UPDATE t SET a = ?, b = ?, c = ?, d = ? WHERE id = ?"
        );
    }
}

#[test]
fn bind_parameters_and_keywords_are_kept() {
    assert_eq!(
        clean(
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IS NOT NULL AND d = TRUE",
            DbSystem::Postgres
        ),
        "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IS NOT NULL AND d = TRUE"
    );
    assert_eq!(
        clean(
            "SELECT * FROM t WHERE a = ? AND b = ?1 AND c = :name AND d = @p",
            DbSystem::Sqlite
        ),
        "SELECT * FROM t WHERE a = ? AND b = ?1 AND c = :name AND d = @p"
    );
    assert_eq!(
        clean(
            "SELECT '2024-01-01'::date, x::text FROM t",
            DbSystem::Postgres
        ),
        "SELECT ?::date, x::text FROM t"
    );
}

#[test]
fn numbers_inside_identifiers_are_not_literals() {
    for system in ALL {
        assert_eq!(
            clean(
                "SELECT col1, t2.c_3, x$4 FROM table9 t2 WHERE v2 = 9",
                system
            ),
            "SELECT col1, t2.c_3, x$4 FROM table9 t2 WHERE v2 = ?"
        );
    }
}

#[test]
fn quotes_inside_strings_do_not_end_them() {
    for system in ALL {
        let out = assert_no_leak(
            "SELECT * FROM t WHERE a = 'it''s secret' AND b = 'x \" y' AND c = 1",
            system,
            &["secret", "it", "\" y"],
        );
        assert_eq!(out, "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?");
    }
}

#[test]
fn backslash_escapes_follow_the_dialect() {
    // MySQL: `\'` is an escaped quote inside the string.
    let out = assert_no_leak(
        r"SELECT * FROM t WHERE a = 'O\'Brien pw=hunter2' AND b = 'x'",
        DbSystem::MySql,
        &["Brien", "hunter2"],
    );
    assert_eq!(out, "SELECT * FROM t WHERE a = ? AND b = ?");
    // PostgreSQL: a backslash is an ordinary character, the string ends at `\'`.
    let out = assert_no_leak(
        r"SELECT 'C:\' , secret_col FROM t WHERE pw = 'hunter2'",
        DbSystem::Postgres,
        &["hunter2", "C:"],
    );
    assert_eq!(out, "SELECT ? , secret_col FROM t WHERE pw = ?");
    // ... except in E'' strings.
    let out = assert_no_leak(
        r"SELECT E'it\'s hunter2', 'b' FROM t",
        DbSystem::Postgres,
        &["hunter2", "it"],
    );
    assert_eq!(out, "SELECT ?, ? FROM t");
}

#[test]
fn double_quotes_are_strings_in_mysql_and_identifiers_in_postgres() {
    assert_eq!(
        clean(
            r#"SELECT * FROM "Users" WHERE "Name" = 'x'"#,
            DbSystem::Postgres
        ),
        r#"SELECT * FROM "Users" WHERE "Name" = ?"#
    );
    let out = assert_no_leak(
        r#"SELECT * FROM `users` WHERE name = "hunter2" AND note = "say \"hi\" pw""#,
        DbSystem::MySql,
        &["hunter2", "hi", "pw"],
    );
    assert_eq!(out, "SELECT * FROM `users` WHERE name = ? AND note = ?");
}

#[test]
fn sqlite_double_quoted_strings_never_leak() {
    // SQLite reads `"x"` as a string when no column `x` exists.
    let cases = [
        (
            r#"SELECT * FROM users WHERE email = "bob@x.com""#,
            "SELECT * FROM users WHERE email = ?",
        ),
        (
            r#"SELECT "hunter2" = password, upper("bob") FROM users"#,
            "SELECT ? = password, upper(?) FROM users",
        ),
        (
            r#"SELECT * FROM t WHERE "bob" = name OR name IN ("a", "b") OR n LIKE "%x%""#,
            "SELECT * FROM t WHERE ? = name OR name IN (?) OR n LIKE ?",
        ),
        (
            r#"INSERT INTO t VALUES ("bob", "hunter2")"#,
            "INSERT INTO t VALUES (?, ?)",
        ),
        (
            r#"UPDATE t SET a = "hunter2", b = CASE WHEN c THEN "x" ELSE "y" END WHERE id = 1"#,
            "UPDATE t SET a = ?, b = CASE WHEN c THEN ? ELSE ? END WHERE id = ?",
        ),
        (
            r#"SELECT * FROM json_each("{""pw"":1}") j, t ORDER BY "bob""#,
            "SELECT * FROM json_each(?) j, t ORDER BY ?",
        ),
        (
            r#"SELECT CAST("42" AS "int") FROM t GROUP BY a HAVING a <> "hunter2""#,
            "SELECT CAST(? AS ?) FROM t GROUP BY a HAVING a <> ?",
        ),
        (
            r#"SELECT a AS "x", "hunter2" FROM t EXCEPT SELECT a, "bob" FROM u"#,
            r#"SELECT a AS "x", ? FROM t EXCEPT SELECT a, ? FROM u"#,
        ),
    ];
    for (sql, expected) in cases {
        let out = assert_no_leak(sql, DbSystem::Sqlite, &["bob", "hunter2", "pw", "%x%"]);
        assert_eq!(out, expected, "{sql}");
    }
}

#[test]
fn sqlite_double_quoted_identifiers_are_kept_where_no_string_can_stand() {
    let cases = [
        // Table names, their aliases and FROM lists; qualified names; aliases.
        (
            r#"SELECT "u"."name" AS "n", o.id FROM "users" "u", "orders" AS o JOIN main."items" ON "items".id = o.item"#,
            r#"SELECT "u"."name" AS "n", o.id FROM "users" "u", "orders" AS o JOIN main."items" ON "items".id = o.item"#,
        ),
        // The column list of an INSERT, but not its values.
        (
            r#"INSERT INTO "users" ("name", "email") VALUES ("bob", 'x')"#,
            r#"INSERT INTO "users" ("name", "email") VALUES (?, ?)"#,
        ),
        (
            r#"INSERT OR REPLACE INTO "t" SELECT "bob" FROM "u""#,
            r#"INSERT OR REPLACE INTO "t" SELECT ? FROM "u""#,
        ),
        // A bare column could be a string: it goes.
        (
            r#"UPDATE OR IGNORE "users" SET "name" = "bob" WHERE "id" = 1"#,
            r#"UPDATE OR IGNORE "users" SET ? = ? WHERE ? = ?"#,
        ),
        (
            r#"CREATE TABLE IF NOT EXISTS "items" ("id" INTEGER, "name" TEXT DEFAULT "none")"#,
            r#"CREATE TABLE IF NOT EXISTS "items" (? INTEGER, ? TEXT DEFAULT ?)"#,
        ),
        (
            r#"WITH "r" AS (SELECT "x" FROM "t") DELETE FROM "Audit Log" WHERE id IN (SELECT id FROM "r")"#,
            r#"WITH "r" AS (SELECT ? FROM "t") DELETE FROM "Audit Log" WHERE id IN (SELECT id FROM "r")"#,
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(clean(sql, DbSystem::Sqlite), expected, "{sql}");
    }
    let parts = analyze(
        r#"SELECT "a" FROM "users" "u", "orders" WHERE x = "bob""#,
        Dialect::Sqlite,
    );
    assert_eq!(
        parts,
        SqlParts {
            text: r#"SELECT ? FROM "users" "u", "orders" WHERE x = ?"#.into(),
            operation: Some("SELECT".into()),
            tables: vec!["users".into(), "orders".into()],
        }
    );
    let cmd = SqlCommand::parse(r#"UPDATE "users" SET "a" = "b""#, DbSystem::Sqlite);
    assert_eq!(
        (cmd.text(), cmd.collection()),
        (r#"UPDATE "users" SET ? = ?"#, Some("users"))
    );
}

#[test]
fn dollar_quoted_strings_are_literals() {
    let out = assert_no_leak(
        "SELECT $$a 'quoted' $x$ secret$$, $tag$ it's $$ hunter2 $tag$, $1 FROM t",
        DbSystem::Postgres,
        &["secret", "hunter2", "quoted", "it's"],
    );
    assert_eq!(out, "SELECT ?, ?, $1 FROM t");
    // Unterminated: swallowed to the end rather than leaked.
    assert_eq!(
        assert_no_leak("SELECT $q$ hunter2", DbSystem::Postgres, &["hunter2"]),
        "SELECT ?"
    );
}

#[test]
fn comments_are_stripped_including_nested_ones() {
    let out = assert_no_leak(
        "SELECT /* outer /* inner pw=hunter2 */ still comment */ a -- trailing hunter2\nFROM t # not in pg",
        DbSystem::Postgres,
        &["hunter2", "outer", "inner", "still", "trailing"],
    );
    assert_eq!(out, "SELECT a FROM t # not in pg");
    let out = assert_no_leak(
        "SELECT a FROM t # hunter2 comment\nWHERE b = 1 /* c */",
        DbSystem::MySql,
        &["hunter2", "comment"],
    );
    assert_eq!(out, "SELECT a FROM t WHERE b = ?");
    // Comment markers inside strings are string content, not comments.
    assert_eq!(
        clean(
            "SELECT '-- not a comment', '/* nor this */' FROM t",
            DbSystem::Sqlite
        ),
        "SELECT ?, ? FROM t"
    );
    // Unterminated comment: dropped to the end.
    assert_eq!(
        assert_no_leak("SELECT a /* hunter2", DbSystem::Sqlite, &["hunter2"]),
        "SELECT a"
    );
}

#[test]
fn in_lists_collapse() {
    for system in ALL {
        assert_eq!(
            clean(
                "SELECT * FROM t WHERE id IN (1, 2, 3) AND s in ('a','b') AND q IN (?, ?)",
                system
            ),
            "SELECT * FROM t WHERE id IN (?) AND s in (?) AND q IN (?)"
        );
        // A subquery or a column list is not a value list.
        assert_eq!(
            clean(
                "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = 5) OR (a, b) IN ((1, 2))",
                system
            ),
            "SELECT * FROM t WHERE id IN (SELECT id FROM u WHERE x = ?) OR (a, b) IN ((?, ?))"
        );
    }
    assert_eq!(
        clean("SELECT * FROM t WHERE id IN ($1, $2)", DbSystem::Postgres),
        "SELECT * FROM t WHERE id IN ($1, $2)"
    );
}

#[test]
fn unicode_is_handled_and_never_leaks() {
    let out = assert_no_leak(
        "SELECT prénom, ñ FROM clients_ü WHERE ville = 'Zürich' AND note = N'東京 🔑 secret' AND emoji = '🙂'",
        DbSystem::MySql,
        &["Zürich", "東京", "🔑", "secret", "🙂"],
    );
    assert_eq!(
        out,
        "SELECT prénom, ñ FROM clients_ü WHERE ville = ? AND note = ? AND emoji = ?"
    );
}

#[test]
fn whitespace_is_folded() {
    assert_eq!(
        clean("  SELECT\n\ta ,\r\n  b\nFROM   t  ", DbSystem::Sqlite),
        "SELECT a , b FROM t"
    );
}

#[test]
fn unterminated_strings_never_leak() {
    for system in ALL {
        assert_eq!(
            assert_no_leak("SELECT * FROM t WHERE a = 'hunter2", system, &["hunter2"]),
            "SELECT * FROM t WHERE a = ?"
        );
    }
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
        clean(
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
fn analyze_reports_text_operation_and_tables_in_one_pass() {
    let parts = analyze("SELECT a FROM `t` WHERE b = 'x'", Dialect::MySql);
    assert_eq!(
        parts,
        SqlParts {
            text: "SELECT a FROM `t` WHERE b = ?".into(),
            operation: Some("SELECT".into()),
            tables: vec!["t".into()],
        }
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
