//! The integration registry: which integrations trace, process-wide.
//!
//! Applications call `census::config_integration::trace_integrations`, which
//! passes the integrations compiled into the build to the functions here.
//! Operators can switch integrations without a rebuild:
//! `CENSUS_INTEGRATIONS=postgres,sqlx` adds to what the code enables and
//! `CENSUS_DISABLED_INTEGRATIONS=...` removes (the disable list wins).

mod error;
mod integration;
mod provider;

pub use error::{IntegrationError, NameOrigin};
pub use integration::Integration;
pub use provider::set_tracer_provider;

/// Environment variable naming integrations to enable, comma-separated.
pub const ENV_ENABLED: &str = "CENSUS_INTEGRATIONS";
/// Environment variable naming integrations to keep off; it wins.
pub const ENV_DISABLED: &str = "CENSUS_DISABLED_INTEGRATIONS";

/// Enables the integrations `names` and `CENSUS_INTEGRATIONS` list, minus
/// those `CENSUS_DISABLED_INTEGRATIONS` lists, and returns the names it
/// enabled. `compiled` lists the integrations this build has.
///
/// A name that is unknown or not compiled in is logged as a warning that
/// says how to fix it, and skipped; [`try_trace_integrations`] returns it
/// as an error instead.
///
/// ```
/// use census_core::registry::{trace_integrations, Integration};
/// let enabled = trace_integrations(&[Integration::Sqlx], &["sqlx"]);
/// assert!(enabled.contains(&"sqlx"));
/// assert!(Integration::Sqlx.is_enabled());
/// ```
pub fn trace_integrations(compiled: &[Integration], names: &[&str]) -> Vec<&'static str> {
    let plan = Plan::new(compiled, names, &env_var);
    for problem in &plan.problems {
        tracing::warn!("census: {problem}");
    }
    plan.apply()
}

/// Like [`trace_integrations`], but all or nothing: on the first name it
/// cannot act on it enables nothing and returns the reason.
///
/// ```
/// use census_core::registry::{try_trace_integrations, Integration, IntegrationError};
/// let err = try_trace_integrations(&[Integration::Sqlx], &["sqlx", "diesel"]).unwrap_err();
/// assert!(matches!(err, IntegrationError::NotCompiled { feature: "diesel", .. }));
/// ```
pub fn try_trace_integrations(
    compiled: &[Integration],
    names: &[&str],
) -> Result<Vec<&'static str>, IntegrationError> {
    try_trace_integrations_with_env(compiled, names, &env_var)
}

/// [`try_trace_integrations`] reading the environment through `env`, so
/// the environment rules can be exercised without touching the process's.
fn try_trace_integrations_with_env(
    compiled: &[Integration],
    names: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<&'static str>, IntegrationError> {
    let mut plan = Plan::new(compiled, names, env);
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
    enable: Vec<Integration>,
    disable: Vec<Integration>,
    problems: Vec<IntegrationError>,
}

impl Plan {
    fn new(compiled: &[Integration], names: &[&str], env: &dyn Fn(&str) -> Option<String>) -> Self {
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
            if let Some(integration) = plan.resolve(compiled, name, origin)
                && !plan.enable.contains(&integration)
            {
                plan.enable.push(integration);
            }
        }
        for name in env_names(&disabled_env) {
            // Disabling something not compiled in is harmless: it is off anyway.
            if let Some(integration) = Integration::from_name(name) {
                plan.disable.push(integration);
            } else {
                plan.problems
                    .push(unknown(compiled, name, NameOrigin::EnvDisabled));
            }
        }
        plan.enable.retain(|i| !plan.disable.contains(i));
        plan
    }

    fn resolve(
        &mut self,
        compiled: &[Integration],
        name: &str,
        origin: NameOrigin,
    ) -> Option<Integration> {
        let Some(integration) = Integration::from_name(name) else {
            self.problems.push(unknown(compiled, name, origin));
            return None;
        };
        if !compiled.contains(&integration) {
            self.problems.push(IntegrationError::NotCompiled {
                name: name.trim().to_owned(),
                origin,
                feature: integration.feature(),
                compiled: compiled.iter().map(|i| i.name()).collect(),
            });
            return None;
        }
        Some(integration)
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

fn unknown(compiled: &[Integration], name: &str, origin: NameOrigin) -> IntegrationError {
    IntegrationError::Unknown {
        name: name.trim().to_owned(),
        origin,
        compiled: compiled.iter().map(|i| i.name()).collect(),
    }
}

fn env_names(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', ' ', ';']).filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests;
