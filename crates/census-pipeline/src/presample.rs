//! The sampling decision census takes itself, before the SDK builds a
//! span, when it built the installed provider: with a
//! [`ProbabilitySampler`](crate::sampling::ProbabilitySampler) or the
//! SDK's default sampler, and [`CensusIds`]. A dropped span then costs only
//! its ids, and a kept root gets the very trace id it was kept for.
//!
//! This is the one place census leans on how the SDK works inside: the
//! SDK draws a root's trace id from its `IdGenerator`, once, on the thread
//! that starts the span, before it asks the sampler. `tests/presampling.rs`
//! fails if that changes.

use std::cell::Cell;

use census_core::propagation::RANDOM_FLAG;
use census_core::registry::{Presample, Presampled};
use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

use crate::sampling::KnownSampler;

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

impl Presample for KnownSampler {
    /// The sampler's decision for a span under `parent`.
    ///
    /// The one difference from the SDK: after the provider is shut down
    /// the SDK hands out invalid ids, census keeps passing fresh unsampled
    /// ones on.
    fn presample(&self, parent: &Context) -> Presampled {
        decide(*self, parent)
    }

    fn start_root(&self, trace_id: TraceId, start: &mut dyn FnMut()) {
        in_trace(trace_id, start);
    }
}

#[inline(always)]
fn decide(sampler: KnownSampler, parent: &Context) -> Presampled {
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
    let random = valid.map_or(0, |of| of.trace_flags().to_u8() & RANDOM_FLAG);
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
fn in_trace(trace_id: TraceId, start: &mut dyn FnMut()) {
    let _ = DRAWN.try_with(|drawn| drawn.set(Some(trace_id)));
    start();
    let _ = DRAWN.try_with(Cell::take);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    /// The SDK's side of the handoff: it asks its `IdGenerator` for a
    /// root's trace id once, on the thread that starts the span. If a
    /// release of the SDK stops doing so, this fails, and so would census's
    /// presampling.
    #[test]
    fn the_sdk_starts_a_presampled_root_in_the_trace_it_was_kept_for() {
        let provider = SdkTracerProvider::builder()
            .with_id_generator(CensusIds::default())
            .build();
        let tracer = provider.tracer("presample");
        let drawn = TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
        let mut root = None;
        KnownSampler::ParentBasedAlwaysOn.start_root(drawn, &mut || {
            root = Some(tracer.start_with_context("root", &Context::new()));
        });
        let root = root.expect("started");
        assert_eq!(root.span_context().trace_id(), drawn);

        // Handed over once: the next root gets an id of its own.
        let next = tracer.start_with_context("next", &Context::new());
        assert_ne!(next.span_context().trace_id(), drawn);

        // A child takes its parent's trace: an id handed over for it is
        // withdrawn when it has started, not left for a later root.
        let parent = Context::new().with_remote_span_context(root.span_context().clone());
        let other = TraceId::from(7);
        let mut child = None;
        KnownSampler::ParentBasedAlwaysOn.start_root(other, &mut || {
            child = Some(tracer.start_with_context("child", &parent));
        });
        assert_eq!(child.expect("started").span_context().trace_id(), drawn);
        let later = tracer.start_with_context("later", &Context::new());
        assert_ne!(later.span_context().trace_id(), other);
    }
}
