//! Which tracer provider integrations record with, and each integration's
//! tracer cached on it so that starting a span takes no lock.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use opentelemetry::global::{self, ObjectSafeSpan};
use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, SpanKind, TraceContextExt, TraceFlags, Tracer, TracerProvider,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};

use super::Integration;
use super::presample::{Presample, Presampled};
use crate::propagation::RANDOM_FLAG;

struct Installed {
    provider: Box<dyn ErasedProvider>,
    presampler: Option<&'static dyn Presample>,
    generation: u64,
}

static PROVIDER: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
/// The generation of the provider in `PROVIDER`, published after it, so
/// that a span checks its integration's cached tracer with one load.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLING: Mutex<()> = Mutex::new(());

/// Makes `provider` the one census integrations record with, process-wide.
///
/// A pipeline that builds the provider does this for the application
/// (`census::Tracer::builder().build()` does), so most applications never
/// call it.
/// Until a provider is given, integrations record with OpenTelemetry's
/// global provider (looked up on every span, as OpenTelemetry's own
/// instrumentations do); once one is given, each integration's tracer is
/// built once and reused until the next call.
///
/// ```
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// census_core::registry::set_tracer_provider(provider);
/// ```
pub fn set_tracer_provider<P, T, S>(provider: P)
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    install(Box::new(provider), None);
}

/// [`set_tracer_provider`], with the rule of the sampler `provider` was
/// built with, which census applies before the provider builds a span.
///
/// census keeps `presampler` for the rest of the process (a few bytes per
/// call; applications install once): each thread then holds a plain
/// reference to it, so deciding for a span touches no reference count and
/// no shared cache.
///
/// ```
/// use census_core::registry::{Presample, Presampled};
/// # use opentelemetry::{Context, trace::TraceId};
/// # #[derive(Debug)]
/// # struct KeepAll;
/// # impl Presample for KeepAll {
/// #     fn presample(&self, _: &Context) -> Presampled { Presampled::Kept }
/// #     fn start_root(&self, _: TraceId, start: &mut dyn FnMut()) { start() }
/// # }
/// // The SDK's default sampler, parent-based always-on, keeps every root.
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// census_core::registry::set_tracer_provider_presampled(provider, KeepAll);
/// ```
pub fn set_tracer_provider_presampled<P, T, S>(provider: P, presampler: impl Presample)
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    install(Box::new(provider), Some(Box::leak(Box::new(presampler))));
}

fn install(provider: Box<dyn ErasedProvider>, presampler: Option<&'static dyn Presample>) {
    // Serialised so that the provider stored last carries the generation
    // published last; readers trust a cache whose generation is current.
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    let generation = GENERATION.load(Ordering::Relaxed) + 1;
    PROVIDER.store(Some(Arc::new(Installed {
        provider,
        presampler,
        generation,
    })));
    GENERATION.store(generation, Ordering::Release);
}

/// A provider whose tracers start spans straight into a context: the span
/// stays of the provider's own type until the context holds it, with no
/// boxing on the way (OpenTelemetry's object-safe provider boxes each
/// span once more).
trait ErasedProvider: Send + Sync {
    fn tracer(&self, scope: InstrumentationScope) -> Box<dyn ErasedTracer>;
}

impl<P, T, S> ErasedProvider for P
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    fn tracer(&self, scope: InstrumentationScope) -> Box<dyn ErasedTracer> {
        Box::new(self.tracer_with_scope(scope))
    }
}

trait ErasedTracer: Send + Sync {
    /// Builds the span under `parent` and returns `parent` with it, and
    /// whether it records; `record` is given a recording span first.
    fn start(
        &self,
        builder: SpanBuilder,
        parent: &Context,
        record: &mut dyn FnMut(&mut dyn ObjectSafeSpan),
    ) -> (Context, bool);
}

impl<T, S> ErasedTracer for T
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
{
    fn start(
        &self,
        builder: SpanBuilder,
        parent: &Context,
        record: &mut dyn FnMut(&mut dyn ObjectSafeSpan),
    ) -> (Context, bool) {
        into_context(self.build_with_context(builder, parent), parent, record)
    }
}

/// A tracer built on the provider of one generation.
struct Cached {
    generation: u64,
    tracer: Box<dyn ErasedTracer>,
}

