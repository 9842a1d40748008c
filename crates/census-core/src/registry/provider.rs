use std::sync::{Arc, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::global::{self, BoxedTracer, ObjectSafeTracerProvider};
use opentelemetry::trace::{Span, Tracer, TracerProvider};

use super::Integration;

type SharedProvider = Arc<dyn ObjectSafeTracerProvider + Send + Sync>;

static PROVIDER: RwLock<Option<SharedProvider>> = RwLock::new(None);

/// Gives the registry the tracer provider integrations record with; without
/// one they use OpenTelemetry's global provider.
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
    let provider: SharedProvider = Arc::new(provider);
    match PROVIDER.write() {
        Ok(mut slot) => *slot = Some(provider),
        Err(poisoned) => *poisoned.into_inner() = Some(provider),
    }
}

impl Integration {
    /// The tracer this integration records with: its instrumentation scope
    /// is the integration's crate, on the registry's or the global provider.
    pub fn tracer(self) -> BoxedTracer {
        let scope = InstrumentationScope::builder(self.crate_name())
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let slot = PROVIDER
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.as_ref() {
            Some(provider) => BoxedTracer::new(provider.boxed_tracer(scope)),
            None => global::tracer_with_scope(scope),
        }
    }

    /// The crate that implements this integration.
    pub const fn crate_name(self) -> &'static str {
        match self {
            Self::Reqwest => "census-reqwest",
            Self::Hyper => "census-hyper",
            Self::Postgres => "census-postgres",
            Self::MySql => "census-mysql",
            Self::MongoDb => "census-mongodb",
            Self::Sqlx => "census-sqlx",
            Self::Diesel => "census-diesel",
            Self::Tower => "census-tower",
            Self::Actix => "census-actix",
        }
    }
}
