//! `host[:port]` read without allocating: every request has one.

/// The host and port of an authority (`host`, `host:port`, `[v6]:port`);
/// `None` when the port is not a port number or the host is empty or
/// holds characters no host has.
pub(crate) fn split(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match authority.rfind(':') {
        // A colon inside `[...]` belongs to an IPv6 address.
        Some(at) if !authority[at..].contains(']') => {
            let port = authority[at + 1..].parse::<u16>().ok()?;
            (&authority[..at], Some(port))
        }
        _ => (authority, None),
    };
    let valid = !host.is_empty()
        && !host.contains(['/', '@', '?', '#', ' ', '\t'])
        && (host.starts_with('[') == host.ends_with(']'));
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