/// An integration's tracer, rebuilt only when the provider changes.
pub(super) struct TracerCache(ArcSwapOption<Cached>);

impl TracerCache {
    pub(super) const fn new() -> Self {
        Self(ArcSwapOption::const_empty())
    }
}

impl std::fmt::Debug for TracerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracerCache").finish_non_exhaustive()
    }
}

/// What a started span is given once it is known to record.
pub(crate) trait Recorder: Sized {
    /// The attributes, when they can be handed over before the span is
    /// built; `Err(self)` to [`record`](Self::record) on the span instead.
    fn up_front(self) -> Result<Vec<KeyValue>, Self>;

    /// Gives a recording span its attributes (and, for statements, its
    /// final name).
    fn record(self, span: &mut dyn ObjectSafeSpan);
}

/// A recorder that works on the span itself.
impl<F: FnOnce(&mut dyn ObjectSafeSpan)> Recorder for F {
    fn up_front(self) -> Result<Vec<KeyValue>, Self> {
        Err(self)
    }

    fn record(self, span: &mut dyn ObjectSafeSpan) {
        self(span);
    }
}

/// A recorder of plain attributes, built only for a span that records.
pub(crate) struct Attributes<F>(pub(crate) F);

impl<F: FnOnce() -> Vec<KeyValue>> Recorder for Attributes<F> {
    fn up_front(self) -> Result<Vec<KeyValue>, Self> {
        Ok((self.0)())
    }

    fn record(self, span: &mut dyn ObjectSafeSpan) {
        for attribute in (self.0)() {
            span.set_attribute(attribute);
        }
    }
}

/// `parent` with `span` in it, and whether it records. A recording span
/// gets its name and attributes from `record` while it is still owned here:
/// no lock. An unsampled span records nothing and its end is a no-op, but
/// its ids still go downstream: only those are kept, which spares boxing
/// the span behind a lock.
#[inline(always)]
fn into_context<S: Span + Send + Sync + 'static>(
    mut span: S,
    parent: &Context,
    record: &mut dyn FnMut(&mut dyn ObjectSafeSpan),
) -> (Context, bool) {
    if span.is_recording() {
        record(&mut span);
        (parent.with_span(span), true)
    } else {
        (
            parent.with_remote_span_context(with_random_flag_of(parent, span.span_context())),
            false,
        )
    }
}

/// `ids` with Level 2's `random` flag when the parent (of the same trace)
/// has it: the SDK gives a span it does not sample no flags at all, but
/// the flag describes the trace id, which the child shares.
fn with_random_flag_of(parent: &Context, ids: &SpanContext) -> SpanContext {
    let random = parent.span().span_context().trace_flags().to_u8() & RANDOM_FLAG;
    let flags = ids.trace_flags().to_u8();
    if random == 0 || flags & RANDOM_FLAG != 0 {
        return ids.clone();
    }
    SpanContext::new(
        ids.trace_id(),
        ids.span_id(),
        TraceFlags::new(flags | random),
        ids.is_remote(),
        ids.trace_state().clone(),
    )
}

/// Starts the span from `tracer`, giving a recording one to `record`.
#[inline(always)]
fn start_with(
    tracer: &dyn ErasedTracer,
    builder: SpanBuilder,
    parent: &Context,
    record: impl FnOnce(&mut dyn ObjectSafeSpan),
) -> (Context, bool) {
    let mut record = Some(record);
    tracer.start(builder, parent, &mut |span| {
        if let Some(record) = record.take() {
            record(span);
        }
    })
}

/// Starts a span census knows is kept: attributes known up front go to
/// the provider with the builder, in one vector, rather than one by one.
#[inline(always)]
fn start_kept<R: Recorder>(
    tracer: &dyn ErasedTracer,
    builder: SpanBuilder,
    parent: &Context,
    recorder: Result<Vec<KeyValue>, R>,
) -> (Context, bool) {
    match recorder {
        Ok(attributes) => start_with(tracer, builder.with_attributes(attributes), parent, |_| {}),
        Err(recorder) => start_with(tracer, builder, parent, |span| recorder.record(span)),
    }
}

