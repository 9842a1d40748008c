//! Tokens from the `azure_identity` crate (feature `entra`).

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};

use crate::credential::{AccessToken, CredentialError, TokenCredential};

/// A [`TokenCredential`] over any `azure_identity` (`azure_core`)
/// credential: `ManagedIdentityCredential`, `WorkloadIdentityCredential`,
/// `DeveloperToolsCredential`, ... Their requests are asynchronous; the
/// exporter's delivery thread runs them on a single-threaded Tokio
/// runtime of its own, made on first use.
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

thread_local! {
    /// The runtime `azure_identity`'s requests run on, one per thread that
    /// asks (in practice the delivery thread), dropped with the thread.
    static RUNTIME: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
}

impl TokenCredential for EntraIdCredential {
    fn get_token(&self, scope: &str) -> Result<AccessToken, CredentialError> {
        let token = RUNTIME.with(|runtime| {
            let runtime = runtime
                .as_ref()
                .ok_or_else(|| CredentialError::new("cannot start a Tokio runtime"))?;
            runtime
                .block_on(self.inner.get_token(&[scope], None))
                .map_err(|e| CredentialError::new(e.to_string()))
        })?;
        let expires_at = u64::try_from(token.expires_on.unix_timestamp())
            .map_or(UNIX_EPOCH, |seconds| {
                UNIX_EPOCH + Duration::from_secs(seconds)
            });
        Ok(AccessToken::new(token.token.secret(), expires_at))
    }
}
