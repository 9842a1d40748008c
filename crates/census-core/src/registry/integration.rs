use std::sync::atomic::{AtomicU8, Ordering};

/// One integration census knows, whether or not its crate is compiled in.
///
/// ```
/// use census_core::registry::Integration;
/// assert_eq!(Integration::from_name("PostgreSQL"), Some(Integration::Postgres));
/// assert_eq!(Integration::Postgres.feature(), "postgres");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Integration {
    /// reqwest client calls (`census-reqwest`).
    Reqwest,
    /// Any `http` client service through a tower layer (`census-hyper`).
    Hyper,
    /// tokio-postgres (`census-postgres`).
    Postgres,
    /// mysql_async (`census-mysql`).
    MySql,
    /// The MongoDB driver (`census-mongodb`).
    MongoDb,
    /// sqlx, any database (`census-sqlx`).
    Sqlx,
    /// diesel (`census-diesel`).
    Diesel,
    /// Incoming requests of tower servers: axum, hyper, tonic (`census-tower`).
    Tower,
    /// Incoming requests of actix-web (`census-actix`).
    Actix,
}

const COUNT: usize = 9;

/// Bit set while the integration traces.
const ON: u8 = 0b01;
/// Bit set once the warning about a wrapper used while off was given; it
/// survives switching on and off so the warning really is given once.
const WARNED: u8 = 0b10;

static STATES: [AtomicU8; COUNT] = [const { AtomicU8::new(0) }; COUNT];

impl Integration {
    /// Every integration, in a stable order.
    pub const ALL: [Integration; COUNT] = [
        Self::Reqwest,
        Self::Hyper,
        Self::Postgres,
        Self::MySql,
        Self::MongoDb,
        Self::Sqlx,
        Self::Diesel,
        Self::Tower,
        Self::Actix,
    ];

    /// The stable lowercase name used by the registry and the environment.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Reqwest => "reqwest",
            Self::Hyper => "hyper",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::MongoDb => "mongodb",
            Self::Sqlx => "sqlx",
            Self::Diesel => "diesel",
            Self::Tower => "tower",
            Self::Actix => "actix",
        }
    }

    /// Other accepted names, among them the OpenCensus Python ones.
    pub const fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Reqwest => &["requests"],
            Self::Hyper => &["httplib"],
            Self::Postgres => &["postgresql", "tokio-postgres"],
            Self::MySql => &["mysql_async", "mysql-async"],
            Self::MongoDb => &["pymongo", "mongo"],
            Self::Sqlx => &[],
            Self::Diesel => &[],
            Self::Tower => &["axum"],
            Self::Actix => &["actix-web"],
        }
    }

    /// The cargo feature of the `census` crate that compiles this one in.
    pub const fn feature(self) -> &'static str {
        self.name()
    }

    /// The integration `name` denotes: its name or an alias, any case,
    /// surrounding whitespace ignored.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        Self::ALL.into_iter().find(|integration| {
            integration.name().eq_ignore_ascii_case(name)
                || integration
                    .aliases()
                    .iter()
                    .any(|alias| alias.eq_ignore_ascii_case(name))
        })
    }

    /// Whether calls through this integration's wrappers are traced.
    pub fn is_enabled(self) -> bool {
        STATES[self as usize].load(Ordering::Relaxed) & ON != 0
    }

    /// Turns tracing through this integration on or off, process-wide.
    pub fn set_enabled(self, enabled: bool) {
        let state = &STATES[self as usize];
        if enabled {
            state.fetch_or(ON, Ordering::Relaxed);
        } else {
            state.fetch_and(!ON, Ordering::Relaxed);
        }
    }

    /// For wrappers, once per call: whether to trace. One atomic load; the
    /// first call while off logs the one warning that says how to turn it on.
    #[inline]
    pub fn should_trace(self) -> bool {
        let state = STATES[self as usize].load(Ordering::Relaxed);
        if state & ON != 0 {
            return true;
        }
        if state & WARNED == 0 {
            self.warn_used_while_off();
        }
        false
    }

    #[cold]
    fn warn_used_while_off(self) {
        if STATES[self as usize].fetch_or(WARNED, Ordering::Relaxed) & WARNED == 0 {
            tracing::warn!(
                integration = self.name(),
                "census: a `{name}` wrapper is in use but the `{name}` integration is not enabled, \
                 so its calls are not traced; enable it with \
                 `census::config_integration::trace_integrations(&[\"{name}\"])` or \
                 CENSUS_INTEGRATIONS={name} (and keep it out of CENSUS_DISABLED_INTEGRATIONS)",
                name = self.name(),
            );
        }
    }
}

impl std::fmt::Display for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
pub(super) fn reset_warning_for_tests(integration: Integration) {
    STATES[integration as usize].fetch_and(!WARNED, Ordering::Relaxed);
}
