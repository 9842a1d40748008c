//! `host[:port]`, read by the `http` crate's own parser.

use http::uri::Authority;

/// The host and port of an authority (`host`, `host:port`, `[v6]:port`),
/// borrowed from `authority`; `None` when `http` does not read it as an
/// authority or its host is empty. A port `http` accepts that is no port
/// number (`:99999`, `:http`, an empty one) is left out. User
/// information (`user@host`) is skipped, never returned.
pub(crate) fn split(authority: &str) -> Option<(&str, Option<u16>)> {
    let parsed: Authority = authority.parse().ok()?;
    let host = parsed.host();
    if host.is_empty() {
        return None;
    }
    // The host follows the user information, if any: slice it out of
    // `authority`, which outlives the parsed copy.
    let start = authority.rfind('@').map_or(0, |at| at + 1);
    let host = authority.get(start..start + host.len())?;
    Some((host, parsed.port_u16()))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn hosts_ports_and_ipv6_are_split() {
        assert_eq!(split("shop.local"), Some(("shop.local", None)));
        assert_eq!(split("shop.local:8443"), Some(("shop.local", Some(8443))));
        assert_eq!(split("[::1]:8080"), Some(("[::1]", Some(8080))));
        assert_eq!(split("[::1]"), Some(("[::1]", None)));
        assert_eq!(split("127.0.0.1:65535"), Some(("127.0.0.1", Some(65535))));
        assert_eq!(split("127.0.0.1:65536"), Some(("127.0.0.1", None)));
        assert_eq!(split("user:secret@shop:80"), Some(("shop", Some(80))));
        // What `http` reads as a port but is no port number is left out.
        for no_port in ["shop:", "shop:http"] {
            assert_eq!(split(no_port), Some(("shop", None)), "{no_port}");
        }
        for bad in ["", ":80", "a b", "[::1", "shop/x", "h\u{e9}te:1"] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
