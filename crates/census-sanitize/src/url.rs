//! URL redaction: credentials in the user-info part and the values of
//! secret-bearing query parameters never reach telemetry.

use url::Url;

/// What replaces a redacted value, as the semantic conventions spell it.
pub const REDACTED: &str = "REDACTED";

/// The URL with its user name and password, and the values of query (and
/// fragment) parameters that look secret, replaced by `REDACTED`.
///
/// Secret-looking parameter names, compared without case and without any
/// character that is not a letter or digit (so `-` and `_` do not count):
/// - anything ending in `key` or `sig`;
/// - anything containing `signature`, `accesskey`, `token`, `password`,
///   `passwd`, `pwd`, `passcode`, `secret`, `credential`, `auth`, `jwt`,
///   `assertion`, `session` or `sessid` (bearer tokens, OAuth client
///   assertions, SAML and session identifiers);
/// - exactly `code`, `devicecode`, `otp`, `ticket` or `samlresponse`:
///   one-time credentials (OAuth authorization and device codes, one-time
///   passwords, CAS tickets, SAML responses) whose names are too short or
///   too common to match inside longer names such as `zipcode`.
///
/// `state` is kept: it protects against request forgery but grants nothing.
///
/// ```
/// use census_sanitize::redact_url;
/// let url = url::Url::parse("https://bob:hunter2@blob.example/c?sv=2024&sig=abc%2B").unwrap();
/// assert_eq!(
///     redact_url(&url),
///     "https://REDACTED:REDACTED@blob.example/c?sv=2024&sig=REDACTED"
/// );
/// ```
pub fn redact_url(url: &Url) -> String {
    if url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
    {
        return url.as_str().to_owned();
    }
    let mut redacted = url.clone();
    if !url.username().is_empty() {
        // Only fails for URLs that cannot carry credentials, which then have none.
        let _ = redacted.set_username(REDACTED);
    }
    if url.password().is_some() {
        let _ = redacted.set_password(Some(REDACTED));
    }
    if let Some(query) = url.query() {
        redacted.set_query(Some(&redact_pairs(query)));
    }
    if let Some(fragment) = url.fragment() {
        redacted.set_fragment(Some(&redact_pairs(fragment)));
    }
    redacted.into()
}

/// A query string (without `?`) with the values of secret-looking
/// parameters replaced, by the rules of [`redact_url`].
///
/// ```
/// use census_sanitize::redact_query;
/// assert_eq!(redact_query("page=2&access_token=abc"), "page=2&access_token=REDACTED");
/// ```
pub fn redact_query(query: &str) -> String {
    redact_pairs(query)
}

/// Rewrites `a=1&sig=2` pairs, keeping every byte of the pairs it keeps.
fn redact_pairs(pairs: &str) -> String {
    let mut out = String::with_capacity(pairs.len());
    for (i, pair) in pairs.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) if is_secret_name(key) => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Whether a parameter or field named `raw_key` holds a secret, by the
