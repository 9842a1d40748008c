//! SQL sanitizing and summarizing: literals become `?`, comments go, lists
//! of values collapse, and the operation and first table name the span.

use std::ops::Range;

use super::sql_lexer::{Dialect, Kind, Token, tokenize};

/// What one pass over a SQL statement yields.
///
/// ```
/// use census_sanitize::{Dialect, analyze};
/// let parts = analyze("UPDATE orders SET note = 'x' WHERE id = 7", Dialect::MySql);
/// assert_eq!(parts.text, "UPDATE orders SET note = ? WHERE id = ?");
/// assert_eq!(parts.operation.as_deref(), Some("UPDATE"));
/// assert_eq!(parts.tables, ["orders"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlParts {
    /// The statement with every literal as `?`.
    pub text: String,
    /// The operation (`SELECT`, `INSERT`, ...), upper case.
    pub operation: Option<String>,
    /// The tables the statement names, in order.
    pub tables: Vec<String>,
}

/// The longest prefix of a statement that is analysed. Past it, a
/// statement (often generated, with its values inline) would cost time and
/// memory in proportion to its size on every call; what is cut off is
/// never shown, and cutting inside a literal leaves it unterminated, which
/// hides it like any other.
pub const MAX_ANALYZED: usize = 32 * 1024;

/// [`sanitize_sql`](crate::sanitize_sql)'s text, with the operation and
/// the tables, from one pass over the first [`MAX_ANALYZED`] bytes of
/// `sql` (a statement cut there ends in ` …`).
pub fn analyze(sql: &str, dialect: Dialect) -> SqlParts {
    let analysed = &sql[..sql.floor_char_boundary(MAX_ANALYZED)];
    let mut tokens = tokenize(analysed, dialect);
    settle_double_quoted(analysed, &mut tokens);
    let mut text = render(analysed, &tokens);
    if analysed.len() < sql.len() {
        text.push_str(" …");
    }
    let (operation, tables) = summarize(analysed, &tokens);
    SqlParts {
        text,
        operation,
        tables,
    }
}

/// Writes the tokens back with literals as `?`, one space where the source
/// had whitespace or a comment, and `IN (?, ?, ...)` as `IN (?)`.
fn render(sql: &str, tokens: &[Token]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        if token.spaced && !out.is_empty() {
            out.push(' ');
        }
        // An unsettled SQLite `"x"` may be a string: fail closed.
        if matches!(token.kind, Kind::Literal | Kind::DoubleQuoted) {
            out.push('?');
        } else {
            out.push_str(token.text(sql));
        }
        i += 1;
        if token.is_word(sql, "IN")
            && let Some(len) = value_list_len(sql, &tokens[i..])
        {
            if tokens[i].spaced {
                out.push(' ');
            }
            out.push_str("(?)");
            i += len;
        }
    }
    out
}

/// Length in tokens of `( v , v , ... )` where every `v` is a literal or an
/// anonymous `?`, so that lists of any length sanitize to the same text.
fn value_list_len(sql: &str, tokens: &[Token]) -> Option<usize> {
    if !tokens.first()?.is_punct(sql, '(') {
        return None;
    }
    let mut expect_value = true;
    for (i, token) in tokens.iter().enumerate().skip(1) {
        let is_value = token.kind == Kind::Literal
            || (token.kind == Kind::Placeholder && token.text(sql) == "?");
        match (expect_value, is_value) {
            (true, true) => expect_value = false,
            (false, false) if token.is_punct(sql, ',') => expect_value = true,
            (false, false) if token.is_punct(sql, ')') => return Some(i + 1),
            _ => return None,
        }
    }
    None
}

