//! Microsoft's rate-limited sampling: at most a target number of
//! operations per second, with each kept item carrying the percentage that
//! applied at that moment.

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use opentelemetry::trace::{Link, SpanKind, TraceContextExt, TraceId, TraceState};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingResult, ShouldSample};

use super::{SamplerError, result, trace_id_score};

/// How fast the estimate of the incoming rate follows a change: the time
/// constant of its exponential decay, Microsoft's.
const ADAPTATION_SECONDS: f64 = 0.1;

/// Kept operations whose percentage their local children look up.
const REMEMBERED_OPERATIONS: usize = 4096;

/// Keeps at most a target number of operations per second, as Microsoft's
/// `RateLimitedSampler` (`OTEL_TRACES_SAMPLER=microsoft.rate_limited`)
/// does in every Azure Monitor distro:
///
/// - the incoming rate is estimated over an exponentially decayed window
///   (0.1 s), and the percentage kept is the target over that rate, at
///   most 100 %, rounded down to 100/n so that each kept item stands for
///   a whole number of operations;
/// - an operation is kept when its Application Insights score (the same
///   trace-id hash as [`ProbabilitySampler`](super::ProbabilitySampler))
///   is below that percentage, so services deciding at the same moment
///   keep the same operations;
/// - each kept root carries the percentage in `sampleRate`
///   ([`SAMPLE_RATE_ATTRIBUTE`](super::SAMPLE_RATE_ATTRIBUTE)) when below 100, and a span whose parent
///   is in this process follows the parent's decision and rate; a remote
///   caller's decision is not followed (as Microsoft's).
///
/// ```
/// use census_pipeline::sampling::RateLimitedSampler;
/// let sampler = RateLimitedSampler::new(5.0)?; // at most about 5 operations a second
/// assert_eq!(sampler.operations_per_second(), 5.0);
/// assert!(RateLimitedSampler::new(-1.0).is_err());
/// # Ok::<(), census_pipeline::sampling::SamplerError>(())
/// ```
///
/// Clones share the window: the SDK clones the sampler it is given.
#[derive(Debug, Clone)]
pub struct RateLimitedSampler {
    per_second: f64,
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    window: Mutex<Window>,
    kept: Mutex<Kept>,
}

/// The decayed window: how many operations arrived over how long.
#[derive(Debug)]
struct Window {
    count: f64,
    nanos: f64,
    last: u64,
}

/// The percentages of recently kept operations, by trace, oldest first.
#[derive(Debug, Default)]
struct Kept {
    rates: HashMap<TraceId, f64>,
    order: VecDeque<TraceId>,
}

/// One decision of a [`RateLimitedSampler`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RateDecision {
    /// Whether the operation is kept.
    pub keep: bool,
    /// The percentage that applied (0 to 100).
    pub percentage: f64,
}

impl RateLimitedSampler {
    /// A sampler keeping at most about `per_second` operations a second
    /// (0 keeps none); the window starts now, on a monotonic clock.
    pub fn new(per_second: f64) -> Result<Self, SamplerError> {
        Self::starting_at(per_second, now_nanos())
    }

    /// [`new`](Self::new), with the window starting at `unix_nanos`, for
    /// replaying recorded timings with [`decide_at`](Self::decide_at) (any
    /// clock in nanoseconds, used consistently).
    ///
    /// ```
    /// use census_pipeline::sampling::RateLimitedSampler;
    /// use opentelemetry::trace::TraceId;
    /// let start = 1_700_000_000_000_000_000;
    /// let sampler = RateLimitedSampler::starting_at(5.0, start)?;
    /// // One operation 10 ms in: the window holds 0.05 operations' worth of the target.
    /// let decision = sampler.decide_at(TraceId::from(1), start + 10_000_000);
    /// assert_eq!(decision.percentage, 100.0 / 20.0);
    /// # Ok::<(), census_pipeline::sampling::SamplerError>(())
    /// ```
    pub fn starting_at(per_second: f64, unix_nanos: u64) -> Result<Self, SamplerError> {
        if !(per_second.is_finite() && per_second >= 0.0) {
            return Err(SamplerError::TargetOutOfRange { per_second });
        }
        Ok(Self {
            per_second,
            state: Arc::new(State {
                window: Mutex::new(Window {
                    count: 0.0,
                    nanos: 0.0,
                    last: unix_nanos,
                }),
                kept: Mutex::default(),
            }),
        })
    }

    /// The target, operations per second.
    pub fn operations_per_second(&self) -> f64 {
        self.per_second
    }

    /// The decision for a new operation `trace_id` arriving at
    /// `unix_nanos`; it counts towards the rate.
    pub fn decide_at(&self, trace_id: TraceId, unix_nanos: u64) -> RateDecision {
        let percentage = self.percentage_at(unix_nanos);
        RateDecision {
            keep: trace_id_score(trace_id) < percentage,
            percentage,
        }
    }

    fn percentage_at(&self, now: u64) -> f64 {
        let (count, nanos) = {
            let mut window = self
                .state
                .window
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if now <= window.last {
                window.count += 1.0;
            } else {
                let delta = (now - window.last) as f64;
                // Each step as Microsoft's sampler computes it, so that the
                // two round alike and agree at every boundary.
                let decay = (-delta * (1e-9 / ADAPTATION_SECONDS)).exp();
                window.count = window.count * decay + 1.0;
                window.nanos = window.nanos * decay + delta;
                window.last = now;
            }
            (window.count, window.nanos)
        };
        let probability = (nanos * (1e-9 * self.per_second)) / count;
        round_down_to_whole_items(100.0 * probability.min(1.0))
    }

