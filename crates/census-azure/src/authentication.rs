//! `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`: how Microsoft's exporters
//! learn from the environment to authenticate with a managed identity.

use std::sync::Arc;

use crate::credential::TokenCredential;
use crate::exporter::AzureExporterError;

/// Environment variable: `Authorization=AAD` makes the exporter get
/// Microsoft Entra ID tokens from the host's managed identity
/// (system-assigned, or user-assigned with `;ClientId=<id>`), as
/// Microsoft's exporters read it. Needs the cargo feature `entra`.
pub const ENV_AUTHENTICATION_STRING: &str = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

/// What the authentication string asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Authentication {
    /// The instrumentation key alone (the string is unset or says `ikey`).
    Key,
    /// A managed identity: system-assigned, or the user-assigned one with
    /// this client id.
    ManagedIdentity { client_id: Option<String> },
}

/// Why the authentication string cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthenticationStringError {
    /// A part is not `Name=value`.
    #[error(
        "{ENV_AUTHENTICATION_STRING} has a part without `=` ({part:?}); write \
         `Authorization=AAD` or `Authorization=AAD;ClientId=<client id>`"
    )]
    Malformed {
        /// The part.
        part: String,
    },
    /// `Authorization` names a scheme census does not know.
    #[error(
        "{ENV_AUTHENTICATION_STRING} asks for `Authorization={scheme}`; census knows `AAD` \
         (Microsoft Entra ID with a managed identity), or unset the variable for the \
         instrumentation key alone"
    )]
    UnknownScheme {
        /// The scheme given.
        scheme: String,
    },
}

/// Parses the authentication string (empty: the key alone).
pub(crate) fn parse(text: &str) -> Result<Authentication, AuthenticationStringError> {
    let mut aad = false;
    let mut client_id = None;
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(AuthenticationStringError::Malformed {
                part: part.to_owned(),
            });
        };
        let (name, value) = (name.trim(), value.trim());
        match name.to_ascii_lowercase().as_str() {
            "authorization" if value.eq_ignore_ascii_case("aad") => aad = true,
            "authorization" if value.eq_ignore_ascii_case("ikey") => {}
            "authorization" => {
                return Err(AuthenticationStringError::UnknownScheme {
                    scheme: value.to_owned(),
                });
            }
            "clientid" if !value.is_empty() => client_id = Some(value.to_owned()),
            _ => {}
        }
    }
    Ok(if aad {
        Authentication::ManagedIdentity { client_id }
    } else {
        Authentication::Key
    })
}

/// The credential the environment asks for, if any.
pub(crate) fn credential_from_env() -> Result<Option<Arc<dyn TokenCredential>>, AzureExporterError>
{
    let text = std::env::var(ENV_AUTHENTICATION_STRING).unwrap_or_default();
    match parse(&text)? {
        Authentication::Key => Ok(None),
        Authentication::ManagedIdentity { client_id } => managed_identity(client_id),
    }
}

#[cfg(feature = "entra")]
fn managed_identity(
    client_id: Option<String>,
) -> Result<Option<Arc<dyn TokenCredential>>, AzureExporterError> {
    let credential = crate::entra::EntraIdCredential::managed_identity(client_id)
        .map_err(AzureExporterError::Credential)?;
    Ok(Some(Arc::new(credential)))
}

#[cfg(not(feature = "entra"))]
fn managed_identity(
    _client_id: Option<String>,
) -> Result<Option<Arc<dyn TokenCredential>>, AzureExporterError> {
    Err(AzureExporterError::EntraFeatureOff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strings_microsoft_documents_parse() {
        assert_eq!(parse(""), Ok(Authentication::Key));
        assert_eq!(parse("Authorization=ikey"), Ok(Authentication::Key));
        assert_eq!(
            parse("Authorization=AAD"),
            Ok(Authentication::ManagedIdentity { client_id: None })
        );
        assert_eq!(
            parse(" authorization = aad ; ClientId = 7f3c ;"),
            Ok(Authentication::ManagedIdentity {
                client_id: Some("7f3c".into())
            })
        );
    }

    #[cfg(not(feature = "entra"))]
    #[test]
    fn without_the_feature_a_managed_identity_is_a_typed_error() {
        let error = managed_identity(None).unwrap_err();
        assert!(matches!(error, AzureExporterError::EntraFeatureOff));
        assert!(error.to_string().contains("`entra`"), "{error}");
    }

    #[test]
    fn bad_strings_name_the_fix() {
        let unknown = parse("Authorization=Basic").unwrap_err();
        assert_eq!(
            unknown,
            AuthenticationStringError::UnknownScheme {
                scheme: "Basic".into()
            }
        );
        assert!(unknown.to_string().contains("`AAD`"), "{unknown}");
        let malformed = parse("AAD").unwrap_err();
        assert!(
            malformed
                .to_string()
                .contains("Authorization=AAD;ClientId=<client id>"),
            "{malformed}"
        );
    }
}
