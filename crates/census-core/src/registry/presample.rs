//! The sampling decision taken before a span is built.
//!
//! A pipeline that knows the rule of the sampler its provider was built
//! with can decide for a span before the provider builds it: a dropped
//! span then costs only its ids (no name, no attributes, no span object),
//! and a kept one gets its attributes in one vector up front. census core
//! knows no sampler; the pipeline that built the provider hands one
//! [`Presample`] over with it
//! ([`set_tracer_provider_presampled`](super::set_tracer_provider_presampled)).

use std::fmt;

use opentelemetry::Context;
use opentelemetry::trace::TraceId;

/// What a [`Presample`] decided for a span about to start.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Presampled {
    /// Dropped: the span is not built. This is the context its work runs
    /// in: the parent with the ids the provider would have given the
    /// unsampled span, which go downstream. (Built by the presampler, so
    /// that the ids are written once, where they are drawn.)
    Dropped(Context),
    /// A root, kept for this trace id: the provider must start it in this
    /// trace, which [`Presample::start_root`] arranges.
    KeptRoot(TraceId),
    /// Kept, and the provider's own sampler will decide the same (a child
    /// of a valid parent, or a root that any trace id keeps).
    Kept,
    /// Left to the provider's sampler.
    Undecided,
}

/// A sampler's rule, applied before the provider builds a span.
///
/// Implementations must decide exactly as the sampler of the provider
/// they are installed with: census trusts a `Dropped` without asking the
/// provider, and asks the provider to start what it was told is kept.
///
/// ```
/// use census_core::registry::{Presample, Presampled};
/// use opentelemetry::Context;
/// use opentelemetry::trace::TraceId;
///
/// /// Keeps every span: the rule of a provider sampling everything.
/// #[derive(Debug)]
/// struct KeepAll;
///
/// impl Presample for KeepAll {
///     fn presample(&self, _parent: &Context) -> Presampled {
///         Presampled::Kept
///     }
///
///     fn start_root(&self, _trace_id: TraceId, start: &mut dyn FnMut()) {
///         start(); // never asked: `presample` returns no `KeptRoot`
///     }
/// }
/// assert!(matches!(KeepAll.presample(&Context::new()), Presampled::Kept));
/// ```
pub trait Presample: fmt::Debug + Send + Sync + 'static {
    /// The decision for a span under `parent` (never a context whose
    /// telemetry is suppressed: those are left to the provider).
    fn presample(&self, parent: &Context) -> Presampled;

    /// Runs `start`, which asks the provider to build the root span
    /// [`presample`](Self::presample) kept as
    /// [`KeptRoot(trace_id)`](Presampled::KeptRoot), so that the provider
    /// gives that span `trace_id`.
    fn start_root(&self, trace_id: TraceId, start: &mut dyn FnMut());
}
