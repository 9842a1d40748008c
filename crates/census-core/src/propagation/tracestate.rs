//! W3C Trace Context's `tracestate`, read as Level 2 specifies it.
//!
//! A request may carry the list in several headers, which together form
//! one list in the order received; members may be empty and surrounded by
//! spaces or tabs; a list with a member that breaks the grammar, or with
//! more than 32 members, is invalid and dropped whole.
//!
//! OpenTelemetry's `TraceState` checks keys by an older grammar, which
//! refuses some keys the specification allows (`foo@@bar`, a system part
//! longer than 13 characters). Such a list is kept as its header text
//! ([`Foreign`]), so census passes it on unchanged all the same.

use opentelemetry::trace::{TraceId, TraceState};

/// At most this many members in a list.
const MAX_MEMBERS: usize = 32;
/// At most this many characters in a key, and in a value.
const MAX_LEN: usize = 256;

/// What a request's `tracestate` headers hold.
#[derive(Debug, PartialEq)]
pub(super) enum List {
    /// A valid list (perhaps empty) that OpenTelemetry's `TraceState`
    /// holds.
    State(TraceState),
    /// A valid list that `TraceState` refuses, as its header text.
    Foreign(String),
    /// No valid list: dropped whole.
    Invalid,
}

/// The list the `headers` (every `tracestate` header of a request, in
/// order) form together.
pub(super) fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> List {
    let mut members: Vec<(&str, &str)> = Vec::new();
    for header in headers {
        for member in header.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let Some((key, value)) = member.split_once('=') else {
                return List::Invalid;
            };
            if members.len() == MAX_MEMBERS || !valid_key(key) || !valid_value(value) {
                return List::Invalid;
            }
            members.push((key, value));
        }
    }
    match TraceState::from_key_value(members.iter().copied()) {
        Ok(state) => List::State(state),
        Err(_) => List::Foreign(
            members
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}

/// `key = (lcalpha / DIGIT) 0*255(keychar)`, where a `keychar` is a
/// lowercase letter, a digit, `_`, `-`, `*`, `/` or `@`.
fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let keychar =
        |b: &u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@');
    matches!(bytes.first(), Some(b'a'..=b'z' | b'0'..=b'9'))
        && bytes.len() <= MAX_LEN
        && bytes.iter().all(keychar)
}

/// `value = 0*255(chr) nblk-chr`: printable ASCII but `,` and `=`, not
/// ending in a space. Leading spaces are part of the value.
fn valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    matches!(bytes.last(), Some(b'!'..=b'~'))
        && bytes.len() <= MAX_LEN
        && bytes
            .iter()
            .all(|b| matches!(b, b' '..=b'~') && *b != b',' && *b != b'=')
}

/// A valid list `TraceState` refuses, in the context next to the remote
/// span it came with, and passed on for that trace only, after the
/// members of the span's own `TraceState`. `None` marks a later
/// extraction for the trace that brought no such list.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Foreign {
    pub(super) trace_id: TraceId,
    pub(super) header: Option<String>,
}

