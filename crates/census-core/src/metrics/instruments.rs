//! The meter provider integrations measure with, and each integration's
//! instruments cached on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::{
    BoundHistogram, BoundUpDownCounter, Histogram, Meter, MeterProvider, UpDownCounter,
};
use opentelemetry::{InstrumentationScope, KeyValue, Value};
use opentelemetry_semantic_conventions::metric::HTTP_SERVER_ACTIVE_REQUESTS;

use super::site::{Owner, Site};
use super::{CallKind, CallMetric};
use crate::registry::Integration;

struct Installed {
    provider: Arc<dyn MeterProvider + Send + Sync>,
    /// Whether its instruments implement `bind` (a provider that does not
    /// would drop what its bound handles record).
    binds: bool,
    generation: u64,
}

static PROVIDER: ArcSwapOption<Installed> = ArcSwapOption::const_empty();
/// The generation of the provider in `PROVIDER`, published after it; 0
/// until one is installed, which is what spans check before measuring.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLING: Mutex<()> = Mutex::new(());
/// Whether spans start measuring their calls: from the first provider
/// installed, unless [`set_measuring`] stopped it.
static MEASURING: AtomicBool = AtomicBool::new(false);

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
    install(Arc::new(provider), false);
}

/// [`set_meter_provider`], for a provider whose instruments implement
/// OpenTelemetry's bound instruments (`bind`): the OpenTelemetry SDK's,
/// built with its `experimental_metrics_bound_instruments` feature, as
/// census's pipeline builds it.
///
/// census then binds each instrument once to each attribute set calls
/// repeat (a route and status, a statement's operation and table) and
/// finds the bound handle with a fast hash: recording skips the SDK's
/// own lookup of the attributes, most of a measurement's cost. Given a
/// provider whose `bind` returns OpenTelemetry's no-op handle, what calls
/// record would be lost; use [`set_meter_provider`] for any other.
///
/// ```
/// let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// census_core::metrics::set_meter_provider_binding(provider);
/// assert!(census_core::metrics::is_measuring());
/// ```
pub fn set_meter_provider_binding(provider: impl MeterProvider + Send + Sync + 'static) {
    install(Arc::new(provider), true);
}

fn install(provider: Arc<dyn MeterProvider + Send + Sync>, binds: bool) {
    super::clock::calibrate();
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    let generation = GENERATION.load(Ordering::Relaxed) + 1;
    PROVIDER.store(Some(Arc::new(Installed {
        provider,
        binds,
        generation,
    })));
    GENERATION.store(generation, Ordering::Release);
    MEASURING.store(true, Ordering::Release);
}

/// Stops measuring calls (`false`), or measures them again with the
/// installed provider (`true`; without one, nothing changes). Stopped,
/// spans read no clock and build no attributes for a metric (a call
/// measured already still records when it ends), e.g. while the
/// application shuts its meter provider down.
///
/// ```
/// # let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// census_core::metrics::set_meter_provider(provider);
/// census_core::metrics::set_measuring(false);
/// assert!(!census_core::metrics::is_measuring());
/// census_core::metrics::set_measuring(true);
/// assert!(census_core::metrics::is_measuring());
/// ```
pub fn set_measuring(on: bool) {
    let _one_at_a_time = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    let installed = GENERATION.load(Ordering::Relaxed) != 0;
    MEASURING.store(on && installed, Ordering::Release);
}

/// Whether calls are measured: a meter provider is installed, and
/// measuring was not [stopped](set_measuring) since.
///
/// ```
/// # let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder().build();
/// census_core::metrics::set_meter_provider(provider);
/// // From then on, for the life of the process.
/// assert!(census_core::metrics::is_measuring());
/// ```
#[inline]
pub fn is_measuring() -> bool {
    MEASURING.load(Ordering::Relaxed)
}

