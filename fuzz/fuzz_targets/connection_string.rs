//! Connection strings: the Application Insights one and the database URLs
//! diesel connects with. No panic; an accepted Application Insights string
//! gives an http(s) track URL and never shows its key in full; a database
//! URL's password never reaches the span target.
#![no_main]

use census_azure::ConnectionString;
use libfuzzer_sys::fuzz_target;

const PASSWORD: &str = "Pw0rdMarker9";

/// Input lines: an Application Insights connection string; a database URL
/// up to its password; the rest of it; and `k` to write the password as a
/// libpq `key=value` pair instead.
fuzz_target!(|input: &str| {
    let mut lines = input.split('\n');
    let (azure, before, after) = (
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
        lines.next().unwrap_or(""),
    );
    let conninfo = lines.next() == Some("k");
    if let Ok(parsed) = azure.parse::<ConnectionString>() {
        let url = parsed.track_url();
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        assert!(url.host_str().is_some(), "{url}");
        let key = parsed.instrumentation_key();
        // Unless the endpoint, which is shown, holds it too.
        if !parsed.ingestion_endpoint().as_str().contains(key) {
            assert!(
                !format!("{parsed:?}").contains(key),
                "the key shows in full"
            );
        }
    }

    // URL parsers drop tabs and line breaks (WHATWG), which can join the
    // marker up elsewhere in the URL, e.g. in the host, which is shown.
    let joined = |text: &str| text.replace(['\t', '\r', '\n'], "").contains(PASSWORD);
    if joined(before) || joined(after) {
        return;
    }
    let (url, is_password) = if conninfo {
        let url = format!("{before} password={PASSWORD} {after}");
        // Only where libpq reads `password=` as its own pair: every other
        // word a `key=value` without quoting.
        let plain = |word: &str| {
            word.split_once('=').is_some_and(|(k, v)| {
                !k.is_empty()
                    && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    && !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_graphic() && !b"'\"\\".contains(&b))
            })
        };
        let plain = before
            .split_whitespace()
            .chain(after.split_whitespace())
            .all(plain);
        (url, plain)
    } else {
        let url = format!("{before}:{PASSWORD}@{after}");
        let parsed = url::Url::parse(&url);
        let is_password = parsed.is_ok_and(|u| u.password() == Some(PASSWORD));
        (url, is_password)
    };
    let target = census_diesel::fuzzing::target_of(&url);
    if is_password {
        assert!(!target.contains(PASSWORD), "{url} gave {target}");
    }
});