/// Keeps a SQLite `"x"` as an identifier only where SQLite's grammar
/// allows no string, because SQLite reads `"x"` as the string `'x'` when no
/// column `x` exists (`WHERE email = "bob@x.com"`):
/// - a table or object name: after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`,
///   `VIEW`, `INDEX`, `TRIGGER`, `REFERENCES` or `WITH` (modifiers such as
///   `OR REPLACE` or `IF NOT EXISTS` in between), every name of a
///   `FROM a, b` list, and the alias following a table name there;
/// - an alias after `AS`;
/// - a part of a qualified name, next to a `.` (`"t"."c"`, `main."t"`);
/// - a name in the column list of `INSERT INTO t (...)`.
///
/// These keywords count only outside function arguments (`CAST(x AS "y")`
/// is not an alias). Everywhere else, bare column names included, the token
/// becomes `?`: a lost column name is the price of never leaking a value.
fn settle_double_quoted(sql: &str, tokens: &mut [Token]) {
    if !tokens.iter().any(|t| t.kind == Kind::DoubleQuoted) {
        return;
    }
    const OBJECTS: [&str; 10] = [
        "FROM",
        "JOIN",
        "UPDATE",
        "TABLE",
        "VIEW",
        "INDEX",
        "TRIGGER",
        "REFERENCES",
        "WITH",
        "AS",
    ];
    let mut identifier = vec![false; tokens.len()];
    let targets = names_after(sql, tokens, &["INTO"]);
    for named in names_after(sql, tokens, &OBJECTS).iter().chain(&targets) {
        identifier[named.name.clone()].fill(true);
        if let Some(alias) = named.alias {
            identifier[alias] = true;
        }
    }
    for named in &targets {
        if let Some(len) = column_list_len(sql, &tokens[named.name.end..]) {
            identifier[named.name.end..named.name.end + len].fill(true);
        }
    }
    for i in 0..tokens.len() {
        if tokens[i].kind != Kind::DoubleQuoted {
            continue;
        }
        let next_to_dot = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .any(|j| tokens.get(j).is_some_and(|t| t.is_punct(sql, '.')));
        tokens[i].kind = if identifier[i] || next_to_dot {
            Kind::QuotedIdent
        } else {
            Kind::Literal
        };
    }
}

/// Length in tokens of `( name , name ... )` at the start of `tokens`.
fn column_list_len(sql: &str, tokens: &[Token]) -> Option<usize> {
    if !tokens.first()?.is_punct(sql, '(') {
        return None;
    }
    for (i, token) in tokens.iter().enumerate().skip(1) {
        if token.is_punct(sql, ')') {
            return Some(i + 1);
        }
        if !(is_name(token) || token.is_punct(sql, ',') || token.is_punct(sql, '.')) {
            return None;
        }
    }
    None
}

/// For each token, whether the innermost parentheses around it hold a
/// query (or there are none): keywords inside function arguments, as in
/// `EXTRACT(YEAR FROM d)` or `TRIM(BOTH ' ' FROM name)`, name no table. A
/// group holds a query when it starts with `SELECT`, `WITH` or `VALUES`,
/// or follows `FROM` or `JOIN`.
fn in_query(sql: &str, tokens: &[Token]) -> Vec<bool> {
    let mut groups: Vec<bool> = Vec::new();
    let mut previous: Option<&Token> = None;
    let mut context = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct(sql, ')') {
            groups.pop();
        }
        context.push(groups.last().copied().unwrap_or(true));
        if token.is_punct(sql, '(') {
            let starts_query = tokens.get(i + 1).is_some_and(|t| {
                ["SELECT", "WITH", "VALUES"]
                    .iter()
                    .any(|k| t.is_word(sql, k))
            });
            let after_from =
                previous.is_some_and(|t| t.is_word(sql, "FROM") || t.is_word(sql, "JOIN"));
            groups.push(starts_query || after_from);
        }
        previous = Some(token);
    }
    context
}

const MAIN_OPERATIONS: [&str; 5] = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"];

/// Words that may stand between an operation and the name of its object.
const MODIFIERS: [&str; 25] = [
    "RECURSIVE",
    "TABLE",
    "VIEW",
    "INDEX",
    "UNIQUE",
    "TEMP",
    "TEMPORARY",
    "IF",
    "NOT",
    "EXISTS",
    "OR",
    "REPLACE",
    "IGNORE",
    "ONLY",
    "LOW_PRIORITY",
    "DELAYED",
    "HIGH_PRIORITY",
    "QUICK",
    "MATERIALIZED",
    "SEQUENCE",
    "SCHEMA",
    "DATABASE",
    "TRIGGER",
    "FUNCTION",
    "UNLOGGED",
];

fn summarize(sql: &str, tokens: &[Token]) -> (Option<String>, Vec<String>) {
    let Some(first) = tokens.first().filter(|t| t.kind == Kind::Word) else {
        return (None, Vec::new());
    };
    // `WITH cte AS (...) SELECT ...`: the statement is the first main
    // operation outside the common table expressions.
    let op_index = if first.is_word(sql, "WITH") {
        let mut depth = 0i32;
        tokens
            .iter()
            .position(|t| {
                depth += i32::from(t.is_punct(sql, '(')) - i32::from(t.is_punct(sql, ')'));
                depth == 0 && MAIN_OPERATIONS.iter().any(|op| t.is_word(sql, op))
            })
            .unwrap_or(0)
    } else {
        0
    };
    let operation = tokens[op_index].text(sql).to_ascii_uppercase();
    let rest = &tokens[op_index + 1..];
    let tables = match operation.as_str() {
        "SELECT" | "DELETE" => table_names(sql, rest, &["FROM", "JOIN"]),
        "INSERT" | "REPLACE" => table_names(sql, rest, &["INTO"]),
        "UPDATE" => {
            let mut tables = object_name(sql, rest).into_iter().collect::<Vec<_>>();
            tables.extend(table_names(sql, rest, &["FROM", "JOIN"]));
            tables
        }
        "MERGE" => table_names(sql, rest, &["INTO", "USING"]),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => object_name(sql, rest).into_iter().collect(),
        _ => Vec::new(),
    };
    (Some(operation), tables)
}