/// The generation of the installed provider (0: none).
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// An integration's instruments on the provider of one generation, each
/// created on first use, and their handles bound to the attribute sets
/// calls repeat.
pub(crate) struct Instruments {
    generation: u64,
    meter: Meter,
    binds: bool,
    durations: [OnceLock<Histogram<f64>>; CallKind::COUNT],
    bound_durations: [BoundSets<BoundHistogram<f64>>; CallKind::COUNT],
    active_requests: OnceLock<UpDownCounter<i64>>,
    bound_active_requests: BoundSets<BoundUpDownCounter<i64>>,
}

impl Instruments {
    /// Records `seconds` for a call of `kind` described by `attributes`.
    pub(crate) fn record_duration(&self, kind: CallKind, seconds: f64, attributes: &[KeyValue]) {
        let histogram = self.duration(kind);
        let recorded = self.binds
            && self.bound_durations[kind.index()]
                .with(
                    attributes,
                    || histogram.bind(attributes),
                    |bound| bound.record(seconds),
                )
                .is_some();
        if !recorded {
            histogram.record(seconds, attributes);
        }
    }

    /// Records `seconds` for a call of `kind` described by `site` that
    /// ended with `status`, through a histogram bound to both for
    /// `integration` (bound now on first use); `false` when the site has
    /// no slot left for it or the provider cannot bind, for the caller to
    /// record through the attributes.
    pub(crate) fn record_at(
        &self,
        integration: &'static Integration,
        kind: CallKind,
        seconds: f64,
        site: &Site,
        status: Option<u16>,
    ) -> bool {
        if !self.binds {
            return false;
        }
        let histogram = self.duration(kind);
        let owner = Owner::new(integration, self.generation);
        let bound = &self.bound_durations[kind.index()];
        match site.bind_duration(owner, status, || {
            bound.bind_reserved(|| histogram.bind(&site.attributes_with(status)))
        }) {
            Some(bound) => {
                bound.record(seconds);
                true
            }
            None => false,
        }
    }

    /// Counts an HTTP server request in through the counter `site` holds
    /// for `integration`, bound now on first use; the owner to count it
    /// out with, or `None` when the site's counter is another's or the
    /// provider cannot bind.
    pub(crate) fn active_request_in_at(
        &self,
        integration: &'static Integration,
        site: &Site,
    ) -> Option<Owner> {
        if !self.binds {
            return None;
        }
        let counter = self.active_requests();
        let owner = Owner::new(integration, self.generation);
        let attributes = CallMetric::active_request_attributes(site.attributes());
        let bound = site.bind_active(owner, || {
            self.bound_active_requests
                .bind_reserved(|| counter.bind(attributes))
        })?;
        bound.add(1);
        Some(owner)
    }

    /// Counts an HTTP server request in; returns the handle bound to its
    /// attributes to count it out with, so that the request's end looks
    /// nothing up, or else the counter that counted it.
    pub(crate) fn active_request_in(
        &self,
        attributes: &[KeyValue],
    ) -> Result<BoundUpDownCounter<i64>, UpDownCounter<i64>> {
        let counter = self.active_requests();
        let bound = self
            .binds
            .then(|| {
                self.bound_active_requests.with(
                    attributes,
                    || counter.bind(attributes),
                    |bound| {
                        bound.add(1);
                        bound.clone()
                    },
                )
            })
            .flatten();
        bound.ok_or_else(|| {
            counter.add(1, attributes);
            counter.clone()
        })
    }

