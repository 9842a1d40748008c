//! The meter provider integrations measure with, and each integration's
//! instruments cached on it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use arc_swap::ArcSwapOption;
use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::{Histogram, Meter, MeterProvider, UpDownCounter};
use opentelemetry_semantic_conventions::metric::HTTP_SERVER_ACTIVE_REQUESTS;

use super::CallKind;
use crate::registry::Integration;

struct Installed {
    provider: Arc<dyn MeterProvider + Send + Sync>,
    generation: u64,
}

static PROVIDER: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
/// The generation of the provider in `PROVIDER`, published after it; 0
/// until one is installed, which is what spans check before measuring.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLING: Mutex<()> = Mutex::new(());

/// Makes `provider` the one census integrations measure their calls
/// with, process-wide, and starts the measuring: until a provider is
/// given, no call reads the clock for a metric.
///
/// census's pipeline does this when it exports metrics
/// (`census::Tracer::builder().metric_exporter(..)`), so most
/// applications never call it. OpenTelemetry's global meter provider is
/// not read: measuring every call for a no-op provider would cost each
/// call for nothing, and the global one cannot tell.
///
/// ```
/// let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// census_core::metrics::set_meter_provider(provider);
/// assert!(census_core::metrics::is_measuring());
/// ```
pub fn set_meter_provider(provider: impl MeterProvider + Send + Sync + 'static) {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    let generation = GENERATION.load(Ordering::Relaxed) + 1;
    PROVIDER.store(Some(Arc::new(Installed {
        provider: Arc::new(provider),
        generation,
    })));
    GENERATION.store(generation, Ordering::Release);
}

/// Whether a meter provider is installed, so that calls are measured.
///
/// ```
/// # let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// census_core::metrics::set_meter_provider(provider);
/// // From then on, for the life of the process.
/// assert!(census_core::metrics::is_measuring());
/// ```
#[inline]
pub fn is_measuring() -> bool {
    GENERATION.load(Ordering::Relaxed) != 0
}

/// An integration's instruments on the provider of one generation, each
/// created on first use.
pub(crate) struct Instruments {
    generation: u64,
    meter: Meter,
    durations: [OnceLock<Histogram<f64>>; CallKind::COUNT],
    active_requests: OnceLock<UpDownCounter<i64>>,
}

impl Instruments {
    /// The duration histogram of `kind`, in seconds, with the
    /// conventions' buckets.
    pub(crate) fn duration(&self, kind: CallKind) -> &Histogram<f64> {
        self.durations[kind.index()].get_or_init(|| {
            self.meter
                .f64_histogram(kind.metric_name())
                .with_unit("s")
                .with_description(kind.description())
                .with_boundaries(kind.boundaries().to_vec())
                .build()
        })
    }

    /// `http.server.active_requests`.
    pub(crate) fn active_requests(&self) -> &UpDownCounter<i64> {
        self.active_requests.get_or_init(|| {
            self.meter
                .i64_up_down_counter(HTTP_SERVER_ACTIVE_REQUESTS)
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build()
        })
    }
}

/// An integration's instruments, rebuilt only when the provider changes.
pub(crate) struct InstrumentCache(ArcSwapOption<Instruments>);

impl InstrumentCache {
    pub(crate) const fn new() -> Self {
        Self(ArcSwapOption::const_empty())
    }
}

impl std::fmt::Debug for InstrumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstrumentCache").finish_non_exhaustive()
    }
}

impl Integration {
    /// Runs `f` with this integration's instruments on the installed
    /// meter provider; nothing without one.
    pub(crate) fn with_instruments(&self, f: impl FnOnce(&Instruments)) {
        let generation = GENERATION.load(Ordering::Acquire);
        if generation == 0 {
            return;
        }
        let cache = &self.instruments.0;
        let loaded = cache.load();
        match loaded.as_deref() {
            Some(instruments) if instruments.generation == generation => f(instruments),
            _ => {
                if let Some(fresh) = self.rebuild_instruments(cache) {
                    f(&fresh);
                }
            }
        }
    }

    #[cold]
    fn rebuild_instruments(&self, cache: &ArcSwapOption<Instruments>) -> Option<Arc<Instruments>> {
        let installed = PROVIDER.load_full()?;
        let scope = InstrumentationScope::builder(self.crate_name())
            .with_version(self.version())
            .build();
        let fresh = Arc::new(Instruments {
            generation: installed.generation,
            meter: installed.provider.meter_with_scope(scope),
            durations: Default::default(),
            active_requests: OnceLock::new(),
        });
        cache.store(Some(Arc::clone(&fresh)));
        Some(fresh)
    }
}
