//! Which tracer provider integrations record with, and each integration's
//! tracer cached on it so that starting a span takes no lock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwapOption;
use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, BoxedTracer, ObjectSafeTracerProvider};
use opentelemetry::trace::{Span, Tracer, TracerProvider};

use super::Integration;

struct Installed {
    provider: Arc<dyn ObjectSafeTracerProvider + Send + Sync>,
    generation: u64,
}

static PROVIDER: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Makes `provider` the one census integrations record with, process-wide.
///
/// This is the one way to choose it: [`TracerBuilder::build`]
/// (crate::TracerBuilder::build) calls it, so most applications never do.
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
    let generation = GENERATION.fetch_add(1, Ordering::Relaxed) + 1;
    PROVIDER.store(Some(Arc::new(Installed {
        provider: Arc::new(provider),
        generation,
    })));
}

/// A tracer built on the provider of one generation.
struct Cached {
    generation: u64,
    tracer: BoxedTracer,
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

impl Integration {
    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.crate_name())
            .with_version(self.version())
            .build()
    }

    /// Runs `f` with the tracer this integration records with: its
    /// instrumentation scope is the integration's crate, on the registry's
    /// provider or, without one, the global provider.
    pub fn with_tracer<R>(&self, f: impl FnOnce(&BoxedTracer) -> R) -> R {
        let installed = PROVIDER.load();
        let Some(installed) = installed.as_deref() else {
            return f(&global::tracer_with_scope(self.scope()));
        };
        let cached = self.tracer.0.load();
        if let Some(cached) = cached.as_deref()
            && cached.generation == installed.generation
        {
            return f(&cached.tracer);
        }
        let fresh = Arc::new(Cached {
            generation: installed.generation,
            tracer: BoxedTracer::new(installed.provider.boxed_tracer(self.scope())),
        });
        self.tracer.0.store(Some(fresh.clone()));
        f(&fresh.tracer)
    }
}
