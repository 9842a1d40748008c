use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::authentication::{
    AuthenticationStringError, ENV_AUTHENTICATION_STRING, credential_from_env,
};
use crate::backoff::Backoff;
use crate::connection_string::{ConnectionString, ConnectionStringError, masked_key};
use crate::credential::{Bearer, CredentialError, TokenCredential, scope};
use crate::delivery::Delivery;
use crate::envelope::serialize;
use crate::mapping::{Identity, RequestOutcome, RequestSuccess, envelopes, locale, sdk_version};
use crate::metric_exporter::AzureMetricExporter;
use crate::sdk_stats::{self, SdkStats};
use crate::sender::{Handle, Sender};
use crate::storage::{Dropped, FolderError, Store, User, private_folder};
use crate::transport::{Transport, gzip_array};

/// Why an exporter could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AzureExporterError {
    /// The connection string is missing or wrong.
    #[error(transparent)]
    ConnectionString(#[from] ConnectionStringError),
    /// The local storage directory cannot be used.
    #[error(
        "cannot use `{}` for local storage: {source}; pick a writable directory with \
         `storage_directory`, or turn storage off with `disable_storage`",
        path.display()
    )]
    Storage {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` is set but unusable.
    #[error(transparent)]
    AuthenticationString(#[from] AuthenticationStringError),
    /// `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` asks for Microsoft
    /// Entra ID, which needs the cargo feature `entra`.
    #[error(
        "{ENV_AUTHENTICATION_STRING} asks for Microsoft Entra ID (Authorization=AAD), but \
         census-azure was built without its cargo feature `entra`; enable it (census: \
         feature `azure-entra`), give the exporter a credential with `credential(...)`, or \
         unset the variable"
    )]
    EntraFeatureOff,
    /// The credential the environment asks for could not be made.
    #[error("cannot use the credential {ENV_AUTHENTICATION_STRING} asks for: {0}")]
    Credential(#[source] CredentialError),
    /// The delivery thread could not be started.
    #[error(
        "cannot start the census-azure delivery thread: {0}; the process may be at its thread limit"
    )]
    Thread(#[source] std::io::Error),
}

/// Counts of what became of exported items, for monitoring the exporter.
#[derive(Debug, Default)]
pub struct ExportStats {
    pub(crate) sent: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) spilled: AtomicU64,
    pub(crate) corrupt_files: AtomicU64,
}

impl ExportStats {
    /// Items the ingestion endpoint accepted.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Items lost for good: rejected by the endpoint, or dropped by the
    /// storage cap or retention.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Items put aside for another try.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    /// Items stored unsent because the batch before them was still being
    /// sent; the delivery thread sends them right after it.
    pub fn spilled(&self) -> u64 {
        self.spilled.load(Ordering::Relaxed)
    }

    /// Unreadable storage files skipped and removed.
    pub fn corrupt_files(&self) -> u64 {
        self.corrupt_files.load(Ordering::Relaxed)
    }

    pub(crate) fn count_dropped(&self, dropped: &Dropped) {
        self.dropped.fetch_add(dropped.items, Ordering::Relaxed);
        self.corrupt_files
            .fetch_add(dropped.corrupt_files, Ordering::Relaxed);
    }
}

#[derive(Debug)]
enum Storage {
    /// A private folder per user and key under `root`, the temporary
    /// directory (see [`default_store`]).
    Default {
        root: PathBuf,
    },
    Directory(PathBuf),
    Disabled,
}

/// Builds an [`AzureExporter`].
///
/// ```
/// use std::time::Duration;
/// let exporter = census_azure::AzureExporter::builder()
///     .connection_string("InstrumentationKey=00000000-0000-0000-0000-000000000001")
///     .timeout(Duration::from_secs(5))
///     .disable_storage()
///     .build()?;
/// # Ok::<(), census_azure::AzureExporterError>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct AzureExporterBuilder {
    connection_string: Option<String>,
    storage: Storage,
    max_storage_bytes: u64,
    retention: Duration,
    timeout: Duration,
    backoff: Backoff,
    request_success: RequestSuccess,
    export_wait: Duration,
    credential: Option<Arc<dyn TokenCredential>>,
    sdk_stats: bool,
    sdk_stats_interval: Option<Duration>,
}

