//! Times, durations and lengths as the Track API wants them.

use std::time::{Duration, SystemTime};

/// RFC 3339 UTC with a `Z` and microseconds.
pub(crate) fn time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

/// `D.HH:MM:SS.ffffff`, days only when non-zero, capped below 1000 days.
pub(crate) fn duration(d: Duration) -> String {
    const MAX_MICROS: u128 = 1000 * 86_400_000_000 - 1;
    let micros = d.as_micros().min(MAX_MICROS);
    let (days, rest) = (micros / 86_400_000_000, micros % 86_400_000_000);
    let (hours, rest) = (rest / 3_600_000_000, rest % 3_600_000_000);
    let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
    let (seconds, micros) = (rest / 1_000_000, rest % 1_000_000);
    if days > 0 {
        format!("{days}.{hours:02}:{minutes:02}:{seconds:02}.{micros:06}")
    } else {
        format!("{hours:02}:{minutes:02}:{seconds:02}.{micros:06}")
    }
}

/// `s` cut to at most `max` characters.
pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
    s
}

/// A boolean as Microsoft's exporters write it (Python's `str(bool)`), so
/// that properties and dimensions match theirs.
pub(crate) fn python_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// An attribute value as a property: as text, booleans as Microsoft's
/// exporters write them.
pub(crate) fn property_value(value: &opentelemetry::Value) -> String {
    match value {
        opentelemetry::Value::Bool(b) => python_bool(*b).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_dotnet_timespan_format() {
        assert_eq!(duration(Duration::from_micros(1_234)), "00:00:00.001234");
        assert_eq!(
            duration(Duration::from_secs(3_723) + Duration::from_nanos(500)),
            "01:02:03.000000"
        );
        assert_eq!(
            duration(Duration::from_secs(2 * 86_400 + 5)),
            "2.00:00:05.000000"
        );
        assert_eq!(
            duration(Duration::from_secs(5_000 * 86_400)),
            "999.23:59:59.999999"
        );
    }

    #[test]
    fn times_are_utc_with_microseconds() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(time(t), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("héllo".into(), 2), "hé");
        assert_eq!(truncate("abc".into(), 5), "abc");
    }
}
