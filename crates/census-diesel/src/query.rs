//! The SQL of a query as diesel shows it to an instrumentation, without
//! its bind values.
//!
//! diesel only shows a query through `Display`, as the SQL followed by
//! ` -- binds: [...]`. Formatting stops where that comment starts, so bind
//! values (possibly large, always possibly secret) are never formatted at
//! all.

use std::fmt::{self, Write};

use diesel::connection::DebugQuery;

/// Where diesel's `Display` output turns from SQL to bind values.
const BINDS: &str = " -- binds: ";

/// `query`'s SQL, without the bind values diesel appends.
pub(crate) fn sql(query: &dyn DebugQuery) -> String {
    let mut text = UntilBinds(String::new());
    // The error is how the writer stops formatting: expected, not a failure.
    let _ = write!(text, "{query}");
    text.0
}

/// A buffer that refuses anything once diesel's bind comment has started.
struct UntilBinds(String);

impl Write for UntilBinds {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The marker may straddle two writes: look where it could start.
        let from = self.0.len().saturating_sub(BINDS.len() - 1);
        self.0.push_str(s);
        let search = self.0.floor_char_boundary(from);
        match self.0[search..].find(BINDS) {
            Some(at) => {
                self.0.truncate(search + at);
                Err(fmt::Error)
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shows a query the way diesel's `DebugQuery` does, counting how many
    /// bind values were formatted.
    struct Shown<'a> {
        sql: &'a str,
        binds: std::cell::Cell<usize>,
    }

    struct Bind<'a>(&'a std::cell::Cell<usize>);

    impl fmt::Debug for Bind<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str("\"secret\"")
        }
    }

    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let sql = self.sql.to_owned();
            write!(f, "{sql} -- binds: {:?}", [Bind(&self.binds)])
        }
    }

    impl fmt::Debug for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(self, f)
        }
    }

    impl DebugQuery for Shown<'_> {}

    #[test]
    fn the_sql_is_kept_and_the_binds_are_never_formatted() {
        let query = Shown {
            sql: "SELECT \"users\".\"id\" FROM \"users\" WHERE \"users\".\"email\" = $1",
            binds: Default::default(),
        };
        assert_eq!(sql(&query), query.sql);
        assert_eq!(query.binds.get(), 0);
    }

    #[test]
    fn a_marker_split_across_writes_is_found() {
        let mut text = UntilBinds(String::new());
        assert!(text.write_str("SELECT 1 -- bi").is_ok());
        assert!(text.write_str("nds: [1]").is_err());
        assert_eq!(text.0, "SELECT 1");
    }

    #[test]
    fn text_without_binds_is_kept_whole() {
        // `batch_execute` shows its string as it is.
        struct Plain;
        impl fmt::Display for Plain {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("BEGIN; SELECT 'é'")
            }
        }
        impl fmt::Debug for Plain {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
        impl DebugQuery for Plain {}
        assert_eq!(sql(&Plain), "BEGIN; SELECT 'é'");
    }
}
