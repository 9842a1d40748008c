//! `host[:port]` read without allocating: every request has one.
//!
//! `http::uri::Authority` reads the same, but only from a copy it
//! allocates: `scripts/profile` counted about 1,200 more instructions per
//! sampled server request with it (axum: census's cost 8,953 → 10,201),
//! so the borrowed reading stays.

/// The host and port of an authority (`host`, `host:port`, `[v6]:port`);
/// `None` when the port is not a port number or the host is empty or
/// holds characters no host has.
pub(crate) fn split(authority: &str) -> Option<(&str, Option<u16>)> {
    let bytes = authority.as_bytes();
    // One pass, as bytes: where the port starts (the last colon outside
    // `[...]`, whose colons belong to an IPv6 address) and whether a byte
    // is one no authority has.
    let mut colon = None;
    for (at, &byte) in bytes.iter().enumerate() {
        match CLASS[usize::from(byte)] {
            OTHER => {}
            COLON => colon = Some(at),
            CLOSE => colon = None,
            _ => return None,
        }
    }
    let (host, port) = match colon {
        Some(at) => (&bytes[..at], Some(port(&bytes[at + 1..])?)),
        None => (bytes, None),
    };
    let valid = !host.is_empty() && (host.first() == Some(&b'[')) == (host.last() == Some(&b']'));
    // The host ends before an ASCII colon, so it is whole UTF-8.
    valid.then(|| (&authority[..host.len()], port))
}

const OTHER: u8 = 0;
const COLON: u8 = 1;
const CLOSE: u8 = 2;
const INVALID: u8 = 3;

/// What each byte is to an authority, looked up rather than compared
/// with each special byte in turn.
const CLASS: [u8; 256] = {
    let mut class = [OTHER; 256];
    class[b':' as usize] = COLON;
    class[b']' as usize] = CLOSE;
    let invalid = b"/@?# \t";
    let mut i = 0;
    while i < invalid.len() {
        class[invalid[i] as usize] = INVALID;
        i += 1;
    }
    class
};

/// A port number: one to five digits, at most 65535.
fn port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut port = 0u32;
    for &digit in digits {
        if !digit.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(digit - b'0');
    }
    u16::try_from(port).ok()
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
        assert_eq!(split("127.0.0.1:65536"), None);
        assert_eq!(split("h\u{e9}te:1"), Some(("h\u{e9}te", Some(1))));
        for bad in [
            "",
            ":80",
            "shop:http",
            "shop:99999",
            "a b",
            "user@shop",
            "[::1",
            "shop/x",
            "shop:",
            "shop:+80",
            "shop:123456",
            "shop:80 ",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
    }
}