thread_local! {
    /// This thread's reference to the presampler installed with the
    /// provider of a generation. Plain data, so reading it is one
    /// thread-local load: no reference count, no lazily registered
    /// destructor.
    static PRESAMPLER: Cell<(u64, Option<&'static dyn Presample>)> =
        const { Cell::new((0, None)) };
}

/// The presampler of the provider of `generation`; `None` without one,
/// and for a context whose telemetry is suppressed (left to the provider).
#[inline(always)]
fn presampler(parent: &Context, generation: u64) -> Option<&'static dyn Presample> {
    if parent.is_telemetry_suppressed() {
        return None;
    }
    PRESAMPLER.with(|local| match local.get() {
        (seen, presampler) if seen == generation => presampler,
        _ => refresh_presampler(local, generation),
    })
}

/// Reads the presampler of `generation` into this thread's reference.
#[cold]
fn refresh_presampler(
    local: &Cell<(u64, Option<&'static dyn Presample>)>,
    generation: u64,
) -> Option<&'static dyn Presample> {
    let installed = PROVIDER.load();
    // Generation 0 (nothing installed) is what the reference starts with,
    // so a provider is here; one replaced meanwhile leaves this span to
    // the provider and the next span reads the new generation.
    let installed = installed
        .as_deref()
        .filter(|installed| installed.generation == generation)?;
    local.set((generation, installed.presampler));
    installed.presampler
}

impl Integration {
    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.crate_name())
            .with_version(self.version())
            .build()
    }

    /// Starts a span of `kind` named `name` as a child of `parent` from this
    /// integration's tracer (its instrumentation scope is the integration's
    /// crate) on the registry's provider or, without one, the global
    /// provider; returns `parent` with the span in it.
    // Inlined: the span builder is large, and each call level would copy it.
    #[inline(always)]
    pub(crate) fn start_in(
        &self,
        kind: SpanKind,
        name: impl FnOnce() -> Cow<'static, str>,
        parent: &Context,
        recorder: impl Recorder,
    ) -> (Context, bool) {
        let builder = || SpanBuilder::from_name(name()).with_kind(kind);
        let generation = GENERATION.load(Ordering::Acquire);
        // Decided before the tracer is looked up: a dropped span needs none.
        let presampler = presampler(parent, generation);
        let presampled = match presampler.map(|presampler| presampler.presample(parent)) {
            Some(Presampled::Dropped(cx)) => return (cx, false),
            presampled => presampled.unwrap_or(Presampled::Undecided),
        };
        let loaded = self.tracer.0.load();
        let fresh;
        let cached = match loaded.as_deref() {
            Some(cached) if cached.generation == generation => cached,
            _ => match self.rebuild_tracer() {
                Some(rebuilt) => {
                    fresh = rebuilt;
                    &*fresh
                }
                None => {
                    let tracer = global::tracer_with_scope(self.scope());
                    return start_with(&tracer, builder(), parent, |span| recorder.record(span));
                }
            },
        };
        let tracer = &*cached.tracer;
        match (presampled, presampler) {
            (Presampled::KeptRoot(trace_id), Some(presampler)) => {
                // Attributes first: code they run must not take the trace id
                // drawn for this span.
                let mut pending = Some((builder(), recorder.up_front()));
                let mut started = None;
                presampler.start_root(trace_id, &mut || {
                    if let Some((builder, recorder)) = pending.take() {
                        started = Some(start_kept(tracer, builder, parent, recorder));
                    }
                });
                match (started, pending) {
                    (Some(started), _) => started,
                    // A presampler that did not start the span: start it
                    // without the trace id rather than lose it.
                    (None, Some((builder, recorder))) => {
                        start_kept(tracer, builder, parent, recorder)
                    }
                    (None, None) => (parent.clone(), false),
                }
            }
            (Presampled::Kept, _) => start_kept(tracer, builder(), parent, recorder.up_front()),
            // Undecided (a dropped span returned above).
            _ => start_with(tracer, builder(), parent, |span| recorder.record(span)),
        }
    }

    /// Builds and caches the tracer of the installed provider; `None`
    /// while none is installed.
    #[cold]
    fn rebuild_tracer(&self) -> Option<Arc<Cached>> {
        let installed = PROVIDER.load_full()?;
        let fresh = Arc::new(Cached {
            generation: installed.generation,
            tracer: installed.provider.tracer(self.scope()),
        });
        self.tracer.0.store(Some(fresh.clone()));
        Some(fresh)
    }
}