impl AzureExporterBuilder {
    /// Turns off the exporter's own statistics (on by default, as in
    /// Microsoft's exporters): counts of items sent, dropped and retried,
    /// per telemetry type and reason, sent to the same resource every 15
    /// minutes (`APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL` seconds) as
    /// the custom metrics `Item_Success_Count`, `Item_Dropped_Count` and
    /// `Item_Retry_Count`. `APPLICATIONINSIGHTS_SDKSTATS_DISABLED=true`
    /// turns them off too.
    pub fn disable_sdk_stats(mut self) -> Self {
        self.sdk_stats = false;
        self
    }

    /// How often the exporter's statistics are sent, whatever
    /// `APPLICATIONINSIGHTS_SDKSTATS_EXPORT_INTERVAL` says; they are also
    /// sent once more when the exporter shuts down.
    pub fn sdk_stats_interval(mut self, interval: Duration) -> Self {
        self.sdk_stats_interval = Some(interval);
        self
    }

    /// Authenticates with Microsoft Entra ID: every request carries a
    /// bearer token from `credential` for the resource's scope (the
    /// connection string's `AADAudience`, else
    /// [`DEFAULT_SCOPE`](crate::DEFAULT_SCOPE)). Tokens are kept in memory
    /// only and renewed five minutes before they expire. A batch refused
    /// with 401 or 403 is kept and retried with a new token, with one
    /// warning naming the likely cause.
    ///
    /// Without one, [`ENV_AUTHENTICATION_STRING`](crate::ENV_AUTHENTICATION_STRING)
    /// `=Authorization=AAD` uses the host's managed identity (feature
    /// `entra`).
    pub fn credential(mut self, credential: impl TokenCredential + 'static) -> Self {
        self.credential = Some(Arc::new(credential));
        self
    }

    /// Decides each request's `success` with `rule` instead of Microsoft's
    /// (failed when the span status is Error or an HTTP status is 400 or
    /// more), e.g. to count 404 as a success:
    ///
    /// ```
    /// let builder = census_azure::AzureExporter::builder()
    ///     .request_success(|r| r.status_code() == Some(404) || r.default_success());
    /// ```
    ///
    /// The span status is not changed: it follows the semantic conventions
    /// (a 4xx is not a server error).
    pub fn request_success(
        mut self,
        rule: impl Fn(&RequestOutcome) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.request_success = RequestSuccess(Arc::new(rule));
        self
    }

    /// The connection string; without one, `APPLICATIONINSIGHTS_CONNECTION_STRING`.
    pub fn connection_string(mut self, connection_string: impl Into<String>) -> Self {
        self.connection_string = Some(connection_string.into());
        self
    }

