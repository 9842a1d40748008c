//! Where a diesel connection goes, read from the URL it is established
//! with: diesel hands an instrumentation nothing else. Only the host, port
//! and database are read; the user name only as PostgreSQL's default
//! database, never the password.

use std::borrow::Cow;

use census_core::model::{DbSystem, Target};
use census_core::sanitize::redact_url;
use percent_encoding::percent_decode_str;
use url::Url;

const POSTGRES_PORT: u16 = 5432;
const MYSQL_PORT: u16 = 3306;

/// The database system and target of a connection to `url`, as diesel's
/// backends read it: a `postgres://`, `postgresql://` or libpq `key=value`
/// string is PostgreSQL, `mysql://` is MySQL, anything else a SQLite file
/// name or URI.
pub(crate) fn from_url(url: &str) -> (DbSystem, Target) {
    if has_scheme(url, "postgres") || has_scheme(url, "postgresql") {
        let target = Url::parse(url).map_or_else(|_| Target::new(), |url| postgres_url(&url));
        return (DbSystem::Postgres, target);
    }
    if has_scheme(url, "mysql") {
        let target = Url::parse(url).map_or_else(|_| Target::new(), |url| mysql_url(&url));
        return (DbSystem::MySql, target);
    }
    if let Some(pairs) = conninfo(url) {
        return (DbSystem::Postgres, postgres_conninfo(&pairs));
    }
    (DbSystem::Sqlite, sqlite(url))
}

fn has_scheme(url: &str, scheme: &str) -> bool {
    url.get(..scheme.len() + 3)
        .is_some_and(|start| start.eq_ignore_ascii_case(&format!("{scheme}://")))
}

fn decode(text: &str) -> Cow<'_, str> {
    percent_decode_str(text).decode_utf8_lossy()
}

/// A PostgreSQL target, with libpq's defaults: port 5432, the database
/// named after the user; a host starting with `/` is a unix socket
/// directory, which has no port.
fn postgres(host: Option<&str>, port: Option<u16>, db: Option<&str>, user: Option<&str>) -> Target {
    // libpq tries several hosts in turn; the first is the one to show.
    let host = host
        .and_then(|h| h.split(',').next())
        .filter(|h| !h.is_empty());
    let target = match host {
        Some(dir) if dir.starts_with('/') => Target::new().with_host(dir),
        host => Target::new()
            .with_host(host.unwrap_or("localhost"))
            .with_port(port.unwrap_or(POSTGRES_PORT)),
    };
    match db
        .filter(|d| !d.is_empty())
        .or(user.filter(|u| !u.is_empty()))
    {
        Some(db) => target.with_namespace(db),
        None => target,
    }
}

fn postgres_url(url: &Url) -> Target {
    // Query parameters win over the URL's parts, as in libpq.
    let param = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let host = param("host").or_else(|| url.host_str().map(|h| decode(h).into_owned()));
    let port = param("port").and_then(|p| p.parse().ok()).or(url.port());
    let db =
        param("dbname").or_else(|| Some(decode(url.path().trim_start_matches('/')).into_owned()));
    let user = param("user").or_else(|| Some(decode(url.username()).into_owned()));
    postgres(host.as_deref(), port, db.as_deref(), user.as_deref())
}

fn postgres_conninfo(pairs: &[(&str, String)]) -> Target {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    postgres(
        get("host").or(get("hostaddr")),
        get("port").and_then(|p| p.parse().ok()),
        get("dbname"),
        get("user"),
    )
}

/// The `key=value` pairs of a libpq connection string, when `text` is
/// one: every word a pair, and at least one key saying where to connect
/// or carrying a password (a SQLite file may well be named `a=b`). Keys
/// are matched without case: a misspelt one makes the connection fail,
/// but its text must still not be shown as a file name.
fn conninfo(text: &str) -> Option<Vec<(&str, String)>> {
    const KNOWN: [&str; 7] = [
        "host", "hostaddr", "port", "dbname", "user", "service", "password",
    ];
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim_end();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        let (value, after) = conninfo_value(after.trim_start())?;
        pairs.push((key, value));
        rest = after.trim_start();
    }
    pairs
        .iter()
        .any(|(k, _)| KNOWN.iter().any(|known| k.eq_ignore_ascii_case(known)))
        .then_some(pairs)
}

