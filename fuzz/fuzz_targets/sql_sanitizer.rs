//! The SQL sanitizer, in every dialect: no panic on any text, and no
//! literal survives. Statements are built from tokens with literals at
//! token positions; rendered with the fuzzer's literals and again with
//! two fixed sets, the three sanitized texts must be identical, so that
//! nothing of a literal's content can reach telemetry.
#![no_main]

use arbitrary::Arbitrary;
use census_core::model::{DbSystem, SqlCommand};
use census_sanitize::sanitize_sql;
use libfuzzer_sys::fuzz_target;

const SYSTEMS: [DbSystem; 4] = [
    DbSystem::Postgres,
    DbSystem::MySql,
    DbSystem::MariaDb,
    DbSystem::Sqlite,
];

const WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "IN",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "LIMIT",
    "OFFSET",
    "AS",
    "JOIN",
    "ON",
    "NOT",
    "NULL",
    "IS",
    "LIKE",
    "BETWEEN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "ORDER",
    "BY",
    "GROUP",
    "HAVING",
    "UNION",
    "CALL",
    "WITH",
    "t",
    "users",
    "a",
    "b",
    "col_1",
    "\"Quoted\"",
    "`tick`",
    "count",
    "x.y",
];
const OPERATORS: &[&str] = &[
    "=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "*", "/", "%", "||", "::", ".", "(", ")", ",",
    ";",
];
const PLACEHOLDERS: &[&str] = &["?", "$1", ":name", "@v", "?2"];
const COMMENTS: &[&str] = &["-- note\n", "/* note */", "/* a /* nested */ b */"];

#[derive(Debug, Arbitrary)]
enum Piece {
    Word(u8),
    Operator(u8),
    Placeholder(u8),
    Comment(u8),
    Literal(Literal),
}

#[derive(Debug, Arbitrary)]
enum Literal {
    Text(String),
    /// `E'..'`, `N'..'`, `X'..'` or `B'..'`.
    Prefixed(u8, String),
    Integer(u64),
    Decimal(u32, u32),
    Exponent(u32, i8),
    Hex(u64),
    /// `$tag$..$tag$`, PostgreSQL only.
    Dollar(u8, String),
    /// `".."`, a string in MySQL only.
    DoubleQuoted(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    system: u8,
    pieces: Vec<Piece>,
    raw: String,
}

/// `content` inside `quote`s, escaped the way every dialect reads alike:
/// the quote doubled, a backslash doubled.
fn quoted(quote: char, content: &str) -> String {
    let mut text = String::from(quote);
    for c in content.chars() {
        if c == quote || c == '\\' {
            text.push(c);
        }
        text.push(c);
    }
    text.push(quote);
    text
}

/// The literal as SQL; with `fixed`, the same kind of literal with
/// content that depends only on `fixed`.
fn render(literal: &Literal, system: DbSystem, fixed: Option<&str>) -> String {
    let text = |content: &str| fixed.map_or_else(|| content.to_owned(), str::to_owned);
    let digits = |n: u64| fixed.map_or_else(|| n.to_string(), |f| f.len().to_string());
    match literal {
        Literal::Text(content) => quoted('\'', &text(content)),
        Literal::Prefixed(prefix, content) => {
            let prefix = ['E', 'N', 'X', 'B'][usize::from(*prefix % 4)];
            format!("{prefix}{}", quoted('\'', &text(content)))
        }
        Literal::Integer(n) => digits(*n),
        Literal::Decimal(a, b) => format!("{}.{}", digits(u64::from(*a)), digits(u64::from(*b))),
        Literal::Exponent(a, e) => format!(
            "{}e{}",
            digits(u64::from(*a)),
            digits(u64::from(e.unsigned_abs()))
        ),
        Literal::Hex(n) => fixed.map_or_else(|| format!("0x{n:X}"), |f| format!("0x{}", f.len())),
        Literal::Dollar(tag, content) if system == DbSystem::Postgres => {
            let tag = ["", "q", "body"][usize::from(*tag % 3)];
            let content = text(content).replace('$', "S");
            format!("${tag}${content}${tag}$")
        }
        Literal::DoubleQuoted(content) if matches!(system, DbSystem::MySql | DbSystem::MariaDb) => {
            quoted('"', &text(content))
        }
        Literal::Dollar(_, content) | Literal::DoubleQuoted(content) => {
            quoted('\'', &text(content))
        }
    }
}

fn statement(pieces: &[Piece], system: DbSystem, fixed: Option<&str>) -> String {
    let pick = |list: &[&'static str], i: u8| list[usize::from(i) % list.len()];
    let mut sql = String::new();
    for piece in pieces {
        let token = match piece {
            Piece::Word(i) => pick(WORDS, *i).to_owned(),
            Piece::Operator(i) => pick(OPERATORS, *i).to_owned(),
            Piece::Placeholder(i) => pick(PLACEHOLDERS, *i).to_owned(),
            Piece::Comment(i) => pick(COMMENTS, *i).to_owned(),
            Piece::Literal(literal) => render(literal, system, fixed),
        };
        sql.push_str(&token);
        sql.push(' ');
    }
    sql
}

fuzz_target!(|input: Input| {
    for system in SYSTEMS {
        let _ = sanitize_sql(&input.raw, system);
        let _ = SqlCommand::parse(&input.raw, system);
    }
    let system = SYSTEMS[usize::from(input.system) % SYSTEMS.len()];
    let fuzzed = statement(&input.pieces, system, None);
    let sanitized = sanitize_sql(&fuzzed, system);
    for fixed in ["k", "zz"] {
        let other = statement(&input.pieces, system, Some(fixed));
        assert_eq!(
            sanitized,
            sanitize_sql(&other, system),
            "{system:?}: a literal shows through\n  {fuzzed}\n  {other}"
        );
    }
    let (name, attributes) = SqlCommand::parse(&fuzzed, system).describe(system);
    let (other_name, other_attributes) =
        SqlCommand::parse(&statement(&input.pieces, system, Some("k")), system).describe(system);
    assert_eq!(name, other_name, "{system:?}: {fuzzed}");
    assert_eq!(attributes, other_attributes, "{system:?}: {fuzzed}");
});
