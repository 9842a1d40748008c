//! A forgiving SQL lexer: it never fails, and anything it cannot classify
//! safely becomes a literal, so an odd query can lose detail but never leak.

/// Which quoting rules apply. The rules differ in ways that matter for
/// leaks: in MySQL `"x"` is a string and `\'` escapes a quote; in PostgreSQL
/// `"x"` is an identifier; in SQLite it is either (kept only where no
/// string can stand). Outside MySQL a backslash is an ordinary character.
///
/// ```
/// use census_sanitize::{Dialect, sanitize_sql};
/// assert_eq!(sanitize_sql(r#"SELECT "x""#, Dialect::MySql), "SELECT ?");
/// assert_eq!(sanitize_sql(r#"SELECT "x""#, Dialect::Postgres), r#"SELECT "x""#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// MySQL and MariaDB.
    MySql,
    /// PostgreSQL: `E'..'` escapes, `$tag$..$tag$` strings, nested comments.
    Postgres,
    /// SQLite: `[name]` and `` `name` `` identifiers.
    Sqlite,
    /// Anything else: standard SQL.
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Keyword or bare identifier.
    Word,
    /// Quoted identifier; the token text includes the quotes.
    QuotedIdent,
    /// SQLite `"x"`: an identifier, or a string when no column `x` exists.
    /// Only the parser can tell which, from where the token stands.
    DoubleQuoted,
    /// String, number, hex, bit or dollar-quoted literal.
    Literal,
    /// Bind parameter: `?`, `?1`, `$1`, `:name`, `@name`.
    Placeholder,
    /// Any other single character, or `::`.
    Punct,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Whitespace or a comment stood between this token and the previous one.
    pub(crate) spaced: bool,
}

impl Token {
    pub(crate) fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }

    pub(crate) fn is_word(&self, sql: &str, word: &str) -> bool {
        self.kind == Kind::Word && self.text(sql).eq_ignore_ascii_case(word)
    }

    pub(crate) fn is_punct(&self, sql: &str, c: char) -> bool {
        self.kind == Kind::Punct && self.text(sql).starts_with(c) && self.end - self.start == 1
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

/// Splits `sql` into tokens; comments and whitespace are dropped.
pub(crate) fn tokenize(sql: &str, dialect: Dialect) -> Vec<Token> {
    Lexer {
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
    }
    .run()
}

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
}

