use super::*;
use crate::sanitize_sql;

fn clean(sql: &str, dialect: Dialect) -> String {
    sanitize_sql(sql, dialect)
}

/// Sanitizes and checks that none of `secrets` survives.
fn assert_no_leak(sql: &str, dialect: Dialect, secrets: &[&str]) -> String {
    let out = clean(sql, dialect);
    for secret in secrets {
        assert!(
            !out.contains(secret),
            "{secret:?} leaked from {sql:?} into {out:?}"
        );
    }
    out
}

const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

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
            Dialect::Postgres
        ),
        "SELECT * FROM t WHERE a = $1 AND b = $2 AND c IS NOT NULL AND d = TRUE"
    );
    assert_eq!(
        clean(
            "SELECT * FROM t WHERE a = ? AND b = ?1 AND c = :name AND d = @p",
            Dialect::Sqlite
        ),
        "SELECT * FROM t WHERE a = ? AND b = ?1 AND c = :name AND d = @p"
    );
    assert_eq!(
        clean(
            "SELECT '2024-01-01'::date, x::text FROM t",
            Dialect::Postgres
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
        Dialect::MySql,
        &["Brien", "hunter2"],
    );
    assert_eq!(out, "SELECT * FROM t WHERE a = ? AND b = ?");
    // PostgreSQL: a backslash is an ordinary character, the string ends at `\'`.
    let out = assert_no_leak(
        r"SELECT 'C:\' , secret_col FROM t WHERE pw = 'hunter2'",
        Dialect::Postgres,
        &["hunter2", "C:"],
    );
    assert_eq!(out, "SELECT ? , secret_col FROM t WHERE pw = ?");
    // ... except in E'' strings.
    let out = assert_no_leak(
        r"SELECT E'it\'s hunter2', 'b' FROM t",
        Dialect::Postgres,
        &["hunter2", "it"],
    );
    assert_eq!(out, "SELECT ?, ? FROM t");
}

#[test]
fn double_quotes_are_strings_in_mysql_and_identifiers_in_postgres() {
    assert_eq!(
        clean(
            r#"SELECT * FROM "Users" WHERE "Name" = 'x'"#,
            Dialect::Postgres
        ),
        r#"SELECT * FROM "Users" WHERE "Name" = ?"#
    );
    let out = assert_no_leak(
        r#"SELECT * FROM `users` WHERE name = "hunter2" AND note = "say \"hi\" pw""#,
        Dialect::MySql,
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
        let out = assert_no_leak(sql, Dialect::Sqlite, &["bob", "hunter2", "pw", "%x%"]);
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
        assert_eq!(clean(sql, Dialect::Sqlite), expected, "{sql}");
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
}

#[test]
fn dollar_quoted_strings_are_literals() {
    let out = assert_no_leak(
        "SELECT $$a 'quoted' $x$ secret$$, $tag$ it's $$ hunter2 $tag$, $1 FROM t",
        Dialect::Postgres,
        &["secret", "hunter2", "quoted", "it's"],
    );
    assert_eq!(out, "SELECT ?, ?, $1 FROM t");
    // Unterminated: swallowed to the end rather than leaked.
    assert_eq!(
        assert_no_leak("SELECT $q$ hunter2", Dialect::Postgres, &["hunter2"]),
        "SELECT ?"
    );
}

#[test]
fn comments_are_stripped_including_nested_ones() {
    let out = assert_no_leak(
        "SELECT /* outer /* inner pw=hunter2 */ still comment */ a -- trailing hunter2\nFROM t # not in pg",
        Dialect::Postgres,
        &["hunter2", "outer", "inner", "still", "trailing"],
    );
    assert_eq!(out, "SELECT a FROM t # not in pg");
    let out = assert_no_leak(
        "SELECT a FROM t # hunter2 comment\nWHERE b = 1 /* c */",
        Dialect::MySql,
        &["hunter2", "comment"],
    );
    assert_eq!(out, "SELECT a FROM t WHERE b = ?");
    // Comment markers inside strings are string content, not comments.
    assert_eq!(
        clean(
            "SELECT '-- not a comment', '/* nor this */' FROM t",
            Dialect::Sqlite
        ),
        "SELECT ?, ? FROM t"
    );
    // Unterminated comment: dropped to the end.
    assert_eq!(
        assert_no_leak("SELECT a /* hunter2", Dialect::Sqlite, &["hunter2"]),
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
        clean("SELECT * FROM t WHERE id IN ($1, $2)", Dialect::Postgres),
        "SELECT * FROM t WHERE id IN ($1, $2)"
    );
}

#[test]
fn unicode_is_handled_and_never_leaks() {
    let out = assert_no_leak(
        "SELECT prénom, ñ FROM clients_ü WHERE ville = 'Zürich' AND note = N'東京 🔑 secret' AND emoji = '🙂'",
        Dialect::MySql,
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
        clean("  SELECT\n\ta ,\r\n  b\nFROM   t  ", Dialect::Sqlite),
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
