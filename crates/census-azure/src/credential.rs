//! Microsoft Entra ID (AAD) authentication: a bearer token on every
//! ingestion request, from a credential the application gives.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// The scope of Application Insights ingestion tokens when the connection
/// string names no `AADAudience` (Microsoft's exporters' default).
pub const DEFAULT_SCOPE: &str = "https://monitor.azure.com//.default";

/// A token is renewed this long before it expires, so that no request
/// goes out with one about to lapse.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Gets Microsoft Entra ID access tokens for the exporter: implement it
/// over any `azure_identity` credential or a token source of your own.
/// It is called on the exporter's delivery thread, never on a request
/// path, and only when the cached token is within five minutes of
/// expiring; it may block.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use census_azure::{AccessToken, CredentialError, TokenCredential};
///
/// #[derive(Debug)]
/// struct FromVault;
///
/// impl TokenCredential for FromVault {
///     fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError> {
///         // ... ask the identity provider for `scope` ...
///         Ok(AccessToken::new("eyJ0eXAi...", SystemTime::now() + Duration::from_secs(3600)))
///     }
/// }
///
/// let exporter = census_azure::AzureExporter::builder()
///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
///     .credential(FromVault)
///     .disable_storage()
///     .build()?;
/// # Ok::<(), census_azure::AzureExporterError>(())
/// ```
pub trait TokenCredential: Send + Sync + std::fmt::Debug {
    /// A token for `scope` (e.g. [`DEFAULT_SCOPE`]).
    ///
    /// # Errors
    /// When no token can be had; the batch is kept and retried later.
    fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError>;
}

/// A bearer token and when it expires. Its `Debug` never shows the token.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let token = census_azure::AccessToken::new("eyJhbGci", SystemTime::now() + Duration::from_secs(60));
/// assert!(!format!("{token:?}").contains("eyJhbGci"));
/// ```
#[derive(Clone)]
pub struct AccessToken {
    secret: String,
    expires_at: SystemTime,
}

impl AccessToken {
    /// `secret`, valid until `expires_at`.
    pub fn new(secret: impl Into<String>, expires_at: SystemTime) -> Self {
        Self {
            secret: secret.into(),
            expires_at,
        }
    }

    /// When it expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    fn fresh(&self, now: SystemTime) -> bool {
        now + RENEW_BEFORE < self.expires_at
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a credential gave no token.
///
/// ```
/// let error = census_azure::CredentialError::new("managed identity endpoint answered 400");
/// assert_eq!(error.to_string(), "no Microsoft Entra ID token: managed identity endpoint answered 400");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("no Microsoft Entra ID token: {reason}")]
pub struct CredentialError {
    reason: String,
}

impl CredentialError {
    /// An error saying `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// The credential, its scope and the token last got, shared by the
/// delivery thread's sends.
#[derive(Debug, Clone)]
pub(crate) struct Bearer {
    credential: Arc<dyn TokenCredential>,
    scope: String,
    cached: Arc<Mutex<Option<AccessToken>>>,
}

impl Bearer {
    pub(crate) fn new(credential: Arc<dyn TokenCredential>, scope: String) -> Self {
        Self {
            credential,
            scope,
            cached: Arc::default(),
        }
    }

    /// The `Authorization` header's value: the cached token while it is
    /// fresh, else a new one.
    pub(crate) fn header(&self) -> Result<String, CredentialError> {
        let fresh = self
            .cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|t| t.fresh(SystemTime::now()));
        let token = match fresh {
            Some(token) => token,
            None => {
                // Asked without the lock: the exporter's other delivery
                // thread keeps sending with its token meanwhile.
                let token = self.credential.get_token(&self.scope)?;
                *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
                token
            }
        };
        Ok(format!("Bearer {}", token.secret))
    }

    /// Forgets the cached token, after the endpoint refused it.
    pub(crate) fn forget(&self) {
        *self.cached.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The scope for a connection string's `AADAudience`, Microsoft's way:
/// `{audience}/.default`, or [`DEFAULT_SCOPE`] without one.
pub(crate) fn scope(audience: Option<&str>) -> String {
    match audience.filter(|a| !a.is_empty()) {
        Some(audience) => format!("{audience}/.default"),
        None => DEFAULT_SCOPE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Hands out `token-N`, each valid for `lifetime`, and counts calls.
    #[derive(Debug)]
    struct Counting {
        calls: AtomicUsize,
        lifetime: Duration,
    }

    impl TokenCredential for Counting {
        fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError> {
            assert_eq!(scope, DEFAULT_SCOPE);
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(AccessToken::new(
                format!("token-{n}"),
                SystemTime::now() + self.lifetime,
            ))
        }
    }

    fn counting(lifetime: Duration) -> (Bearer, Arc<Counting>) {
        let credential = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            lifetime,
        });
        (Bearer::new(credential.clone(), scope(None)), credential)
    }

    #[test]
    fn a_fresh_token_is_reused_and_one_near_expiry_renewed() {
        let (bearer, credential) = counting(Duration::from_secs(3600));
        assert_eq!(bearer.header().unwrap(), "Bearer token-1");
        assert_eq!(bearer.header().unwrap(), "Bearer token-1");
        assert_eq!(credential.calls.load(Ordering::SeqCst), 1);
        bearer.forget();
        assert_eq!(bearer.header().unwrap(), "Bearer token-2");

        // Within five minutes of expiry, each send asks again.
        let (short, credential) = counting(Duration::from_secs(120));
        assert_eq!(short.header().unwrap(), "Bearer token-1");
        assert_eq!(short.header().unwrap(), "Bearer token-2");
        assert_eq!(credential.calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_audience_sets_the_scope() {
        assert_eq!(scope(None), "https://monitor.azure.com//.default");
        assert_eq!(scope(Some("")), DEFAULT_SCOPE);
        assert_eq!(
            scope(Some("https://monitor.azure.us")),
            "https://monitor.azure.us/.default"
        );
    }
}
