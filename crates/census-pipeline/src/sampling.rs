//! Samplers. [`ProbabilitySampler`] decides like every Application Insights
//! SDK, from a hash of the operation (trace) id, so services written in
//! different languages keep or drop the same operations;
//! [`RateLimitedSampler`] keeps at most a number of operations a second,
//! by the same hash.

mod rate_limited;

pub use rate_limited::{RateDecision, RateLimitedSampler};

use opentelemetry::trace::{Link, SpanContext, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

pub use opentelemetry_sdk::trace::Sampler;

/// Span attribute carrying the sampling percentage of a kept span; the
/// Application Insights exporter turns it into the envelope's `sampleRate`.
/// The name is the one Azure Monitor's OpenTelemetry exporters use.
pub const SAMPLE_RATE_ATTRIBUTE: &str = "_MS.sampleRate";

/// A sampler's argument out of its range.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplerError {
    /// The rate is not a fraction between 0 and 1.
    #[error(
        "sampling rate {rate} is outside 0.0..=1.0: pass the fraction of operations to keep, \
         e.g. 0.25 to keep a quarter, 1.0 to keep all"
    )]
    RateOutOfRange {
        /// The rate given.
        rate: f64,
    },
    /// The rate-limited sampler's target is negative or not a number.
    #[error(
        "rate-limited sampling target {per_second} is not a number of operations per second \
         of 0 or more: pass e.g. 5.0 to keep at most about 5 operations a second"
    )]
    TargetOutOfRange {
        /// The target given.
        per_second: f64,
    },
}

/// Keeps a fraction of operations, deciding from the operation (trace) id
/// exactly as the Application Insights SDKs and Azure Monitor's
/// `ApplicationInsightsSampler` do.
///
/// By default the decision depends on the trace id alone, whatever the
/// caller's `traceparent` sampled flag says: every service sampling at the
/// same rate keeps the same operations whole, a 100% rate keeps everything,
/// and each kept span carries the rate applied (`sampleRate`), so counts
/// in the portal stay right. [`parent_based`](Self::parent_based) follows
/// OpenCensus instead: keep what a sampled parent kept, decide by the
/// trace id otherwise.
///
/// ```
/// use census_pipeline::sampling::ProbabilitySampler;
/// let sampler = ProbabilitySampler::new(0.25)?;
/// assert_eq!(sampler.percentage(), 25.0);
/// assert!(ProbabilitySampler::new(1.5).is_err());
/// let opencensus_like = sampler.parent_based();
/// # Ok::<(), census_pipeline::sampling::SamplerError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbabilitySampler {
    percentage: f64,
    parent_based: bool,
}

impl ProbabilitySampler {
    /// A sampler keeping `rate` (0.0 to 1.0) of all operations.
    pub fn new(rate: f64) -> Result<Self, SamplerError> {
        if (0.0..=1.0).contains(&rate) {
            Ok(Self {
                // `abs` turns -0.0 into 0.0, which prints as a plain 0.
                percentage: (rate * 100.0).abs(),
                parent_based: false,
            })
        } else {
            Err(SamplerError::RateOutOfRange { rate })
        }
    }

    /// Also keeps every span whose parent was sampled, as OpenCensus did.
    ///
    /// The kept span carries this sampler's rate: the rate the caller
    /// applied is not in `traceparent`, so this assumes services sample
    /// alike. Prefer the default when rates differ between services.
    pub fn parent_based(mut self) -> Self {
        self.parent_based = true;
        self
    }

    /// The percentage of operations kept, as `sampleRate` reports it.
    pub fn percentage(&self) -> f64 {
        self.percentage
    }

    fn keeps(&self, trace_id: TraceId) -> bool {
        self.percentage >= 100.0 || trace_id_score(trace_id) < self.percentage
    }

    /// The decision for a span of trace `trace_id` whose parent, if valid,
    /// is `parent`.
    pub(crate) fn keeps_child_of(&self, parent: Option<&SpanContext>, trace_id: TraceId) -> bool {
        (self.parent_based && parent.is_some_and(SpanContext::is_sampled)) || self.keeps(trace_id)
    }
}

/// A sampler whose rule census knows, so that it can take the decision
/// before the SDK builds a span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum KnownSampler {
    /// A [`ProbabilitySampler`].
    Probability(ProbabilitySampler),
    /// The SDK's default: follow a valid parent, keep every root.
    ParentBasedAlwaysOn,
}