    /// The duration histogram of `kind`, in seconds, with the
    /// conventions' buckets.
    fn duration(&self, kind: CallKind) -> &Histogram<f64> {
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
    fn active_requests(&self) -> &UpDownCounter<i64> {
        self.active_requests.get_or_init(|| {
            self.meter
                .i64_up_down_counter(HTTP_SERVER_ACTIVE_REQUESTS)
                .with_unit("{request}")
                .with_description("Number of active HTTP server requests.")
                .build()
        })
    }
}

/// Handles bound to an instrument, by attribute set and by site
/// together, past which calls record unbound (a set per route and
/// status, or per operation and outcome, stays far below). Under the
/// SDK's own limit per instrument (2,000 series): a handle bound past it
/// would count into the overflow point for as long as it lives, and
/// sites' handles live as long as the process.
pub(crate) const MAX_BOUND_HANDLES: usize = 1024;

/// An instrument's handles bound to attribute sets, found by a hash of
/// the attribute values alone (the SDK's own lookup hashes every key and
/// value with SipHash; `Hash for KeyValue` with a fast hasher still made
/// six writes per attribute, most of a measured request's cost). Equal
/// sets have equal values, so the hash agrees with equality, which
/// decides among sets that share a hash. It also keeps the count of the
/// instrument's bound handles, sites' included.
struct BoundSets<B> {
    sets: RwLock<Bound<B>>,
    handles: AtomicUsize,
}

struct Bound<B> {
    by_hash: HashMap<u64, Vec<(Vec<KeyValue>, B)>, foldhash::fast::RandomState>,
}

impl<B> Bound<B> {
    /// The handle bound to `attributes`, whose values hash to `hash`.
    fn find(&self, hash: u64, attributes: &[KeyValue]) -> Option<&B> {
        let sets = self.by_hash.get(&hash)?;
        sets.iter()
            .find(|(set, _)| set == attributes)
            .map(|(_, handle)| handle)
    }
}

impl<B> BoundSets<B> {
    fn new() -> Self {
        Self {
            sets: RwLock::new(Bound {
                by_hash: HashMap::with_hasher(Default::default()),
            }),
            handles: AtomicUsize::new(0),
        }
    }

    /// `bind`'s handle, counted among the instrument's bound handles;
    /// `None` once [`MAX_BOUND_HANDLES`] are.
    fn bind_reserved(&self, bind: impl FnOnce() -> B) -> Option<B> {
        self.handles
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bound| {
                (bound < MAX_BOUND_HANDLES).then_some(bound + 1)
            })
            .ok()
            .map(|_| bind())
    }

    /// Runs `record` with the handle bound to `attributes`, bound by
    /// `bind` on first use; `None` when too many handles are bound
    /// already, for the caller to record unbound.
    fn with<R>(
        &self,
        attributes: &[KeyValue],
        bind: impl FnOnce() -> B,
        record: impl FnOnce(&B) -> R,
    ) -> Option<R> {
        let hash = values_hash(attributes);
        if let Some(handle) = self
            .sets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .find(hash, attributes)
        {
            return Some(record(handle));
        }
        let mut bound = self.sets.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = bound.find(hash, attributes) {
            return Some(record(handle));
        }
        let handle = self.bind_reserved(bind)?;
        let sets = bound.by_hash.entry(hash).or_default();
        sets.push((attributes.to_vec(), handle));
        sets.last().map(|(_, handle)| record(handle))
    }
}

/// One write per attribute value, with a fixed seed (the map's own
/// hasher spreads the result).
pub(super) fn values_hash(attributes: &[KeyValue]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = foldhash::fast::FixedState::with_seed(0x6365_6e73_7573).build_hasher();
    for attribute in attributes {
        match &attribute.value {
            Value::String(text) => hasher.write(text.as_str().as_bytes()),
            Value::I64(number) => hasher.write_i64(*number),
            Value::F64(number) => hasher.write_u64(number.to_bits()),
            Value::Bool(flag) => hasher.write_u8(u8::from(*flag)),
            // Arrays are not among the conventions' metric attributes;
            // equality tells them apart.
            _ => hasher.write_u8(0xfe),
        }
    }
    hasher.finish()
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
            binds: installed.binds,
            durations: Default::default(),
            bound_durations: std::array::from_fn(|_| BoundSets::new()),
            active_requests: OnceLock::new(),
            bound_active_requests: BoundSets::new(),
        });
        cache.store(Some(Arc::clone(&fresh)));
        Some(fresh)
    }
}