/// The object name after an operation's modifiers (`DROP TABLE IF EXISTS x`).
fn object_name(sql: &str, tokens: &[Token]) -> Option<String> {
    let skip = tokens
        .iter()
        .take_while(|t| MODIFIERS.iter().any(|m| t.is_word(sql, m)))
        .count();
    let rest = &tokens[skip..];
    rest.first()
        .is_some_and(is_name)
        .then(|| name_text(sql, &rest[..name_len(sql, rest)]))
}

/// Every table named after one of `keywords`, in order, without repeats.
fn table_names(sql: &str, tokens: &[Token], keywords: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for named in names_after(sql, tokens, keywords) {
        let name = name_text(sql, &tokens[named.name]);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A name found after a keyword, as token positions.
struct Named {
    name: Range<usize>,
    /// The alias after a name in a `FROM` or `JOIN` list.
    alias: Option<usize>,
}

/// The names after each of `keywords` outside function arguments, any
/// modifiers in between skipped; after `FROM` and `JOIN`, every name of a
/// comma-separated list `FROM a x, b AS y, c`.
fn names_after(sql: &str, tokens: &[Token], keywords: &[&str]) -> Vec<Named> {
    let context = in_query(sql, tokens);
    let mut names = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if !context[i] || !keywords.iter().any(|k| token.is_word(sql, k)) {
            continue;
        }
        let lists = token.is_word(sql, "FROM") || token.is_word(sql, "JOIN");
        let mut at = i + 1;
        at += tokens[at..]
            .iter()
            .take_while(|t| MODIFIERS.iter().any(|m| t.is_word(sql, m)))
            .count();
        while tokens.get(at).is_some_and(is_name) {
            let name = at..at + name_len(sql, &tokens[at..]);
            at = name.end;
            if !lists {
                names.push(Named { name, alias: None });
                break;
            }
            if tokens.get(at).is_some_and(|t| t.is_word(sql, "AS")) {
                at += 1;
            }
            // One alias at most: a longer run of words is the next clause.
            let alias = tokens
                .get(at)
                .filter(|t| is_name(t) && !is_clause_word(sql, t))
                .map(|_| at);
            names.push(Named { name, alias });
            at += usize::from(alias.is_some());
            if tokens.get(at).is_some_and(|t| t.is_punct(sql, ',')) {
                at += 1;
            } else {
                break;
            }
        }
    }
    names
}

fn is_name(token: &Token) -> bool {
    matches!(
        token.kind,
        Kind::Word | Kind::QuotedIdent | Kind::DoubleQuoted
    )
}

fn is_clause_word(sql: &str, token: &Token) -> bool {
    const CLAUSES: [&str; 20] = [
        "WHERE",
        "JOIN",
        "INNER",
        "LEFT",
        "RIGHT",
        "FULL",
        "CROSS",
        "NATURAL",
        "ON",
        "USING",
        "GROUP",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "HAVING",
        "UNION",
        "SET",
        "VALUES",
        "RETURNING",
        "WINDOW",
    ];
    CLAUSES.iter().any(|c| token.is_word(sql, c))
}

/// Number of tokens in a `schema.table` name at the start of `tokens`.
fn name_len(sql: &str, tokens: &[Token]) -> usize {
    let mut len = 1;
    while tokens.get(len).is_some_and(|t| t.is_punct(sql, '.'))
        && tokens.get(len + 1).is_some_and(is_name)
    {
        len += 2;
    }
    len
}

/// The `schema.table` name made of `tokens`, quotes removed.
fn name_text(sql: &str, tokens: &[Token]) -> String {
    let mut name = String::new();
    for token in tokens.iter().step_by(2) {
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(unquote(token.text(sql)));
    }
    name
}

fn unquote(text: &str) -> &str {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'"'), Some(b'"')) | (Some(b'`'), Some(b'`')) | (Some(b'['), Some(b']'))
            if text.len() >= 2 =>
        {
            &text[1..text.len() - 1]
        }
        _ => text,
    }
}

#[cfg(test)]
#[path = "sql_tests.rs"]
mod tests;
