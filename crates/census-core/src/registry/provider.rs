//! Which tracer provider integrations record with, and each integration's
//! tracer cached on it so that starting a span takes no lock.

use std::any::Any;
use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwapOption;
use opentelemetry::global::{self, BoxedTracer, ObjectSafeSpan, ObjectSafeTracerProvider};
use opentelemetry::trace::{
    Span, SpanBuilder, SpanContext, SpanKind, TraceContextExt, TraceFlags, Tracer, TracerProvider,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use super::Integration;
use super::presample::{Presampled, SAMPLER, in_trace, presample};
use crate::propagation::RANDOM_FLAG;
use crate::sampling::KnownSampler;

struct Installed {
    provider: Arc<dyn ObjectSafeTracerProvider + Send + Sync>,
    /// The same provider when it is the SDK's, whose tracers start spans
    /// without boxing them.
    sdk: Option<SdkTracerProvider>,
    generation: u64,
}

static PROVIDER: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
/// The generation of the provider in `PROVIDER`, published after it, so
/// that a span checks its integration's cached tracer with one load.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLING: Mutex<()> = Mutex::new(());

/// Makes `provider` the one census integrations record with, process-wide.
///
/// This is the one way to choose it:
/// [`TracerBuilder::build`](crate::TracerBuilder::build) calls it, so most
/// applications never do.
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
    install(provider, None);
}

/// [`set_tracer_provider`], told the sampler `provider` was built with, if
/// census knows its rule, and that the provider's ids come from
/// [`CensusIds`](super::CensusIds).
pub(crate) fn install<P, T, S>(provider: P, sampler: Option<KnownSampler>)
where
    S: Span + Send + Sync + 'static,
    T: Tracer<Span = S> + Send + Sync + 'static,
    P: TracerProvider<Tracer = T> + Send + Sync + 'static,
{
    let sdk = (&provider as &dyn Any)
        .downcast_ref::<SdkTracerProvider>()
        .cloned();
    // Serialised so that the provider stored last carries the generation
    // published last; readers trust a cache whose generation is current.
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    let generation = GENERATION.load(Ordering::Relaxed) + 1;
    SAMPLER.store(sampler.filter(|_| sdk.is_some()));
    PROVIDER.store(Some(Arc::new(Installed {
        provider: Arc::new(provider),
        sdk,
        generation,
    })));
    GENERATION.store(generation, Ordering::Release);
}

enum CachedTracer {
    Sdk(SdkTracer),
    Other(BoxedTracer),
}

/// A tracer built on the provider of one generation.
struct Cached {
    generation: u64,
    tracer: CachedTracer,
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
/// no lock, no boxing per call. An unsampled span records nothing and its
/// end is a no-op, but its ids still go downstream: only those are kept,
/// which spares boxing the span behind a lock.
#[inline(always)]
fn into_context<S: Span + Send + Sync + 'static>(
    mut span: S,
    parent: &Context,
    record: impl FnOnce(&mut dyn ObjectSafeSpan),
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
        match presample(parent) {
            Presampled::Dropped(cx) => (cx, false),
            Presampled::KeptRoot(trace_id) => {
                // Attributes first: code they run must not take the trace id
                // drawn for this span.
                let recorder = recorder.up_front();
                let builder = builder();
                in_trace(trace_id, || self.start_kept(builder, parent, recorder))
            }
            Presampled::Kept => self.start_kept(builder(), parent, recorder.up_front()),
            Presampled::Undecided => {
                self.start_sdk(builder(), parent, |span| recorder.record(span))
            }
        }
    }

    /// Starts a span census knows is kept: attributes known up front go to
    /// the SDK with the builder, in one vector, rather than one by one.
    #[inline(always)]
    fn start_kept<R: Recorder>(
        &self,
        builder: SpanBuilder,
        parent: &Context,
        recorder: Result<Vec<KeyValue>, R>,
    ) -> (Context, bool) {
        match recorder {
            Ok(attributes) => self.start_sdk(builder.with_attributes(attributes), parent, |_| {}),
            Err(recorder) => self.start_sdk(builder, parent, |span| recorder.record(span)),
        }
    }

    /// Starts the span with the SDK, from the cached tracer.
    #[inline(always)]
    fn start_sdk(
        &self,
        builder: SpanBuilder,
        parent: &Context,
        record: impl FnOnce(&mut dyn ObjectSafeSpan),
    ) -> (Context, bool) {
        let generation = GENERATION.load(Ordering::Acquire);
        let cached = self.tracer.0.load();
        if let Some(cached) = cached.as_deref()
            && cached.generation == generation
        {
            return start_with(&cached.tracer, builder, parent, record);
        }
        match self.rebuild_tracer() {
            Some(fresh) => start_with(&fresh.tracer, builder, parent, record),
            None => {
                let tracer = global::tracer_with_scope(self.scope());
                let span = tracer.build_with_context(builder, parent);
                into_context(span, parent, record)
            }
        }
    }

    /// Builds and caches the tracer of the installed provider; `None`
    /// while none is installed.
    #[cold]
    fn rebuild_tracer(&self) -> Option<Arc<Cached>> {
        let installed = PROVIDER.load_full()?;
        let tracer = match &installed.sdk {
            Some(sdk) => CachedTracer::Sdk(sdk.tracer_with_scope(self.scope())),
            None => CachedTracer::Other(BoxedTracer::new(
                installed.provider.boxed_tracer(self.scope()),
            )),
        };
        let fresh = Arc::new(Cached {
            generation: installed.generation,
            tracer,
        });
        self.tracer.0.store(Some(fresh.clone()));
        Some(fresh)
    }
}

#[inline(always)]
fn start_with(
    tracer: &CachedTracer,
    builder: SpanBuilder,
    parent: &Context,
    record: impl FnOnce(&mut dyn ObjectSafeSpan),
) -> (Context, bool) {
    match tracer {
        CachedTracer::Sdk(tracer) => {
            into_context(tracer.build_with_context(builder, parent), parent, record)
        }
        CachedTracer::Other(tracer) => {
            into_context(tracer.build_with_context(builder, parent), parent, record)
        }
    }
}
