//! `host[:port]` read without allocating: every request has one.

/// The host and port of an authority (`host`, `host:port`, `[v6]:port`);
/// `None` when the port is not a port number or the host is empty or
/// holds characters no host has.
pub(crate) fn split(authority: &str) -> Option<(&str, Option<u16>)> {
    let bytes = authority.as_bytes();
    // Read as bytes, once: every traced request has an authority.
    let (host, port) = match bytes.iter().rposition(|&b| b == b':' || b == b']') {
        // A colon inside `[...]` belongs to an IPv6 address.
        Some(at) if bytes[at] == b':' => {
            let port = authority[at + 1..].parse::<u16>().ok()?;
            (&authority[..at], Some(port))
        }
        _ => (authority, None),
    };
    let host_bytes = host.as_bytes();
    let valid = !host_bytes.is_empty()
        && !host_bytes
            .iter()
            .any(|b| matches!(b, b'/' | b'@' | b'?' | b'#' | b' ' | b'\t'))
        && (host_bytes.first() == Some(&b'[')) == (host_bytes.last() == Some(&b']'));
    valid.then_some((host, port))
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
        for bad in [
            "",
            ":80",
            "shop:http",
            "shop:99999",
            "a b",
            "user@shop",
            "[::1",
            "shop/x",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
