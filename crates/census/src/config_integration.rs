//! The integration registry, as OpenCensus's `config_integration`:
//! `trace_integrations(&["reqwest", "sqlx"])` switches integrations on for
//! the whole process. `CENSUS_INTEGRATIONS` adds names and
//! `CENSUS_DISABLED_INTEGRATIONS` removes them (the disable list wins), so
//! `trace_integrations(&[])` applies the environment alone.

use census_core::registry::{self, Integration, IntegrationError};

/// The integrations compiled into this build, by cargo feature.
pub const COMPILED: &[Integration] = &[
    #[cfg(feature = "tower")]
    Integration::Tower,
    #[cfg(feature = "reqwest")]
    Integration::Reqwest,
    #[cfg(feature = "sqlx")]
    Integration::Sqlx,
];

/// Enables the named integrations (names or aliases such as `requests`,
/// `axum`) plus those in `CENSUS_INTEGRATIONS`, minus those in
/// `CENSUS_DISABLED_INTEGRATIONS`; returns the names enabled. A name that
/// is unknown or whose feature is off is logged as a warning with the fix,
/// and skipped.
///
/// ```
/// let enabled = census::config_integration::trace_integrations(&[]);
/// assert!(enabled.iter().all(|name| !name.is_empty()));
/// ```
pub fn trace_integrations(names: &[&str]) -> Vec<&'static str> {
    registry::trace_integrations(COMPILED, names)
}

/// Like [`trace_integrations`], but all or nothing: an unknown name or one
/// whose cargo feature is off is returned as an error naming the fix, and
/// nothing is enabled.
///
/// ```
/// use census::registry::IntegrationError;
/// let err = census::config_integration::try_trace_integrations(&["postgress"]).unwrap_err();
/// assert!(matches!(err, IntegrationError::Unknown { .. }));
/// ```
pub fn try_trace_integrations(names: &[&str]) -> Result<Vec<&'static str>, IntegrationError> {
    registry::try_trace_integrations(COMPILED, names)
}