impl ShouldSample for ProbabilitySampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent_span = parent_context.map(TraceContextExt::span);
        let parent = parent_span
            .as_ref()
            .map(|span| span.span_context())
            .filter(|sc| sc.is_valid());
        let keep = self.keeps_child_of(parent, trace_id);
        result(
            keep,
            self.percentage,
            parent.map_or_else(TraceState::default, |p| p.trace_state().clone()),
        )
    }
}

/// The SDK's result of a decision: a kept span below 100 % carries the
/// percentage as [`SAMPLE_RATE_ATTRIBUTE`].
fn result(keep: bool, percentage: f64, trace_state: TraceState) -> SamplingResult {
    SamplingResult {
        decision: if keep {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        },
        attributes: if keep && percentage < 100.0 {
            vec![KeyValue::new(SAMPLE_RATE_ATTRIBUTE, percentage)]
        } else {
            Vec::new()
        },
        trace_state,
    }
}

/// [`sampling_score`] of a trace id's lowercase hex form, without
/// building the string: this runs for every span. Each byte adds two hex
/// digits, `h * 33 * 33 + hi * 33 + lo`, so one table entry per byte
/// replaces two steps.
fn trace_id_score(trace_id: TraceId) -> f64 {
    let hash = trace_id.to_bytes().iter().fold(5381i32, |h, &b| {
        h.wrapping_mul(33 * 33)
            .wrapping_add(BYTE_DIGITS[usize::from(b)])
    });
    score_of(hash)
}

/// For each byte, `hi * 33 + lo` over the ASCII codes of its two lowercase
/// hex digits.
static BYTE_DIGITS: [i32; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [0i32; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = HEX[b >> 4] as i32 * 33 + HEX[b & 0xf] as i32;
        b += 1;
    }
    table
};

/// The Application Insights sampling score (0 to 100) of an operation id:
/// a djb2 hash in wrapping 32-bit arithmetic over the id, doubled until it
/// is at least 8 characters long, scaled by `i32::MAX`.
///
/// ```
/// use census_pipeline::sampling::sampling_score;
/// let score = sampling_score("4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!((score - 33.46135385030012).abs() < 1e-9);
/// ```
pub fn sampling_score(operation_id: &str) -> f64 {
    if operation_id.is_empty() {
        return 0.0;
    }
    let mut input = operation_id.to_owned();
    while input.len() < 8 {
        input = input.repeat(2);
    }
    let hash = input.chars().fold(5381i32, |h, c| {
        // A `char` is at most 0x10FFFF, so the cast cannot wrap.
        h.wrapping_mul(33).wrapping_add(u32::from(c) as i32)
    });
    score_of(hash)
}

