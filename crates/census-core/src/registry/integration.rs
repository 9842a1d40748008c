use std::error::Error;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, PoisonError};

use super::provider::TracerCache;
use crate::metrics::InstrumentCache;

/// One integration: its names, its on/off switch and its cached tracer.
///
/// Each integration crate declares its own as a `static`, so adding an
/// integration never means editing core:
///
/// ```
/// use census_core::registry::Integration;
/// pub static INTEGRATION: Integration =
///     Integration::new("mydb", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
///         .with_aliases(&["my-db"]);
/// assert!(INTEGRATION.answers_to("MY-DB"));
/// assert!(!INTEGRATION.is_enabled());
/// ```
#[derive(Debug)]
pub struct Integration {
    name: &'static str,
    aliases: &'static [&'static str],
    crate_name: &'static str,
    version: &'static str,
    state: AtomicU8,
    on_enable: Option<EnableHook>,
    /// Held while the integration is switched on, so that its hook has
    /// run before any caller sees it on.
    enabling: Mutex<()>,
    pub(super) tracer: TracerCache,
    pub(crate) instruments: InstrumentCache,
}

/// What an integration does each time it is switched on, e.g. install
/// itself into a library that takes one process-wide hook.
pub type EnableHook = fn() -> Result<(), Box<dyn Error + Send + Sync>>;

/// Bit set while the integration traces.
const ON: u8 = 0b01;
/// Bit set once the warning about a wrapper used while off was given; it
/// survives switching on and off so the warning really is given once.
const WARNED: u8 = 0b10;

impl Integration {
    /// An integration called `name` (stable, lowercase), implemented by
    /// `crate_name` at `version`; both become its instrumentation scope.
    pub const fn new(name: &'static str, crate_name: &'static str, version: &'static str) -> Self {
        Self {
            name,
            aliases: &[],
            crate_name,
            version,
            state: AtomicU8::new(0),
            on_enable: None,
            enabling: Mutex::new(()),
            tracer: TracerCache::new(),
            instruments: InstrumentCache::new(),
        }
    }

    /// Runs `hook` each time the integration is switched on from off: for
    /// a library with no wrapper to hand out, only a process-wide hook
    /// (diesel's default instrumentation). A failing hook is reported as a
    /// warning; the integration is on all the same.
    ///
    /// ```
    /// use census_core::registry::Integration;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static INSTALLED: AtomicUsize = AtomicUsize::new(0);
    /// fn install() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    ///     INSTALLED.fetch_add(1, Ordering::Relaxed);
    ///     Ok(())
    /// }
    /// static HOOKED: Integration = Integration::new("hooked", "my-hooked", "0.1.0").with_on_enable(install);
    /// HOOKED.set_enabled(true);
    /// HOOKED.set_enabled(true); // already on: not run again
    /// assert_eq!(INSTALLED.load(Ordering::Relaxed), 1);
    /// ```
    pub const fn with_on_enable(mut self, hook: EnableHook) -> Self {
        self.on_enable = Some(hook);
        self
    }

    /// Other accepted names, e.g. the OpenCensus Python ones.
    pub const fn with_aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    /// The stable lowercase name used by the registry and the environment.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Other accepted names.
    pub const fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The crate that implements the integration (its instrumentation scope).
    pub const fn crate_name(&self) -> &'static str {
        self.crate_name
    }

    /// The version of that crate.
    pub const fn version(&self) -> &'static str {
        self.version
    }

    /// Whether `name` (any case, surrounding whitespace ignored) is this
    /// integration's name or one of its aliases.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// Whether calls through this integration's wrappers are traced.
    pub fn is_enabled(&self) -> bool {
        self.state.load(Ordering::Relaxed) & ON != 0
    }

    /// Turns tracing through this integration on or off, process-wide.
    /// Switching it on from off runs its [enable hook](Self::with_on_enable).
    pub fn set_enabled(&self, enabled: bool) {
        if !enabled {
            self.state.fetch_and(!ON, Ordering::Release);
            return;
        }
        if self.is_on() {
            return;
        }
        // The hook runs before the integration reads as on, and one caller
        // at a time: a second caller must not go on (e.g. open a diesel
        // connection) before the first one's hook has set things up.
        let _one_at_a_time = self.enabling.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_on() {
            return;
        }
        if let Some(hook) = self.on_enable
            && let Err(error) = hook()
        {
            crate::diagnostics::warn(&format!(
                "the `{}` integration is on, but setting it up failed: {error}",
                self.name
            ));
        }
        self.state.fetch_or(ON, Ordering::Release);
    }

    fn is_on(&self) -> bool {
        self.state.load(Ordering::Acquire) & ON != 0
    }

    /// For wrappers, once per call: whether to trace. One atomic load; the
    /// first call while off gives the one warning that says how to turn it
    /// on.
    #[inline]
    pub fn should_trace(&self) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        if state & ON != 0 {
            return true;
        }
        if state & WARNED == 0 {
            self.warn_used_while_off();
        }
        false
    }

    #[cold]
    fn warn_used_while_off(&self) {
        if self.state.fetch_or(WARNED, Ordering::Relaxed) & WARNED == 0 {
            crate::diagnostics::warn(&format!(
                "a `{name}` wrapper is in use but the `{name}` integration is not enabled, \
                 so its calls are not traced; enable it with \
                 `census::config_integration::trace_integrations(&[\"{name}\"])` or \
                 CENSUS_INTEGRATIONS={name} (and keep it out of CENSUS_DISABLED_INTEGRATIONS)",
                name = self.name,
            ));
        }
    }

    #[cfg(test)]
    pub(super) fn reset_warning_for_tests(&self) {
        self.state.fetch_and(!WARNED, Ordering::Relaxed);
    }
}

impl std::fmt::Display for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}
