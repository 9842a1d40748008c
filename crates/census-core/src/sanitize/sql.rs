//! SQL sanitizing and summarizing: literals become `?`, comments go, lists
//! of values collapse, and the operation and first table name the span.

use super::sql_lexer::{Dialect, Kind, Token, tokenize};

/// What one pass over a SQL statement yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlParts {
    pub(crate) text: String,
    pub(crate) operation: Option<String>,
    pub(crate) tables: Vec<String>,
}

pub(crate) fn analyze(sql: &str, dialect: Dialect) -> SqlParts {
    let tokens = tokenize(sql, dialect);
    let text = render(sql, &tokens);
    let (operation, tables) = summarize(sql, &tokens);
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
        if token.kind == Kind::Literal {
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

const MAIN_OPERATIONS: [&str; 5] = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"];

/// Words that may stand between an operation and the name of its object.
const MODIFIERS: [&str; 24] = [
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
        "SELECT" | "DELETE" => names_after(sql, rest, &["FROM", "JOIN"]),
        "INSERT" | "REPLACE" => names_after(sql, rest, &["INTO"]),
        "UPDATE" => {
            let mut tables = object_name(sql, rest).into_iter().collect::<Vec<_>>();
            tables.extend(names_after(sql, rest, &["FROM", "JOIN"]));
            tables
        }
        "MERGE" => names_after(sql, rest, &["INTO", "USING"]),
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
    qualified_name(sql, &tokens[skip..])
}

/// Every table named after one of `keywords`, in order, without repeats;
/// comma-separated `FROM a, b` lists count too.
fn names_after(sql: &str, tokens: &[Token], keywords: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    for (i, token) in tokens.iter().enumerate() {
        if !keywords.iter().any(|k| token.is_word(sql, k)) {
            continue;
        }
        let mut at = i + 1;
        while let Some(name) = qualified_name(sql, &tokens[at..]) {
            at += name_len(sql, &tokens[at..]);
            push(name);
            // Skip an alias, then continue only through a comma list.
            while tokens
                .get(at)
                .is_some_and(|t| t.kind == Kind::Word && !is_clause_word(sql, t))
            {
                at += 1;
            }
            if tokens.get(at).is_some_and(|t| t.is_punct(sql, ',')) {
                at += 1;
            } else {
                break;
            }
        }
    }
    names
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
        && tokens
            .get(len + 1)
            .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::QuotedIdent))
    {
        len += 2;
    }
    len
}

/// `schema.table` at the start of `tokens`, quotes removed; `None` for a
/// subquery or anything that is not a name.
fn qualified_name(sql: &str, tokens: &[Token]) -> Option<String> {
    let first = tokens.first()?;
    if !matches!(first.kind, Kind::Word | Kind::QuotedIdent) {
        return None;
    }
    let len = name_len(sql, tokens);
    let mut name = String::new();
    for token in tokens[..len].iter().step_by(2) {
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(unquote(token.text(sql)));
    }
    Some(name)
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