    fn remember(&self, trace_id: TraceId, percentage: f64) {
        let mut kept = self
            .state
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if kept.rates.insert(trace_id, percentage).is_none() {
            kept.order.push_back(trace_id);
        }
        while kept.order.len() > REMEMBERED_OPERATIONS {
            if let Some(oldest) = kept.order.pop_front() {
                kept.rates.remove(&oldest);
            }
        }
    }

    fn remembered(&self, trace_id: TraceId) -> Option<f64> {
        let kept = self
            .state
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        kept.rates.get(&trace_id).copied()
    }
}

/// `percentage` rounded down to 100/n for a whole n, so that each kept
/// item stands for n operations; 0 stays 0.
fn round_down_to_whole_items(percentage: f64) -> f64 {
    if percentage <= 0.0 {
        return 0.0;
    }
    let items = (100.0 / percentage).ceil();
    if !items.is_finite() || items >= f64::from(i32::MAX) {
        return 0.0;
    }
    100.0 / items
}

/// Nanoseconds on a monotonic clock (since an anchor taken once), so that
/// a wall-clock step cannot freeze or flood the window.
fn now_nanos() -> u64 {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    let anchor = *ANCHOR.get_or_init(Instant::now);
    u64::try_from(anchor.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

impl ShouldSample for RateLimitedSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let parent = parent_context
            .map(|cx| cx.span().span_context().clone())
            .filter(|sc| sc.is_valid());
        let trace_state = parent
            .as_ref()
            .map_or_else(TraceState::default, |p| p.trace_state().clone());
        let (keep, percentage) = match &parent {
            // A child in this process follows its parent, at its rate.
            Some(local) if !local.is_remote() => (
                local.is_sampled(),
                self.remembered(trace_id).unwrap_or(100.0),
            ),
            _ => {
                let decision = self.decide_at(trace_id, now_nanos());
                if decision.keep && decision.percentage < 100.0 {
                    self.remember(trace_id, decision.percentage);
                }
                (decision.keep, decision.percentage)
            }
        };
        result(keep, percentage, trace_state)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags};
    use opentelemetry_sdk::trace::SamplingDecision;

    use crate::sampling::SAMPLE_RATE_ATTRIBUTE;

    use super::*;

    const START: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn a_steady_stream_is_cut_to_the_target_with_whole_item_percentages() {
        // 200 operations a second for 10 s, target 5 a second.
        let sampler = RateLimitedSampler::starting_at(5.0, START).unwrap();
        let mut kept = 0;
        let mut estimate = 0.0;
        for i in 0..2000u64 {
            let trace_id = TraceId::from(
                u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            );
            let decision = sampler.decide_at(trace_id, START + (i + 1) * 5_000_000);
            let items = 100.0 / decision.percentage;
            assert_eq!(items, items.round(), "{}", decision.percentage);
            if decision.keep {
                kept += 1;
                estimate += items;
            }
        }
        assert!((35..=65).contains(&kept), "{kept} kept");
        assert!(
            (1600.0..=2400.0).contains(&estimate),
            "{estimate} estimated"
        );
    }

    #[test]
    fn below_the_target_everything_is_kept_and_zero_keeps_nothing() {
        let sampler = RateLimitedSampler::starting_at(100.0, START).unwrap();
        for i in 1..50u64 {
            let decision =
                sampler.decide_at(TraceId::from(u128::from(i)), START + i * 1_000_000_000);
            assert_eq!(
                decision,
                RateDecision {
                    keep: true,
                    percentage: 100.0
                }
            );
        }
        let none = RateLimitedSampler::starting_at(0.0, START).unwrap();
        let decision = none.decide_at(TraceId::from(7), START + 1_000_000_000);
        assert_eq!(
            decision,
            RateDecision {
                keep: false,
                percentage: 0.0
            }
        );
    }

    #[test]
    fn bad_targets_are_refused_with_the_fix() {
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let error = RateLimitedSampler::new(bad).unwrap_err();
            assert!(
                error.to_string().contains("operations per second"),
                "{error}"
            );
        }
    }

    #[test]
    fn local_children_follow_their_root_and_its_rate() {
        let sampler = RateLimitedSampler::new(1.0).unwrap();
        let trace_id = TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        // As a root kept at 25 % leaves it.
        sampler.remember(trace_id, 25.0);
        let rate = opentelemetry::Value::F64(25.0);
        let local = |flags| {
            Context::new().with_remote_span_context(SpanContext::new(
                trace_id,
                SpanId::from(9),
                flags,
                false,
                TraceState::default(),
            ))
        };
        let child = sampler.should_sample(
            Some(&local(TraceFlags::SAMPLED)),
            trace_id,
            "SELECT",
            &SpanKind::Client,
            &[],
            &[],
        );
        assert_eq!(child.decision, SamplingDecision::RecordAndSample);
        assert_eq!(
            child.attributes,
            [KeyValue::new(SAMPLE_RATE_ATTRIBUTE, rate)]
        );
        let dropped = sampler.should_sample(
            Some(&local(TraceFlags::NOT_SAMPLED)),
            trace_id,
            "SELECT",
            &SpanKind::Client,
            &[],
            &[],
        );
        assert_eq!(dropped.decision, SamplingDecision::Drop);
        // A remote caller's decision is not followed: at 1 a second, the
        // second of two quick roots is dropped whatever the caller said.
        let remote = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0xffff_ffff_0000_0000_ffff_ffff_0000_0001),
            SpanId::from(3),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        let decisions: Vec<_> = (0..2)
            .map(|_| {
                sampler
                    .should_sample(
                        Some(&remote),
                        TraceId::from(0xffff_ffff_0000_0000_ffff_ffff_0000_0001),
                        "GET /",
                        &SpanKind::Server,
                        &[],
                        &[],
                    )
                    .decision
            })
            .collect();
        assert_eq!(decisions[1], SamplingDecision::Drop, "{decisions:?}");
    }
}
