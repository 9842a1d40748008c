use std::fmt;

/// Where a name given to the registry came from, so errors can point there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameOrigin {
    /// Passed to `trace_integrations` in code.
    Code,
    /// Listed in `CENSUS_INTEGRATIONS`.
    EnvEnabled,
    /// Listed in `CENSUS_DISABLED_INTEGRATIONS`.
    EnvDisabled,
}

impl fmt::Display for NameOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Code => Ok(()),
            Self::EnvEnabled => f.write_str(" (from CENSUS_INTEGRATIONS)"),
            Self::EnvDisabled => f.write_str(" (from CENSUS_DISABLED_INTEGRATIONS)"),
        }
    }
}

/// A name the registry could not act on.
///
/// ```
/// use census_core::registry::{try_trace_integrations, Integration, IntegrationError, Offer};
/// static SQLX: Integration = Integration::new("sqlx", "census-sqlx", "0.1.0");
/// let err = try_trace_integrations(&[Offer::compiled("sqlx", &SQLX)], &["postgress"]).unwrap_err();
/// assert!(matches!(err, IntegrationError::Unknown { .. }));
/// assert!(err.to_string().contains("postgress"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// No integration has this name or alias.
    #[error(
        "unknown integration `{name}`{origin}; integrations census offers: {}; compiled into this \
         build: {}",
        list(offered),
        list(compiled)
    )]
    Unknown {
        /// The name as given.
        name: String,
        /// Where it was given.
        origin: NameOrigin,
        /// Names of every integration census offers.
        offered: Vec<&'static str>,
        /// Names of the integrations compiled into this build.
        compiled: Vec<&'static str>,
    },
    /// The integration exists but its crate is not compiled in.
    #[error(
        "integration `{name}`{origin} is not compiled into this build: enable the `{feature}` \
         cargo feature of `census` (census = {{ version = \"0.1\", features = [\"{feature}\"] }}); \
         compiled into this build: {}",
        list(compiled)
    )]
    NotCompiled {
        /// The name as given.
        name: String,
        /// Where it was given.
        origin: NameOrigin,
        /// The `census` cargo feature that compiles it in.
        feature: &'static str,
        /// Names of the integrations compiled into this build.
        compiled: Vec<&'static str>,
    },
}

fn list(names: &[&'static str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