/// The `tracestate` to send: `state`'s members, then those of `foreign`
/// (a list `TraceState` could not hold) whose keys `state` does not have,
/// 32 at most, as the specification asks of a list a vendor changed.
pub(super) fn header(state: &TraceState, foreign: Option<&str>) -> String {
    let own = state.header();
    let Some(foreign) = foreign else {
        return own;
    };
    if own.is_empty() {
        return foreign.to_owned();
    }
    let mut members: Vec<&str> = own.split(',').collect();
    for member in foreign.split(',') {
        let key = member.split_once('=').map_or(member, |(key, _)| key);
        if members.len() < MAX_MEMBERS && state.get(key).is_none() {
            members.push(member);
        }
    }
    members.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(headers: &[&str]) -> TraceState {
        match parse(headers.iter().copied()) {
            List::State(state) => state,
            other => panic!("{headers:?} gave {other:?}"),
        }
    }

    #[test]
    fn several_headers_form_one_list_in_their_order() {
        let joined = state(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]);
        assert_eq!(joined.header(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
    }

    #[test]
    fn spaces_tabs_and_empty_members_and_headers_are_allowed() {
        assert_eq!(
            state(&["foo=1 \t , \t bar=2,\tbaz=3"]).header(),
            "foo=1,bar=2,baz=3"
        );
        assert_eq!(state(&[",  ,foo=1,,"]).header(), "foo=1");
        assert_eq!(state(&[""]), TraceState::NONE);
        assert_eq!(state(&["", "foo=1"]).header(), "foo=1");
        assert_eq!(state(&["foo=1", ""]).header(), "foo=1");
        assert_eq!(state(&[]), TraceState::NONE);
        // A value keeps its leading spaces.
        assert_eq!(state(&["foo=  1"]).get("foo"), Some("  1"));
    }

    #[test]
    fn every_allowed_character_and_the_longest_keys_and_values_are_kept() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
        let value: String = (0x20u8..=0x7e)
            .filter(|b| !matches!(b, b',' | b'='))
            .map(char::from)
            .collect();
        let list = format!("{key}={value}");
        assert_eq!(state(&[&list]).get(key), Some(value.as_str()));
        let longest = format!("{}={}", "z".repeat(256), "v".repeat(256));
        assert_eq!(
            state(&["foo=1", &longest]).header(),
            format!("foo=1,{longest}")
        );
        // 32 members, over several headers.
        let members: Vec<String> = (1..=32).map(|i| format!("bar{i:02}={i:02}")).collect();
        let (first, rest) = members.split_at(10);
        let headers = [first.join(","), rest.join(",")];
        assert_eq!(
            state(&[&headers[0], &headers[1]]).header(),
            members.join(",")
        );
    }

    #[test]
    fn multi_tenant_keys_are_kept_even_those_opentelemetry_refuses() {
        assert_eq!(
            state(&["tenant@system=1,bar=2"]).get("tenant@system"),
            Some("1")
        );
        assert_eq!(state(&["foo@=1,bar=2"]).get("foo@"), Some("1"));
        let long_tenant = format!("{}@v", "t".repeat(242));
        assert_eq!(
            state(&["foo=1", &format!("{long_tenant}=1")]).get(&long_tenant),
            Some("1")
        );
        for refused_by_opentelemetry in [
            "foo@@bar=1,bar=2".to_owned(),
            "foo@bar@baz=1,bar=2".to_owned(),
            format!("t@{}=1,bar=2", "v".repeat(15)),
            format!("foo=1,{}@{}=1", "t".repeat(241), "v".repeat(14)),
        ] {
            assert_eq!(
                parse([refused_by_opentelemetry.as_str()]),
                List::Foreign(refused_by_opentelemetry.clone())
            );
        }
        assert_eq!(
            parse(["foo@@bar=1 , ", " bar=2"]),
            List::Foreign("foo@@bar=1,bar=2".to_owned())
        );
    }

    #[test]
    fn a_list_with_one_bad_member_is_dropped_whole() {
        let too_many: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let invalid = [
            "foo=".to_owned(),
            "foo=bar=baz".to_owned(),
            "foo =1".to_owned(),
            "FOO=1".to_owned(),
            "foo.bar=1".to_owned(),
            "@foo=1,bar=2".to_owned(),
            "_foo=1".to_owned(),
            "=1".to_owned(),
            "foo".to_owned(),
            "foo=1,bar".to_owned(),
            "foo=\u{e9}".to_owned(),
            "foo=a\tb".to_owned(),
            format!("{}=1", "z".repeat(257)),
            format!("foo={}", "v".repeat(257)),
            too_many.join(","),
        ];
        for list in &invalid {
            assert_eq!(parse(["ok=1", list.as_str()]), List::Invalid, "{list:?}");
        }
    }

    #[test]
    fn duplicate_keys_are_passed_on_as_received() {
        assert_eq!(state(&["foo=1,foo=2"]).header(), "foo=1,foo=2");
        assert_eq!(state(&["foo=1", "foo=1"]).header(), "foo=1,foo=1");
    }

    #[test]
    fn the_list_sent_keeps_32_members_with_the_span_s_own_first() {
        let own = TraceState::from_key_value([("mine", "1")]).unwrap();
        let foreign: Vec<String> = (1..=32).map(|i| format!("t{i}@@x={i}")).collect();
        let sent = header(&own, Some(&foreign.join(",")));
        let members: Vec<&str> = sent.split(',').collect();
        assert_eq!(members.len(), 32);
        assert_eq!(members[0], "mine=1");
        assert_eq!(members[31], "t31@@x=31");
        assert_eq!(header(&TraceState::NONE, Some("a@@b=1")), "a@@b=1");
        assert_eq!(header(&own, None), "mine=1");
        assert_eq!(header(&TraceState::NONE, None), "");
    }
}