impl Lexer<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn run(mut self) -> Vec<Token> {
        let mut tokens = Vec::with_capacity(self.bytes.len() / 4 + 1);
        let mut spaced = false;
        while let Some(b) = self.peek(0) {
            if b.is_ascii_whitespace() {
                self.pos += 1;
                spaced = true;
                continue;
            }
            if self.skip_comment(b) {
                spaced = true;
                continue;
            }
            let start = self.pos;
            let kind = self.token(b);
            tokens.push(Token {
                kind,
                start,
                end: self.pos,
                spaced,
            });
            spaced = false;
        }
        tokens
    }

    fn skip_comment(&mut self, b: u8) -> bool {
        match (b, self.peek(1)) {
            (b'-', Some(b'-')) => self.skip_line(),
            (b'#', _) if self.dialect == Dialect::MySql => self.skip_line(),
            (b'/', Some(b'*')) => self.skip_block_comment(),
            _ => return false,
        }
        true
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == b'\n' {
                break;
            }
        }
    }

    /// Block comments nest in PostgreSQL and standard SQL; MySQL and SQLite
    /// end at the first `*/`. An unterminated comment runs to the end.
    fn skip_block_comment(&mut self) {
        let nests = matches!(self.dialect, Dialect::Postgres | Dialect::Standard);
        self.pos += 2;
        let mut depth = 1usize;
        while let Some(b) = self.peek(0) {
            match (b, self.peek(1)) {
                (b'*', Some(b'/')) => {
                    self.pos += 2;
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                (b'/', Some(b'*')) if nests => {
                    self.pos += 2;
                    depth += 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn token(&mut self, b: u8) -> Kind {
        match b {
            b'\'' => {
                self.quoted(b'\'', self.dialect == Dialect::MySql);
                Kind::Literal
            }
            b'"' => {
                self.quoted(b'"', self.dialect == Dialect::MySql);
                match self.dialect {
                    Dialect::MySql => Kind::Literal,
                    Dialect::Sqlite => Kind::DoubleQuoted,
                    Dialect::Postgres | Dialect::Standard => Kind::QuotedIdent,
                }
            }
            b'`' => {
                self.quoted(b'`', false);
                Kind::QuotedIdent
            }
            b'[' if self.dialect == Dialect::Sqlite => {
                self.pos += 1;
                self.until(b']');
                Kind::QuotedIdent
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.peek(1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
            b'$' => self.dollar(),
            b'?' => {
                self.pos += 1;
                self.digits();
                Kind::Placeholder
            }
            b':' if self.peek(1) == Some(b':') => {
                self.pos += 2;
                Kind::Punct
            }
            b':' | b'@' if self.peek(1).is_some_and(is_ident_start) => {
                self.pos += 1;
                self.ident_rest();
                Kind::Placeholder
            }
            _ if is_ident_start(b) => self.word(),
            _ => {
                self.pos += 1;
                Kind::Punct
            }
        }
    }

    /// A word, or a prefixed string such as `E'..'`, `N'..'`, `X'..'`, `B'..'`.
    fn word(&mut self) -> Kind {
        let start = self.pos;
        self.ident_rest();
        if self.peek(0) == Some(b'\'') && self.pos - start == 1 {
            let prefix = self.bytes[start].to_ascii_uppercase();
            if matches!(prefix, b'E' | b'N' | b'X' | b'B') {
                let escapes = prefix == b'E' || self.dialect == Dialect::MySql;
                self.quoted(b'\'', escapes);
                return Kind::Literal;
            }
        }
        Kind::Word
    }

    fn ident_rest(&mut self) {
        while self.peek(0).is_some_and(is_ident_continue) {
            self.pos += 1;
        }
    }

    fn digits(&mut self) {
        while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn until(&mut self, end: u8) {
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == end {
                return;
            }
        }
    }

    /// A quoted run; the quote doubled stands for itself, and with
    /// `escapes` a backslash escapes the next byte. Unterminated runs to the end.
    fn quoted(&mut self, quote: u8, escapes: bool) {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if escapes && b == b'\\' {
                self.pos = (self.pos + 1).min(self.bytes.len());
            } else if b == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
    }

    /// Numbers, including `0x1F`, `1.5e-3` and `.5`. Letters glued on
    /// (`1abc`, a MySQL identifier) are swallowed: hiding one is harmless.
    fn number(&mut self) -> Kind {
        while let Some(b) = self.peek(0) {
            let exponent_sign = matches!(b, b'+' | b'-')
                && matches!(self.bytes[self.pos - 1], b'e' | b'E')
                && !self.is_hex_run();
            if is_ident_continue(b) || b == b'.' || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        Kind::Literal
    }

    fn is_hex_run(&self) -> bool {
        let run = &self.bytes[..self.pos];
        let start = run
            .iter()
            .rposition(|b| !is_ident_continue(*b) && *b != b'.')
            .map_or(0, |i| i + 1);
        run[start..].len() > 1 && (run[start + 1] | 0x20) == b'x' && run[start] == b'0'
    }

    /// `$1` is a parameter; `$$..$$` and `$tag$..$tag$` are PostgreSQL strings.
    fn dollar(&mut self) -> Kind {
        if self.peek(1).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
            self.digits();
            return Kind::Placeholder;
        }
        let tag_start = self.pos;
        let mut end = self.pos + 1;
        while self
            .bytes
            .get(end)
            .is_some_and(|b| is_ident_continue(*b) && *b != b'$')
        {
            end += 1;
        }
        if self.bytes.get(end) != Some(&b'$') {
            self.pos += 1;
            return Kind::Punct;
        }
        let tag = &self.bytes[tag_start..=end];
        self.pos = end + 1;
        match self.bytes[self.pos..]
            .windows(tag.len())
            .position(|w| w == tag)
        {
            Some(at) => self.pos += at + tag.len(),
            None => self.pos = self.bytes.len(),
        }
        Kind::Literal
    }
}