fn score_of(hash: i32) -> f64 {
    let hash = if hash == i32::MIN {
        i32::MAX
    } else {
        hash.abs()
    };
    f64::from(hash) / f64::from(i32::MAX) * 100.0
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags};

    use super::*;

    #[test]
    fn rates_outside_zero_to_one_are_rejected() {
        for rate in [-0.1, 1.0001, f64::NAN, f64::INFINITY] {
            let err = ProbabilitySampler::new(rate).unwrap_err();
            assert!(matches!(err, SamplerError::RateOutOfRange { .. }));
            assert!(err.to_string().contains("outside 0.0..=1.0"), "{err}");
        }
        for rate in [0.0, 0.5, 1.0] {
            assert_eq!(
                ProbabilitySampler::new(rate).unwrap().percentage(),
                rate * 100.0
            );
        }
    }

    /// Expected values computed by a separate transcription of the published
    /// algorithm (JavaScript SDK `SamplingScoreGenerator`).
    #[test]
    fn score_matches_the_published_algorithm() {
        let vectors = [
            ("0123456789abcdef0123456789abcdef", 25.72846455766282),
            ("4bf92f3577b34da6a3ce929d0e0e4736", 33.46135385030012),
            ("ffffffffffffffffffffffffffffffff", 99.96135514227737),
            ("00000000000000000000000000000001", 2.339351457701694),
            ("abc", 46.12368808413096),
            ("a", 16.249091046046974),
            ("", 0.0),
        ];
        for (id, expected) in vectors {
            let score = sampling_score(id);
            assert!(
                (score - expected).abs() < 1e-9,
                "{id}: {score} != {expected}"
            );
            if let Ok(trace_id) = TraceId::from_hex(id)
                && id.len() == 32
            {
                assert_eq!(trace_id_score(trace_id), score, "{id}");
            }
        }
    }

    fn decide(
        sampler: &ProbabilitySampler,
        parent: Option<&Context>,
        trace: &str,
    ) -> SamplingResult {
        sampler.should_sample(
            parent,
            TraceId::from_hex(trace).unwrap(),
            "op",
            &SpanKind::Server,
            &[],
            &[],
        )
    }

    #[test]
    fn root_decision_follows_the_score_and_records_the_rate() {
        let sampler = ProbabilitySampler::new(0.30).unwrap();
        // Score 25.7 < 30: kept, with the percentage for `sampleRate`.
        let kept = decide(&sampler, None, "0123456789abcdef0123456789abcdef");
        assert_eq!(kept.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            kept.attributes,
            vec![KeyValue::new(SAMPLE_RATE_ATTRIBUTE, 30.0)]
        );
        // Score 33.5 >= 30: dropped.
        let dropped = decide(&sampler, None, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(dropped.decision, SamplingDecision::Drop);
        assert!(dropped.attributes.is_empty());
    }

    #[test]
    fn full_and_zero_rates_keep_all_and_none() {
        let all = ProbabilitySampler::new(1.0).unwrap();
        let none = ProbabilitySampler::new(0.0).unwrap();
        let id = "ffffffffffffffffffffffffffffffff";
        let kept = decide(&all, None, id);
        assert_eq!(kept.decision, SamplingDecision::RecordAndSample);
        assert!(kept.attributes.is_empty(), "100% is the default sampleRate");
        assert_eq!(
            decide(&none, None, "00000000000000000000000000000001").decision,
            SamplingDecision::Drop
        );
    }

    fn parent(sampled: bool) -> Context {
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let state = TraceState::from_key_value([("vendor", "v1")]).unwrap();
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            flags,
            true,
            state,
        ))
    }

    #[test]
    fn by_default_the_trace_id_decides_whatever_the_parent_says() {
        // `traceparent: ...-00` at 100%: kept (it used to be dropped).
        let all = ProbabilitySampler::new(1.0).unwrap();
        let result = decide(
            &all,
            Some(&parent(false)),
            "4bf92f3577b34da6a3ce929d0e0e4736",
        );
        assert_eq!(result.decision, SamplingDecision::RecordAndSample);
        assert!(result.attributes.is_empty());
        assert_eq!(result.trace_state.get("vendor"), Some("v1"));

        // Score 33.5: kept at 90% despite an unsampled parent, with the rate.
        let ninety = ProbabilitySampler::new(0.90).unwrap();
        let result = decide(
            &ninety,
            Some(&parent(false)),
            "4bf92f3577b34da6a3ce929d0e0e4736",
        );
        assert_eq!(result.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            result.attributes,
            vec![KeyValue::new(SAMPLE_RATE_ATTRIBUTE, 90.0)]
        );

        // Score 33.5: dropped at 30% despite a sampled parent, as every
        // service at 30% drops it.
        let thirty = ProbabilitySampler::new(0.30).unwrap();
        let result = decide(
            &thirty,
            Some(&parent(true)),
            "4bf92f3577b34da6a3ce929d0e0e4736",
        );
        assert_eq!(result.decision, SamplingDecision::Drop);
    }

    #[test]
    fn parent_based_keeps_what_a_sampled_parent_kept_and_hashes_otherwise() {
        let sampler = ProbabilitySampler::new(0.30).unwrap().parent_based();
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736"; // score 33.5: a root would be dropped
        let result = decide(&sampler, Some(&parent(true)), trace);
        assert_eq!(result.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            result.attributes,
            vec![KeyValue::new(SAMPLE_RATE_ATTRIBUTE, 30.0)]
        );
        assert_eq!(
            decide(&sampler, Some(&parent(false)), trace).decision,
            SamplingDecision::Drop
        );
        // Score 25.7 < 30: an unsampled parent does not stop the hash.
        let kept = decide(
            &sampler,
            Some(&parent(false)),
            "0123456789abcdef0123456789abcdef",
        );
        assert_eq!(kept.decision, SamplingDecision::RecordAndSample);
    }
}
