//! The integration registry: which integrations trace, process-wide.
//!
//! Applications call `census::config_integration::trace_integrations`, which
//! passes the integrations compiled into the build to the functions here.
//! Operators can switch integrations without a rebuild:
//! `CENSUS_INTEGRATIONS=postgres,sqlx` adds to what the code enables and
//! `CENSUS_DISABLED_INTEGRATIONS=...` removes (the disable list wins).

mod catalog;
mod error;
mod integration;
mod presample;
mod provider;

pub use catalog::Offer;
pub use error::{IntegrationError, NameOrigin};
pub use integration::{EnableHook, Integration};
pub use presample::{Presample, Presampled};
pub(crate) use provider::{Attributes, Recorder};
pub use provider::{set_tracer_provider, set_tracer_provider_presampled};

/// Environment variable naming integrations to enable, comma-separated.
pub const ENV_ENABLED: &str = "CENSUS_INTEGRATIONS";
/// Environment variable naming integrations to keep off; it wins.
pub const ENV_DISABLED: &str = "CENSUS_DISABLED_INTEGRATIONS";

/// Enables the integrations `names` and `CENSUS_INTEGRATIONS` list, minus
/// those `CENSUS_DISABLED_INTEGRATIONS` lists, and returns the names it
/// enabled. `offered` lists what this build offers.
///
/// A name that is unknown or not compiled in is skipped with a warning
/// that says how to fix it (through `tracing`, or on standard error when
/// no subscriber is installed); [`try_trace_integrations`] returns it as
/// an error instead.
///
/// ```
/// use census_core::registry::{trace_integrations, Integration, Offer};
/// static SQLX: Integration = Integration::new("sqlx", "census-sqlx", "0.1.0");
/// let enabled = trace_integrations(&[Offer::compiled("sqlx", &SQLX)], &["sqlx"]);
/// assert_eq!(enabled, ["sqlx"]);
/// assert!(SQLX.is_enabled());
/// ```
pub fn trace_integrations(offered: &[Offer], names: &[&str]) -> Vec<&'static str> {
    trace_integrations_with_env(offered, names, &env_var)
}

/// [`trace_integrations`] reading the environment through `env`.
fn trace_integrations_with_env(
    offered: &[Offer],
    names: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<&'static str> {
    let plan = Plan::new(offered, names, env);
    for problem in &plan.problems {
        crate::diagnostics::warn(&problem.to_string());
    }
    plan.apply()
}

/// Like [`trace_integrations`], but all or nothing: on the first name it
/// cannot act on it enables nothing and returns the reason.
///
/// ```
/// use census_core::registry::{try_trace_integrations, Integration, IntegrationError, Offer};
/// static SQLX: Integration = Integration::new("sqlx", "census-sqlx", "0.1.0");
/// let offered = [Offer::compiled("sqlx", &SQLX), Offer::not_compiled("diesel", &["diesel"])];
/// let err = try_trace_integrations(&offered, &["sqlx", "diesel"]).unwrap_err();
/// assert!(matches!(err, IntegrationError::NotCompiled { feature: "diesel", .. }));
/// assert!(!SQLX.is_enabled());
/// ```
pub fn try_trace_integrations(
    offered: &[Offer],
    names: &[&str],
) -> Result<Vec<&'static str>, IntegrationError> {
    try_trace_integrations_with_env(offered, names, &env_var)
}

/// [`try_trace_integrations`] reading the environment through `env`, so
/// the environment rules are tested without touching the process's.
fn try_trace_integrations_with_env(
    offered: &[Offer],
    names: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<&'static str>, IntegrationError> {
    let mut plan = Plan::new(offered, names, env);
    if plan.problems.is_empty() {
        Ok(plan.apply())
    } else {
        Err(plan.problems.swap_remove(0))
    }
}

fn env_var(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// What a call to the registry will do, worked out before anything changes.
struct Plan {
    enable: Vec<&'static Integration>,
    disable: Vec<&'static Integration>,
    problems: Vec<IntegrationError>,
}

impl Plan {
    fn new(offered: &[Offer], names: &[&str], env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut plan = Self {
            enable: Vec::new(),
            disable: Vec::new(),
            problems: Vec::new(),
        };
        let from_env = |key| env(key).unwrap_or_default();
        let enabled_env = from_env(ENV_ENABLED);
        let disabled_env = from_env(ENV_DISABLED);
        let requested = names
            .iter()
            .map(|name| (*name, NameOrigin::Code))
            .chain(env_names(&enabled_env).map(|name| (name, NameOrigin::EnvEnabled)));
        for (name, origin) in requested {
            if let Some(integration) = plan.resolve(offered, name, origin)
                && !plan.enable.iter().any(|i| std::ptr::eq(*i, integration))
            {
                plan.enable.push(integration);
            }
        }
        for name in env_names(&disabled_env) {
            match offered.iter().find(|offer| offer.answers_to(name)) {
                Some(offer) => plan.disable.extend(offer.integration()),
                // Disabling something not compiled in is harmless: it is off anyway.
                None => plan
                    .problems
                    .push(unknown(offered, name, NameOrigin::EnvDisabled)),
            }
        }
        plan.enable
            .retain(|i| !plan.disable.iter().any(|d| std::ptr::eq(*d, *i)));
        plan
    }

    fn resolve(
        &mut self,
        offered: &[Offer],
        name: &str,
        origin: NameOrigin,
    ) -> Option<&'static Integration> {
        let Some(offer) = offered.iter().find(|offer| offer.answers_to(name)) else {
            self.problems.push(unknown(offered, name, origin));
            return None;
        };
        if offer.integration().is_none() {
            self.problems.push(IntegrationError::NotCompiled {
                name: name.trim().to_owned(),
                origin,
                feature: offer.feature(),
                compiled: compiled_names(offered),
            });
        }
        offer.integration()
    }

    fn apply(self) -> Vec<&'static str> {
        for integration in &self.disable {
            integration.set_enabled(false);
        }
        self.enable
            .into_iter()
            .map(|integration| {
                integration.set_enabled(true);
                integration.name()
            })
            .collect()
    }
}

fn compiled_names(offered: &[Offer]) -> Vec<&'static str> {
    offered
        .iter()
        .filter_map(Offer::integration)
        .map(Integration::name)
        .collect()
}

fn unknown(offered: &[Offer], name: &str, origin: NameOrigin) -> IntegrationError {
    IntegrationError::Unknown {
        name: name.trim().to_owned(),
        origin,
        offered: offered.iter().map(Offer::name).collect(),
        compiled: compiled_names(offered),
    }
}

fn env_names(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ' ', ';']).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests;
