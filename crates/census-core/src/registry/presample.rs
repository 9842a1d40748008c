//! The sampling decision census takes itself, before the SDK builds a
//! span, when it built the installed provider: with a
//! [`ProbabilitySampler`](crate::sampling::ProbabilitySampler) or the
//! SDK's default sampler, and [`CensusIds`]. A dropped span then costs only
//! its ids, and a kept root gets the very trace id it was kept for.

use std::cell::Cell;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

use crate::sampling::{KnownSampler, SamplerSlot};

/// The installed provider's sampler, when census built that provider.
pub(super) static SAMPLER: SamplerSlot = SamplerSlot::empty();

thread_local! {
    /// A root's trace id, drawn by census to decide on it, waiting for the
    /// SDK to ask this thread's census tracer for a trace id.
    static DRAWN: Cell<Option<TraceId>> = const { Cell::new(None) };
}

/// The SDK's random ids, except that the trace id of a root census
/// decided to keep is the one it decided on.
#[derive(Debug, Default)]
pub(crate) struct CensusIds(RandomIdGenerator);

impl IdGenerator for CensusIds {
    fn new_trace_id(&self) -> TraceId {
        DRAWN
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| self.0.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

/// What census decided before asking the SDK.
pub(super) enum Presampled {
    /// Dropped: `parent` with the unsampled span's ids in it, as the SDK
    /// would have made them (but for Level 2's `random` flag, which
    /// census passes on).
    Dropped(Context),
    /// A root, kept: the SDK must start it in this trace.
    KeptRoot(TraceId),
    /// Kept (a child of a valid parent, or a root any id keeps): the SDK
    /// will decide the same.
    Kept,
    /// Left to the SDK: census does not know the sampler, or telemetry is
    /// suppressed.
    Undecided,
}

/// Takes the installed sampler's decision for a span under `parent`.
///
/// The one difference from the SDK: after the provider is shut down the
/// SDK hands out invalid ids, census keeps passing fresh unsampled ones on.
#[inline(always)]
pub(super) fn presample(parent: &Context) -> Presampled {
    let Some(sampler) = SAMPLER.load() else {
        return Presampled::Undecided;
    };
    if parent.is_telemetry_suppressed() {
        return Presampled::Undecided;
    }
    let span = parent.span();
    let valid = Some(span.span_context()).filter(|of| of.is_valid());
    let (trace_id, keep) = match (sampler, valid) {
        // A root keeps whatever id the SDK draws.
        (KnownSampler::ParentBasedAlwaysOn, None) => return Presampled::Kept,
        (KnownSampler::ParentBasedAlwaysOn, Some(of)) => (of.trace_id(), of.is_sampled()),
        (KnownSampler::Probability(sampler), _) => {
            let trace_id = valid.map_or_else(
                || RandomIdGenerator::default().new_trace_id(),
                |of| of.trace_id(),
            );
            (trace_id, sampler.keeps_child_of(valid, trace_id))
        }
    };
    if keep {
        return match valid {
            Some(_) => Presampled::Kept,
            None => Presampled::KeptRoot(trace_id),
        };
    }
    // Level 2's random flag says how the trace id was made: a child passes
    // it on, sampled or not.
    let random = valid.map_or(0, |of| {
        of.trace_flags().to_u8() & crate::propagation::RANDOM_FLAG
    });
    let ids = SpanContext::new(
        trace_id,
        RandomIdGenerator::default().new_span_id(),
        TraceFlags::new(random),
        false,
        valid.map_or_else(TraceState::default, |of| of.trace_state().clone()),
    );
    Presampled::Dropped(parent.with_remote_span_context(ids))
}

/// Runs `start` with `trace_id` handed to [`CensusIds`] for the root it
/// starts; an id the SDK did not take (it started nothing) is withdrawn.
#[inline(always)]
pub(super) fn in_trace<R>(trace_id: TraceId, start: impl FnOnce() -> R) -> R {
    let _ = DRAWN.try_with(|drawn| drawn.set(Some(trace_id)));
    let started = start();
    let _ = DRAWN.try_with(Cell::take);
    started
}
