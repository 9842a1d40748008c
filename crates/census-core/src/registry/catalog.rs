use super::Integration;

/// One integration a build of `census` can offer: the cargo feature that
/// compiles it in and, when that feature is on, the integration itself.
///
/// The `census` facade lists one per integration feature, so that names
/// whose feature is off can still be recognised and the fix named.
///
/// ```
/// use census_core::registry::{Integration, Offer};
/// static SQLX: Integration = Integration::new("sqlx", "census-sqlx", "0.1.0");
/// let on = Offer::compiled("sqlx", &SQLX);
/// let off = Offer::not_compiled("diesel", &["diesel"]);
/// assert_eq!((on.name(), off.name()), ("sqlx", "diesel"));
/// assert!(off.integration().is_none());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    feature: &'static str,
    names: &'static [&'static str],
    integration: Option<&'static Integration>,
}

impl Offer {
    /// `integration`, compiled in by the cargo feature `feature`.
    pub const fn compiled(feature: &'static str, integration: &'static Integration) -> Self {
        Self {
            feature,
            names: &[],
            integration: Some(integration),
        }
    }

    /// An integration whose cargo feature `feature` is off in this build;
    /// `names` are its name, then its aliases.
    pub const fn not_compiled(feature: &'static str, names: &'static [&'static str]) -> Self {
        Self {
            feature,
            names,
            integration: None,
        }
    }

    /// The cargo feature of `census` that compiles the integration in.
    pub const fn feature(&self) -> &'static str {
        self.feature
    }

    /// The integration, when compiled in.
    pub const fn integration(&self) -> Option<&'static Integration> {
        self.integration
    }

    /// The integration's stable name.
    pub fn name(&self) -> &'static str {
        match self.integration {
            Some(integration) => integration.name(),
            None => self.names.first().copied().unwrap_or(self.feature),
        }
    }

    /// Whether `name` denotes this integration (name or alias, any case).
    pub fn answers_to(&self, name: &str) -> bool {
        match self.integration {
            Some(integration) => integration.answers_to(name),
            None => self
                .names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(name.trim())),
        }
    }
}
