//! Tokens from the `azure_identity` crate (feature `entra`).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};

use crate::credential::{AccessToken, CredentialError, TokenCredential};

/// A [`TokenCredential`] over any `azure_identity` (`azure_core`)
/// credential: `ManagedIdentityCredential`, `WorkloadIdentityCredential`,
/// `DeveloperToolsCredential`, ... Their requests are asynchronous: the
/// exporter's delivery threads wait for them (at most 30 s) on one Tokio
/// runtime census keeps for them, with a single worker thread, made on
/// first use. One runtime drives every request of the credential's HTTP
/// client, so a pooled connection never waits for another thread.
///
/// ```no_run
/// use census_azure::{AzureExporter, EntraIdCredential};
/// let identity = azure_identity::ManagedIdentityCredential::new(None)?;
/// let exporter = AzureExporter::builder()
///     .credential(EntraIdCredential::new(identity))
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct EntraIdCredential {
    inner: Arc<dyn azure_core::credentials::TokenCredential>,
}

impl EntraIdCredential {
    /// Wraps `credential`.
    pub fn new(credential: Arc<dyn azure_core::credentials::TokenCredential>) -> Self {
        Self { inner: credential }
    }

    /// The host's managed identity: system-assigned, or the user-assigned
    /// one with `client_id` (App Service and Functions through
    /// `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`, virtual machines and AKS
    /// through the instance metadata service).
    ///
    /// # Errors
    /// When `azure_identity` cannot make the credential.
    pub fn managed_identity(client_id: Option<String>) -> Result<Self, CredentialError> {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: client_id.map(UserAssignedId::ClientId),
            ..Default::default()
        };
        let credential = ManagedIdentityCredential::new(Some(options))
            .map_err(|e| CredentialError::new(format!("managed identity: {e}")))?;
        Ok(Self::new(credential))
    }
}

/// Longest wait for a token.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The runtime `azure_identity`'s requests run on; kept for the life of
/// the process, so that it is never dropped inside an async context.
fn runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("census-azure-entra")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

impl TokenCredential for EntraIdCredential {
    fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError> {
        let runtime =
            runtime().ok_or_else(|| CredentialError::new("cannot start a Tokio runtime"))?;
        let inner = self.inner.clone();
        let scope = scope.to_owned();
        // Spawned, so that the request runs on the runtime's worker
        // whatever thread waits for it.
        let request = runtime.spawn(async move {
            tokio::time::timeout(TOKEN_TIMEOUT, inner.get_token(&[&scope], None)).await
        });
        let token = match futures_executor::block_on(request) {
            Ok(Ok(Ok(token))) => token,
            Ok(Ok(Err(e))) => return Err(CredentialError::new(e.to_string())),
            Ok(Err(_)) => {
                return Err(CredentialError::new(format!(
                    "no answer within {}s",
                    TOKEN_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(CredentialError::new(format!("token request failed: {e}"))),
        };
        let expires_at = u64::try_from(token.expires_on.unix_timestamp())
            .map_or(UNIX_EPOCH, |seconds| {
                UNIX_EPOCH + Duration::from_secs(seconds)
            });
        Ok(AccessToken::new(token.token.secret(), expires_at))
    }
}