    /// Where unsent batches are kept, used as it is.
    ///
    /// The default is `census-azure-<uid>/<hash of the key>` in the
    /// temporary directory (`$TMPDIR`, else `/tmp`), each level mode 0700.
    /// Since any user can create names there, the default folder is
    /// refused when it is a symbolic link, not a directory, owned by
    /// another user or open to other users; unsent batches are then kept
    /// in memory only, with a warning that names the folder and the
    /// reason. Outside Unix, where the temporary directory is the user's
    /// own, the default is `census-azure/<hash of the key>` there.
    pub fn storage_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.storage = Storage::Directory(dir.into());
        self
    }

    /// Keep unsent batches in memory only: retries survive outages but
    /// not restarts.
    pub fn disable_storage(mut self) -> Self {
        self.storage = Storage::Disabled;
        self
    }

    /// Size cap of stored batches (default 50 MiB); past it the oldest go.
    pub fn max_storage_bytes(mut self, bytes: u64) -> Self {
        self.max_storage_bytes = bytes;
        self
    }

    /// How long a stored batch is kept trying (default 48 hours, the age
    /// past which ingestion refuses items).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Time limit of one request to the endpoint (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long an export waits for its batch to be sent (default 250 ms)
    /// before it returns and leaves the send to the delivery thread.
    ///
    /// Within it, a flush through the SDK (`force_flush`, shutdown)
    /// returns with the batch sent; past it, the batch processor goes on
    /// with its queue, so a slow or hanging endpoint never makes it drop
    /// spans. Batches exported while one is still being sent are stored
    /// (see [`ExportStats::spilled`]) and sent right after it; shutdown
    /// waits for them.
    pub fn export_wait(mut self, wait: Duration) -> Self {
        self.export_wait = wait;
        self
    }

    /// First and longest wait between tries (default 1 s and 5 min),
    /// doubling in between, with ±20 % jitter.
    pub fn retry_backoff(mut self, first: Duration, longest: Duration) -> Self {
        self.backoff = Backoff::new(first, longest);
        self
    }

    /// Builds the exporter and starts its delivery thread, which also
    /// sends what earlier runs left in storage.
    pub fn build(self) -> Result<AzureExporter, AzureExporterError> {
        let connection_string: ConnectionString = match self.connection_string {
            Some(text) => text.parse()?,
            None => ConnectionString::from_env()?,
        };
        let key = connection_string.instrumentation_key().to_owned();
        let credential = match self.credential {
            Some(credential) => Some(credential),
            None => credential_from_env()?,
        };
        let store = match self.storage {
            Storage::Disabled => Store::memory(self.max_storage_bytes, self.retention),
            Storage::Directory(path) => {
                Store::directory(&path, self.max_storage_bytes, self.retention)
                    .map_err(|source| AzureExporterError::Storage { path, source })?
            }
            Storage::Default { root } => {
                default_store(&root, &key, self.max_storage_bytes, self.retention)?
            }
        };
        let bearer = credential
            .map(|credential| Bearer::new(credential, scope(connection_string.aad_audience())));
        let env = |name: &str| std::env::var(name).ok();
        let sdk_stats = (self.sdk_stats && sdk_stats::enabled(env)).then(Arc::<SdkStats>::default);
        let handle = Sender::start(Delivery::new(
            Transport::new(connection_string.track_url(), self.timeout, bearer.clone()),
            store,
            Arc::default(),
            sdk_stats.clone(),
            self.backoff,
        ))
        .map_err(AzureExporterError::Thread)?;
        tracing::debug!(key = %masked_key(&key), "census-azure: exporter ready");
        let identity = Identity {
            ikey: key,
            role: None,
            role_instance: host_name(),
            // Until the SDK hands over its resource, which names its version.
            sdk_version: sdk_version("unknown"),
            device_id: host_name(),
            locale: locale(|name| std::env::var(name).ok()),
            request_success: self.request_success,
            standard_metrics: false,
        };
        if let Some(counts) = sdk_stats {
            // Sent through a delivery of its own, which counts nothing.
            let reporter = Sender::start(Delivery::new(
                Transport::new(connection_string.track_url(), self.timeout, bearer),
                Store::memory(self.max_storage_bytes, self.retention),
                Arc::default(),
                None,
                self.backoff,
            ))
            .map_err(AzureExporterError::Thread)?;
            let exporter = AzureMetricExporter::new(identity.clone(), reporter, self.export_wait);
            *handle
                .sender
                .statistics
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(sdk_stats::provider(
                counts,
                exporter,
                self.sdk_stats_interval
                    .unwrap_or_else(|| sdk_stats::interval(env)),
            ));
        }
        Ok(AzureExporter {
            identity,
            handle,
            export_wait: self.export_wait,
        })
    }
}

/// Exports spans to Application Insights as requests, dependencies,
/// exceptions and messages (Track API v2.1).
///
/// Sends happen on a delivery thread of its own, so that a slow endpoint
/// holds up the batch processor for at most the export wait; what cannot
/// be sent is stored and retried by that thread with back-off, also after
/// a restart.
#[derive(Debug)]
pub struct AzureExporter {
    pub(crate) identity: Identity,
    pub(crate) handle: Handle,
    pub(crate) export_wait: Duration,
}

impl AzureExporter {
    /// Starts building an exporter.
    pub fn builder() -> AzureExporterBuilder {
        AzureExporterBuilder {
            connection_string: None,
            storage: Storage::Default {
                root: std::env::temp_dir(),
            },
            max_storage_bytes: 50 * 1024 * 1024,
            retention: Duration::from_secs(48 * 3600),
            timeout: Duration::from_secs(10),
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(300)),
            request_success: RequestSuccess::default(),
            export_wait: Duration::from_millis(250),
            credential: None,
            sdk_stats: true,
            sdk_stats_interval: None,
        }
    }

    /// An exporter configured by `APPLICATIONINSIGHTS_CONNECTION_STRING`.
    pub fn from_env() -> Result<Self, AzureExporterError> {
        Self::builder().build()
    }

    /// Counts of sent, dropped and retried items; stays valid after the
    /// exporter moves into a tracer provider.
    pub fn stats(&self) -> Arc<ExportStats> {
        self.handle.sender.delivery.stats.clone()
    }

    /// The folder unsent telemetry is kept in; `None` when it is kept in
    /// memory only and lost at exit: storage was disabled, or the default
    /// folder was refused (a warning says why).
    pub fn storage_directory(&self) -> Option<&Path> {
        self.handle.sender.delivery.store.folder()
    }

    /// The gzip-compressed request body `spans` would be sent as.
    pub fn encode(&self, spans: &[SpanData]) -> std::io::Result<Vec<u8>> {
        gzip_array(&self.serialize(spans))
    }

    /// Serialized envelopes of `spans`, one per item.
    fn serialize(&self, spans: &[SpanData]) -> Vec<String> {
        serialize(&envelopes(&self.identity, spans))
    }
}

