//! W3C Trace Context's `traceparent`, read as the specification reads it.
//!
//! Every traced request reads one, so it is parsed in place: the SDK's
//! propagator splits the value into a vector and parses each id with
//! `from_str_radix`, which also accepts ids of the wrong length.

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId};

/// The flags version `00` defines: `sampled` (`0x01`) and, in Level 2,
/// `random` (`0x02`: the trace id's right-most 7 bytes are random).
const KNOWN_FLAGS: u8 = 0x03;

/// W3C Trace Context Level 2's `random` trace flag (`0x02`): the trace
/// id's right-most 7 bytes are random. A child passes it on, sampled or
/// not.
///
/// ```
/// use opentelemetry::trace::TraceFlags;
/// let flags = TraceFlags::new(census_core::propagation::RANDOM_FLAG | 0x01);
/// assert!(flags.is_sampled());
/// ```
pub const RANDOM_FLAG: u8 = 0x02;

/// Length of a version `00` value, and of the part of a later version's
/// value that version `00` defines.
const LEN: usize = 55;

/// The ids and flags of a valid `traceparent` value (spaces and tabs
/// around it ignored), or `None`.
///
/// Version `00` must be exactly its 55 characters; a later version is read
/// by version `00`'s layout when its value starts like one and any further
/// field follows a `-`; version `ff` is invalid. Ids and flags are
/// lowercase hex; all-zero ids are invalid. Of the flags, `sampled` and
/// Level 2's `random` are kept: the others are not defined by version
/// `00`, so a child must not pass them on.
pub(super) fn parse(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let value = value.trim_matches([' ', '\t']).as_bytes();
    if value.len() < LEN || [value[2], value[35], value[52]] != [b'-'; 3] {
        return None;
    }
    let [version] = bytes::<1>(&value[..2])?;
    match version {
        0xff => return None,
        0 if value.len() != LEN => return None,
        _ if value.len() > LEN && value[LEN] != b'-' => return None,
        _ => {}
    }
    let trace_id = TraceId::from_bytes(bytes(&value[3..35])?);
    let span_id = SpanId::from_bytes(bytes(&value[36..52])?);
    let [flags] = bytes::<1>(&value[53..LEN])?;
    if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
        return None;
    }
    Some((trace_id, span_id, TraceFlags::new(flags & KNOWN_FLAGS)))
}

/// `ids` as a version `00` value, written in place: every traced call
/// sends one.
pub(super) fn write(ids: &SpanContext) -> [u8; LEN] {
    let mut out = [b'-'; LEN];
    out[..2].copy_from_slice(b"00");
    write_hex(&mut out[3..35], &ids.trace_id().to_bytes());
    write_hex(&mut out[36..52], &ids.span_id().to_bytes());
    write_hex(
        &mut out[53..LEN],
        &[ids.trace_flags().to_u8() & KNOWN_FLAGS],
    );
    out
}

fn write_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// The `N` bytes that `2 * N` lowercase hex digits spell.
fn bytes<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    let mut out = [0; N];
    let mut invalid = 0;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (NIBBLES[usize::from(pair[0])], NIBBLES[usize::from(pair[1])]);
        // One check at the end rather than a branch per digit.
        invalid |= high | low;
        *byte = high << 4 | (low & 0xf);
    }
    (invalid & INVALID == 0).then_some(out)
}

/// Marks a byte that is no lowercase hex digit in [`NIBBLES`].
const INVALID: u8 = 0x10;

/// Each byte's value as a lowercase hex digit, or [`INVALID`].
static NIBBLES: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut digit = 0;
    while digit < 16 {
        table[b"0123456789abcdef"[digit] as usize] = digit as u8;
        digit += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_value_gives_its_ids_and_sampled_flag() {
        let (trace_id, span_id, flags) = parse(VALID).unwrap();
        assert_eq!(
            trace_id,
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(span_id, SpanId::from(0x00f0_67aa_0ba9_02b7));
        assert_eq!(flags, TraceFlags::SAMPLED);
        let unsampled = VALID.replace("-01", "-00");
        assert_eq!(parse(&unsampled).unwrap().2, TraceFlags::NOT_SAMPLED);
        // Flags this version does not define are ignored, not fatal.
        assert_eq!(
            parse(&VALID.replace("-01", "-09")).unwrap().2,
            TraceFlags::SAMPLED
        );
        // Level 2's random flag is kept, sampled or not.
        assert_eq!(
            parse(&VALID.replace("-01", "-02")).unwrap().2,
            TraceFlags::new(0x02)
        );
        assert_eq!(
            parse(&VALID.replace("-01", "-0b")).unwrap().2,
            TraceFlags::new(0x03)
        );
        assert_eq!(parse(&format!(" \t{VALID} ")).unwrap().0, trace_id);
    }

    #[test]
    fn later_versions_are_read_by_the_layout_of_version_00() {
        let later = VALID.replacen("00", "cc", 1);
        assert!(parse(&later).is_some());
        assert!(parse(&format!("{later}-what-comes-next")).is_some());
        assert_eq!(parse(&format!("{later}xyz")), None);
        assert_eq!(parse(&VALID.replacen("00", "ff", 1)), None);
    }

    #[test]
    fn malformed_values_are_rejected() {
        let rejected = [
            String::new(),
            format!("{VALID}-"),
            format!("{VALID}0"),
            VALID[..54].to_owned(),
            VALID.to_uppercase(),
            VALID.replace("4bf9", "4BF9"),
            VALID.replace("00f0", "00F0"),
            VALID.replace("-01", "-0x"),
            VALID.replace("4bf9", "4bg9"),
            VALID.replacen('-', "_", 1),
            VALID.replace("4bf92f3577b34da6a3ce929d0e0e4736", &"0".repeat(32)),
            VALID.replace("00f067aa0ba902b7", &"0".repeat(16)),
            // Ids of the wrong length, which the SDK's parser takes.
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7aa-01".to_owned(),
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
            VALID.replacen("00", "0g", 1),
        ];
        for value in rejected {
            assert_eq!(parse(&value), None, "{value:?}");
        }
    }

    #[test]
    fn what_is_read_is_what_census_writes() {
        let (trace_id, span_id, flags) = parse(VALID).unwrap();
        let ids = SpanContext::new(trace_id, span_id, flags, true, Default::default());
        assert_eq!(&write(&ids), VALID.as_bytes());
        let ids = SpanContext::new(
            TraceId::from(u128::MAX),
            SpanId::from(1),
            TraceFlags::NOT_SAMPLED,
            false,
            Default::default(),
        );
        let written = write(&ids);
        assert_eq!(
            &written,
            format!("00-{}-0000000000000001-00", "f".repeat(32)).as_bytes()
        );
        assert_eq!(
            parse(std::str::from_utf8(&written).unwrap()).unwrap().0,
            TraceId::from(u128::MAX)
        );
    }
}
