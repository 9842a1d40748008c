//! What a command says about itself: which commands are reported, the
//! collection it targets, and its text with every value masked.

use mongodb::bson::{Bson, Document};

/// Commands that are connection plumbing (handshake, session clean-up at
/// shutdown) or carry credentials: never reported.
const NOT_REPORTED: &[&str] = &[
    "hello",
    "endsessions",
    "ismaster",
    "saslstart",
    "saslcontinue",
    "authenticate",
    "getnonce",
    "copydbgetnonce",
    "copydbsaslstart",
    "copydb",
    "createuser",
    "updateuser",
];

/// Fields the driver adds to every command: session, cluster time and
/// routing, not what the application asked.
const DRIVER_FIELDS: &[&str] = &[
    "$db",
    "lsid",
    "$clusterTime",
    "$readPreference",
    "txnNumber",
];

/// Deeper than this, a masked document shows `…`: hostile input must not
/// make telemetry unbounded.
const MAX_DEPTH: usize = 8;
/// The longest masked text recorded.
const MAX_TEXT: usize = 2048;

pub(crate) fn is_reported(command_name: &str) -> bool {
    !NOT_REPORTED
        .iter()
        .any(|n| n.eq_ignore_ascii_case(command_name))
}

/// The collection a command targets: its first field's value, when that is
/// a name (`{find: "orders"}`); commands like `listCollections: 1` have
/// none.
pub(crate) fn collection<'a>(command_name: &str, command: &'a Document) -> Option<&'a str> {
    match command.get(command_name) {
        Some(Bson::String(name)) if !name.is_empty() => Some(name),
        _ => None,
    }
}

/// The command as JSON-like text with every value replaced by `?`, keeping
/// field names and the collection name; arrays show their first element
/// and `…` for the rest.
pub(crate) fn masked_text(command_name: &str, command: &Document) -> String {
    let mut text = String::from("{");
    let mut first = true;
    for (key, value) in command {
        if DRIVER_FIELDS.contains(&key.as_str()) {
            continue;
        }
        if !first {
            text.push_str(", ");
        }
        first = false;
        push_key(&mut text, key);
        match value {
            Bson::String(name) if key == command_name => push_quoted(&mut text, name),
            other => push_masked(&mut text, other, 1),
        }
        if text.len() > MAX_TEXT {
            break;
        }
    }
    text.push('}');
    truncate(text)
}

fn push_masked(text: &mut String, value: &Bson, depth: usize) {
    if depth > MAX_DEPTH {
        text.push('…');
        return;
    }
    match value {
        Bson::Document(doc) => {
            text.push('{');
            for (i, (key, value)) in doc.iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                push_key(text, key);
                push_masked(text, value, depth + 1);
                if text.len() > MAX_TEXT {
                    break;
                }
            }
            text.push('}');
        }
        Bson::Array(items) => {
            text.push('[');
            if let Some(first) = items.first() {
                push_masked(text, first, depth + 1);
            }
            if items.len() > 1 {
                text.push_str(", …");
            }
            text.push(']');
        }
        _ => text.push('?'),
    }
}

fn push_key(text: &mut String, key: &str) {
    push_quoted(text, key);
    text.push_str(": ");
}

fn push_quoted(text: &mut String, s: &str) {
    text.push('"');
    for c in s.chars() {
        match c {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            c => text.push(c),
        }
    }
    text.push('"');
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    #[test]
    fn values_are_masked_and_names_kept() {
        let command = doc! {
            "find": "orders",
            "filter": { "email": "bob@example.com", "total": { "$gt": 100 } },
            "sort": { "total": -1 },
            "limit": 5,
            "$db": "shop",
            "lsid": { "id": 1 },
        };
        assert_eq!(
            masked_text("find", &command),
            r#"{"find": "orders", "filter": {"email": ?, "total": {"$gt": ?}}, "sort": {"total": ?}, "limit": ?}"#
        );
        assert_eq!(collection("find", &command), Some("orders"));
    }

    #[test]
    fn inserted_documents_show_one_masked_shape() {
        let command = doc! {
            "insert": "users",
            "documents": [ { "name": "ann", "age": 31 }, { "name": "bob", "age": 42 } ],
        };
        assert_eq!(
            masked_text("insert", &command),
            r#"{"insert": "users", "documents": [{"name": ?, "age": ?}, …]}"#
        );
    }

    #[test]
    fn deep_and_long_commands_stay_bounded() {
        let mut nested = doc! { "x": "secret" };
        for _ in 0..100 {
            nested = doc! { "a": nested };
        }
        let text = masked_text("find", &doc! { "find": "t", "filter": nested });
        assert!(text.contains('…'));
        assert!(!text.contains("secret"));
        let wide: Document = (0..2000)
            .map(|i| (format!("field{i}"), Bson::Int32(i)))
            .collect();
        let text = masked_text("find", &doc! { "find": "t", "filter": wide });
        assert!(text.len() <= MAX_TEXT + '…'.len_utf8(), "{}", text.len());
    }

    #[test]
    fn plumbing_and_credentials_are_not_reported() {
        for name in [
            "hello",
            "isMaster",
            "saslStart",
            "authenticate",
            "createUser",
        ] {
            assert!(!is_reported(name), "{name}");
        }
        assert!(is_reported("find"));
        assert_eq!(
            collection("listCollections", &doc! { "listCollections": 1 }),
            None
        );
    }
}