impl SpanExporter for AzureExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let items = self.serialize(&batch);
        self.handle.sender.delivery.export(items, self.export_wait);
        // Failures are stored for retry or counted as dropped; the batch
        // processor has nothing to do about them.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.handle.shutdown(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.identity.set_resource(resource);
    }
}

/// The store in `{root}/census-azure-{uid}/{hash of the key}` (see
/// [`private_folder`]): one folder per user and key, without writing the
/// key itself to disk. A folder that is not safely this user's own is
/// refused, loudly, for a store in memory: telemetry is still retried
/// through outages, and never written where another user could read it.
fn default_store(
    root: &Path,
    key: &str,
    max_bytes: u64,
    retention: Duration,
) -> Result<Store, AzureExporterError> {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let user = User::current().map_err(|source| AzureExporterError::Storage {
        path: root.to_owned(),
        source,
    })?;
    match private_folder(root, user, &format!("{hash:016x}")) {
        Ok(path) => Store::directory(&path, max_bytes, retention)
            .map_err(|source| AzureExporterError::Storage { path, source }),
        Err(FolderError::Io { path, source }) => Err(AzureExporterError::Storage { path, source }),
        Err(FolderError::Refused { path, reason }) => {
            census_core::diagnostics::warn(&format!(
                "Application Insights exporter: not storing unsent telemetry in `{}`: \
                 {reason}; it is kept in memory only, and lost at exit; to keep it across \
                 restarts, pick a folder with `storage_directory` or another TMPDIR",
                path.display()
            ));
            Ok(Store::memory(max_bytes, retention))
        }
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    /// A key no other test or run uses, so its folder is this test's own.
    fn fresh_key() -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!(
            "00000000-0000-{:04x}-0000-{:012x}",
            std::process::id() & 0xffff,
            nanos & 0xffff_ffff_ffff
        )
    }

    fn connection_string(key: &str) -> String {
        format!("InstrumentationKey={key};IngestionEndpoint=http://127.0.0.1:9/")
    }

    #[test]
    fn the_default_folder_is_per_user_and_private() {
        let key = fresh_key();
        let exporter = AzureExporter::builder()
            .connection_string(connection_string(&key))
            .build()
            .unwrap();
        let dir = exporter.storage_directory().unwrap().to_owned();
        // What this process creates belongs to its user.
        let probe = std::env::temp_dir().join(format!("census-azure-probe-{key}"));
        fs::write(&probe, "").unwrap();
        let uid = fs::metadata(&probe).unwrap().uid();
        fs::remove_file(&probe).unwrap();
        let user_dir = std::env::temp_dir().join(format!("census-azure-{uid}"));
        assert_eq!(dir.parent(), Some(user_dir.as_path()));
        for folder in [&user_dir, &dir] {
            let meta = fs::symlink_metadata(folder).unwrap();
            assert!(meta.is_dir(), "{}", folder.display());
            assert_eq!(
                (meta.uid(), meta.permissions().mode() & 0o777),
                (uid, 0o700),
                "{}",
                folder.display()
            );
        }
        drop(exporter);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_refused_default_folder_falls_back_to_memory_with_a_warning() {
        let root = std::env::temp_dir().join(format!(
            "census-azure-exporter-refused-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        let uid = fs::metadata(&root).unwrap().uid();
        // Another user's link, where this user's folder should be.
        let link = root.join(format!("census-azure-{uid}"));
        symlink(root.join("theirs"), &link).unwrap();
        let logs = census_pipeline::testing::SharedBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        let exporter = tracing::subscriber::with_default(subscriber, || {
            let mut builder =
                AzureExporter::builder().connection_string(connection_string(&fresh_key()));
            builder.storage = Storage::Default { root: root.clone() };
            builder.build().unwrap()
        });
        assert_eq!(exporter.storage_directory(), None);
        let logged = logs.text();
        assert_eq!(
            logged,
            format!(
                " WARN census: Application Insights exporter: not storing unsent telemetry in \
                 `{}`: it is a symbolic link; it is kept in memory only, and lost at exit; to \
                 keep it across restarts, pick a folder with `storage_directory` or another \
                 TMPDIR\n",
                link.display()
            )
        );
        assert!(!root.join("theirs").exists(), "the link was not followed");
        drop(exporter);
        let _ = fs::remove_dir_all(&root);
    }
}