/// One value and what follows it: up to the next whitespace, or quoted in
/// `'...'` with `\` escaping.
fn conninfo_value(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('\'') else {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        return Some((text[..end].to_owned(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '\'' => return Some((value, &quoted[at + 1..])),
            c => value.push(c),
        }
    }
    None
}

fn mysql_url(url: &Url) -> Target {
    let socket = url
        .query_pairs()
        .find(|(k, _)| k == "unix_socket")
        .map(|(_, v)| v.into_owned());
    let target = match socket {
        Some(socket) => Target::new().with_host(socket),
        None => Target::new()
            .with_host(url.host_str().unwrap_or("localhost"))
            .with_port(url.port().unwrap_or(MYSQL_PORT)),
    };
    match url.path_segments().and_then(|mut s| s.next()) {
        Some(db) if !db.is_empty() => target.with_namespace(decode(db)),
        _ => target,
    }
}

/// A SQLite target: the file (or `:memory:`) as the namespace. diesel
/// opens names as SQLite URIs, turning `sqlite://` into `file:`; a URI's
/// parameters are left out.
fn sqlite(url: &str) -> Target {
    // What diesel reads as a SQLite name may still be meant as a URL with
    // credentials (`sqlite://u:pw@host/x`, `postgresql+psycopg://...`).
    let redacted = Url::parse(url)
        .ok()
        .filter(|u| u.password().is_some() || !u.username().is_empty())
        .map(|u| redact_url(&u));
    let url = redacted.as_deref().unwrap_or(url);
    // Or a libpq string too broken for `conninfo` to recognise.
    let url = &*redact_password_pairs(url);
    let uri_path = |rest: &str| decode(rest.split(['?', '#']).next().unwrap_or("")).into_owned();
    let path = if let Some(rest) = strip_prefix_ignore_case(url, "sqlite://") {
        uri_path(rest)
    } else if let Some(rest) = strip_prefix_ignore_case(url, "file:") {
        // `file://host/path`: the authority is not part of the path.
        let rest = match rest.strip_prefix("//") {
            Some(authority_and_path) => {
                &authority_and_path[authority_and_path
                    .find('/')
                    .unwrap_or(authority_and_path.len())..]
            }
            None => rest,
        };
        uri_path(rest)
    } else {
        url.to_owned()
    };
    if path.is_empty() {
        Target::new()
    } else {
        Target::new().with_namespace(path)
    }
}

/// `text` with the value of every `password=...` word (any case, quoted
/// or not) replaced by `REDACTED`.
fn redact_password_pairs(text: &str) -> Cow<'_, str> {
    const KEY: &str = "password";
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(KEY) {
        let start = from + found;
        from = start + KEY.len();
        let word_start = text[..start]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let after_key = text[from..].trim_start();
        let Some(value) = after_key.strip_prefix('=').filter(|_| word_start) else {
            continue;
        };
        let value = value.trim_start();
        let value_start = text.len() - value.len();
        let value_end = match conninfo_value(value) {
            Some((_, rest)) => text.len() - rest.len(),
            None => text.len(),
        };
        out.push_str(&text[copied..value_start]);
        out.push_str(census_core::sanitize::REDACTED);
        copied = value_end;
        from = value_end.max(from);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.get(..prefix.len())
        .filter(|start| start.eq_ignore_ascii_case(prefix))
        .map(|_| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(host: &str, port: u16) -> Target {
        Target::new().with_host(host).with_port(port)
    }

    fn file(name: &str) -> Target {
        Target::new().with_namespace(name)
    }

    #[test]
    fn postgres_urls() {
        let pg = |t| (DbSystem::Postgres, t);
        assert_eq!(
            from_url("postgres://app:s3cret@db.internal:6432/shop"),
            pg(server("db.internal", 6432).with_namespace("shop"))
        );
        assert_eq!(
            from_url("PostgreSQL://app@db/"),
            pg(server("db", 5432).with_namespace("app")),
            "the database defaults to the user"
        );
        assert_eq!(
            from_url("postgresql:///shop?host=/var/run/postgresql&port=5433"),
            pg(Target::new()
                .with_host("/var/run/postgresql")
                .with_namespace("shop"))
        );
        assert_eq!(
            from_url("postgres://%2Ftmp%2Fpg/shop%20db"),
            pg(Target::new().with_host("/tmp/pg").with_namespace("shop db"))
        );
        assert_eq!(
            from_url("postgres://db/shop?dbname=other&host=h2,h3&port=7"),
            pg(server("h2", 7).with_namespace("other"))
        );
    }

    #[test]
    fn libpq_key_value_strings() {
        let pg = |t| (DbSystem::Postgres, t);
        assert_eq!(
            from_url("host=db port=6432 dbname=shop user=app password='s3 cr\\'et'"),
            pg(server("db", 6432).with_namespace("shop"))
        );
        assert_eq!(
            from_url("user = app"),
            pg(server("localhost", 5432).with_namespace("app"))
        );
        assert_eq!(
            from_url("host=/run/pg dbname='my shop'"),
            pg(Target::new().with_host("/run/pg").with_namespace("my shop"))
        );
    }

    #[test]
    fn mysql_urls() {
        let my = |t| (DbSystem::MySql, t);
        assert_eq!(
            from_url("mysql://app:s3cret@127.0.0.1:3307/shop?ssl_mode=required"),
            my(server("127.0.0.1", 3307).with_namespace("shop"))
        );
        assert_eq!(from_url("mysql://app@db"), my(server("db", 3306)));
        assert_eq!(
            from_url("mysql://app@localhost/shop?unix_socket=/run/mysqld/mysqld.sock"),
            my(Target::new()
                .with_host("/run/mysqld/mysqld.sock")
                .with_namespace("shop"))
        );
    }

    #[test]
    fn sqlite_names_and_uris() {
        let lite = |t| (DbSystem::Sqlite, t);
        assert_eq!(from_url(":memory:"), lite(file(":memory:")));
        assert_eq!(from_url("data/app.db"), lite(file("data/app.db")));
        assert_eq!(
            from_url("a=b.db"),
            lite(file("a=b.db")),
            "not a libpq string"
        );
        assert_eq!(
            from_url("file:app.db?mode=ro&vfs=unix"),
            lite(file("app.db"))
        );
        assert_eq!(
            from_url("file://localhost/var/app%20x.db"),
            lite(file("/var/app x.db"))
        );
        assert_eq!(from_url("sqlite://app.db"), lite(file("app.db")));
        assert_eq!(from_url(""), lite(Target::new()));
    }

    #[test]
    fn a_libpq_string_with_a_misspelt_key_or_only_a_password_shows_no_password() {
        let pg = |t| (DbSystem::Postgres, t);
        assert_eq!(
            from_url("host=db user=bob password=hunter2 dbnAme=shop"),
            pg(server("db", 5432).with_namespace("bob"))
        );
        assert_eq!(from_url("password=hunter2"), pg(server("localhost", 5432)));
    }

    #[test]
    fn credentials_in_what_diesel_opens_as_a_sqlite_name_are_redacted() {
        let lite = |t| (DbSystem::Sqlite, t);
        assert_eq!(
            from_url("h\0st=db PassWord = 'hun ter2' x"),
            lite(file("h\0st=db PassWord = REDACTED x"))
        );
        assert_eq!(from_url("mypassword=x.db"), lite(file("mypassword=x.db")));
        assert_eq!(
            from_url("sqlite://bob:hunter2@db/app.db"),
            lite(file("REDACTED:REDACTED@db/app.db"))
        );
        assert_eq!(
            from_url("postgresql+psycopg://bob:hunter2@db/shop"),
            lite(file("postgresql+psycopg://REDACTED:REDACTED@db/shop"))
        );
    }

    #[test]
    fn unparsable_server_urls_keep_their_system_and_no_target() {
        assert_eq!(
            from_url("postgres://[bad"),
            (DbSystem::Postgres, Target::new())
        );
        assert_eq!(from_url("mysql://:x"), (DbSystem::MySql, Target::new()));
    }

    #[test]
    fn the_password_is_nowhere_in_the_target() {
        for url in [
            "postgres://app:pw-SECRET@db/shop",
            "host=db password=pw-SECRET",
            "mysql://app:pw-SECRET@db/shop",
            "file:app.db?key=pw-SECRET",
        ] {
            let (_, target) = from_url(url);
            let shown = format!("{:?}", target.attributes());
            assert!(!shown.contains("pw-SECRET"), "{url}: {shown}");
        }
    }
}
