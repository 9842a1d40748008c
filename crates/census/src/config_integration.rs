//! The integration registry, as OpenCensus's `config_integration`:
//! `trace_integrations(&["reqwest", "sqlx"])` switches integrations on for
//! the whole process. `CENSUS_INTEGRATIONS` adds names and
//! `CENSUS_DISABLED_INTEGRATIONS` removes them (the disable list wins), so
//! `trace_integrations(&[])` applies the environment alone.

use census_core::registry::{self, IntegrationError, Offer};

/// Lists each integration feature of this crate once: compiled in, the
/// integration crate's own entry; otherwise its names, so that the fix
/// (the feature to turn on) can be named.
macro_rules! offers {
    ($($feature:literal => $krate:ident, [$($name:literal),+];)*) => {
        /// What this build offers, one entry per integration feature of
        /// `census`.
        pub const OFFERED: &[Offer] = &[$(
            #[cfg(feature = $feature)]
            Offer::compiled($feature, &$krate::INTEGRATION),
            #[cfg(not(feature = $feature))]
            Offer::not_compiled($feature, &[$($name),+]),
        )*];

        #[cfg(all(test, $(feature = $feature),*))]
        mod names_match_the_crates {
            #[test]
            fn listed_names_are_the_integration_crates_own() {
                $(
                    let integration = &$krate::INTEGRATION;
                    let mut names = vec![integration.name()];
                    names.extend(integration.aliases());
                    assert_eq!(names, [$($name),+]);
                )*
            }
        }
    };
}

offers! {
    "tower" => census_tower, ["tower", "axum"];
    "actix" => census_actix, ["actix", "actix-web", "actix_web"];
    "reqwest" => census_reqwest, ["reqwest", "requests"];
    "hyper" => census_hyper, ["hyper", "httplib"];
    "sqlx" => census_sqlx, ["sqlx"];
    "postgres" => census_postgres, ["postgres", "postgresql"];
    "mysql" => census_mysql, ["mysql", "pymysql", "mariadb"];
    "mongodb" => census_mongodb, ["mongodb", "pymongo"];
    "diesel" => census_diesel, ["diesel"];
}

/// Enables the named integrations (names or aliases such as `requests`,
/// `axum`) plus those in `CENSUS_INTEGRATIONS`, minus those in
/// `CENSUS_DISABLED_INTEGRATIONS`; returns the names enabled. A name that
/// is unknown or whose feature is off is skipped with a warning that names
/// the fix (through `tracing`, or on standard error without a subscriber).
///
/// ```
/// # #[cfg(feature = "sqlx")] {
/// let enabled = census::config_integration::trace_integrations(&["sqlx", "no-such-thing"]);
/// assert_eq!(enabled, ["sqlx"]);
/// assert!(census::sqlx::INTEGRATION.is_enabled());
/// # }
/// ```
pub fn trace_integrations(names: &[&str]) -> Vec<&'static str> {
    registry::trace_integrations(OFFERED, names)
}

/// Like [`trace_integrations`], but all or nothing: an unknown name or one
/// whose cargo feature is off is returned as an error naming the fix, and
/// nothing is enabled.
///
/// ```
/// use census::registry::IntegrationError;
/// let err = census::config_integration::try_trace_integrations(&["postgress"]).unwrap_err();
/// assert!(matches!(err, IntegrationError::Unknown { .. }));
/// assert!(err.to_string().contains("`postgress`"));
/// ```
pub fn try_trace_integrations(names: &[&str]) -> Result<Vec<&'static str>, IntegrationError> {
    registry::try_trace_integrations(OFFERED, names)
}

#[cfg(all(test, not(feature = "sqlx")))]
mod feature_off {
    use super::*;

    #[test]
    fn a_name_whose_feature_is_off_names_that_feature() {
        let err = try_trace_integrations(&["sqlx"]).unwrap_err();
        assert!(
            matches!(
                err,
                IntegrationError::NotCompiled {
                    feature: "sqlx",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            err.to_string().starts_with(
                "integration `sqlx` is not compiled into this build: enable the `sqlx` cargo \
                 feature of `census`"
            ),
            "{err}"
        );
    }
}

#[cfg(all(test, feature = "diesel"))]
mod diesel_default {
    use diesel::connection::get_default_instrumentation;

    #[test]
    fn switching_diesel_on_makes_census_diesels_default_instrumentation() {
        assert!(
            get_default_instrumentation().is_none(),
            "nothing installed before"
        );
        assert_eq!(super::trace_integrations(&["diesel"]), ["diesel"]);
        let installed = get_default_instrumentation().expect("installed on enable");
        assert!(installed.is::<census_diesel::CensusInstrumentation>());
    }
}
