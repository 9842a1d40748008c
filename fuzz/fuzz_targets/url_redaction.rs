//! URL redaction: no panic, credentials in the user-info part never
//! survive, and however a known secret parameter's name is spelled or
//! percent-encoded, its value as a server would read it is `REDACTED`, in
//! the query and in the fragment.
#![no_main]

use arbitrary::Arbitrary;
use census_sanitize::{REDACTED, redact_query, redact_url};
use libfuzzer_sys::fuzz_target;

/// Parameters that carry credentials, as the services that use them
/// spell them; compared without case and without non-alphanumerics.
const SECRETS: &[&str] = &[
    "sig",
    "X-Amz-Signature",
    "access_token",
    "id_token",
    "api_key",
    "apikey",
    "password",
    "client_secret",
    "code",
    "AWSAccessKeyId",
    "X-Goog-Credential",
    "jwt",
    "sessionid",
    "otp",
    "ticket",
    "SAMLResponse",
    "auth",
];

#[derive(Debug, Arbitrary)]
enum Pair {
    Secret {
        name: u8,
        encoded: u32,
        value: String,
    },
    Other(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    base: String,
    query: Vec<Pair>,
    fragment: Vec<Pair>,
    raw_query: String,
}

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Pairs as `a=b&c=d`; a secret's name with the characters chosen by
/// `encoded` percent-encoded.
fn pairs(list: &[Pair]) -> String {
    let mut text = Vec::new();
    for pair in list {
        text.push(match pair {
            Pair::Secret {
                name,
                encoded,
                value,
            } => {
                let name = SECRETS[usize::from(*name) % SECRETS.len()];
                let name: String = name
                    .bytes()
                    .enumerate()
                    .map(|(i, b)| {
                        if encoded >> (i % 32) & 1 == 1 {
                            format!("%{b:02X}")
                        } else {
                            char::from(b).to_string()
                        }
                    })
                    .collect();
                let value: String =
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                format!("{name}={value}")
            }
            Pair::Other(text) => text.clone(),
        });
    }
    text.join("&")
}

/// Every value of a known secret parameter in `pairs` is `REDACTED` (or
/// empty: nothing to hide).
fn check(pairs: &str, whole: &str) {
    let secrets: Vec<String> = SECRETS.iter().map(|s| normalized(s)).collect();
    for (name, value) in url::form_urlencoded::parse(pairs.as_bytes()) {
        if secrets.contains(&normalized(&name)) && !value.is_empty() {
            assert_eq!(value, REDACTED, "`{name}` kept its value in {whole}");
        }
    }
}

fuzz_target!(|input: Input| {
    let redacted = redact_query(&input.raw_query);
    check(&redacted, &redacted);

    let text = format!(
        "{}?{}#{}",
        input.base,
        pairs(&input.query),
        pairs(&input.fragment)
    );
    let Ok(url) = url::Url::parse(&text) else {
        return;
    };
    let redacted = redact_url(&url);
    let again = url::Url::parse(&redacted).expect("a redacted URL parses");
    assert!(matches!(again.username(), "" | REDACTED), "{redacted}");
    assert!(
        matches!(again.password(), None | Some(REDACTED)),
        "{redacted}"
    );
    check(again.query().unwrap_or(""), &redacted);
    check(again.fragment().unwrap_or(""), &redacted);
});