/// rules of [`redact_url`] (the name is form-decoded first): the log
/// bridges redact fields by it as URLs redact query parameters.
///
/// ```
/// use census_sanitize::is_secret_name;
/// assert!(is_secret_name("db_password"));
/// assert!(is_secret_name("Authorization"));
/// assert!(is_secret_name("api-key"));
/// assert!(!is_secret_name("order_id"));
/// ```
pub fn is_secret_name(raw_key: &str) -> bool {
    let decoded: String = url::form_urlencoded::parse(raw_key.as_bytes())
        .map(|(k, _)| k)
        .collect();
    let key: String = decoded
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    const CONTAINS: [&str; 14] = [
        "signature",
        "accesskey",
        "token",
        "password",
        "passwd",
        "pwd",
        "passcode",
        "secret",
        "credential",
        "auth",
        "jwt",
        "assertion",
        "session",
        "sessid",
    ];
    const EXACT: [&str; 5] = ["code", "devicecode", "otp", "ticket", "samlresponse"];
    key.ends_with("key")
        || key.ends_with("sig")
        || CONTAINS.iter().any(|c| key.contains(c))
        || EXACT.contains(&key.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(s: &str) -> String {
        redact_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn plain_urls_are_unchanged() {
        assert_eq!(
            redact("http://127.0.0.1:8080/a/b"),
            "http://127.0.0.1:8080/a/b"
        );
        assert_eq!(
            redact("https://api.example/items?page=2&sort=name"),
            "https://api.example/items?page=2&sort=name"
        );
        // Names that merely contain a one-time credential's name are kept,
        // and `state` is an anti-forgery value, not a credential.
        assert_eq!(
            redact(
                "https://api.example/cb?state=xyz&zipcode=75001&country_code=FR&footprint=1&ticketing=on"
            ),
            "https://api.example/cb?state=xyz&zipcode=75001&country_code=FR&footprint=1&ticketing=on"
        );
    }

    #[test]
    fn user_info_is_redacted() {
        assert_eq!(
            redact("https://alice:s3cr%40t@db.example/"),
            "https://REDACTED:REDACTED@db.example/"
        );
        assert_eq!(
            redact("https://alice@db.example/"),
            "https://REDACTED@db.example/"
        );
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        let out = redact(
            "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&se=2030&sp=r&sig=AbC%2Fd%3D\
             &X-Amz-Signature=ff&X-Goog-Signature=ee&access_token=t0k&api_key=k1\
             &subscription-key=k2&Password=p&client_secret=cs&AWSAccessKeyId=AK&code=42",
        );
        assert_eq!(
            out,
            "https://acct.blob.core.windows.net/c/b.txt?sv=2022-11-02&se=2030&sp=r&sig=REDACTED\
             &X-Amz-Signature=REDACTED&X-Goog-Signature=REDACTED&access_token=REDACTED\
             &api_key=REDACTED&subscription-key=REDACTED&Password=REDACTED\
             &client_secret=REDACTED&AWSAccessKeyId=REDACTED&code=REDACTED"
        );
        for secret in ["AbC", "ff", "ee", "t0k", "k1", "k2", "=p", "cs", "AK", "42"] {
            assert!(
                !out.contains(&format!("={secret}")),
                "{secret} leaked: {out}"
            );
        }
    }

    #[test]
    fn one_time_credentials_are_redacted() {
        assert_eq!(
            redact(
                "https://app.example/cb?code=c1&state=s&id_token=i1&refresh_token=r1\
                 &client_assertion=a1&assertion=a2&client_assertion_type=jwt-bearer\
                 &OTP=123456&ticket=ST-1&session=s1&JSESSIONID=j1&PHPSESSID=p1\
                 &device_code=d1&SAMLResponse=PHNhbWw&passcode=9&jwt=eyJ"
            ),
            "https://app.example/cb?code=REDACTED&state=s&id_token=REDACTED&refresh_token=REDACTED\
             &client_assertion=REDACTED&assertion=REDACTED&client_assertion_type=REDACTED\
             &OTP=REDACTED&ticket=REDACTED&session=REDACTED&JSESSIONID=REDACTED\
             &PHPSESSID=REDACTED&device_code=REDACTED&SAMLResponse=REDACTED\
             &passcode=REDACTED&jwt=REDACTED"
        );
    }

    #[test]
    fn encoded_and_odd_keys_are_recognised() {
        // `%73ig` is `sig` percent-encoded; `+` decodes to a space.
        assert_eq!(
            redact("https://h/p?%73ig=x&a+token=y&token&=z"),
            "https://h/p?%73ig=REDACTED&a+token=REDACTED&token&=z"
        );
    }

    #[test]
    fn fragment_parameters_are_redacted() {
        assert_eq!(
            redact("https://app.example/cb#access_token=abc&state=1"),
            "https://app.example/cb#access_token=REDACTED&state=1"
        );
    }

    #[test]
    fn unicode_values_survive_and_secrets_do_not() {
        // `tokén` is not `token`; `clé_secret` holds `secret` between
        // non-ASCII letters. Kept pairs stay as the parser encoded them.
        assert_eq!(
            redact("https://h/p?q=caf%C3%A9&tok%C3%A9n=1&clé_secret=2&ü=ö&sig=ü"),
            "https://h/p?q=caf%C3%A9&tok%C3%A9n=1&cl%C3%A9_secret=REDACTED&%C3%BC=%C3%B6&sig=REDACTED"
        );
    }
}
