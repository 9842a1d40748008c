use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::Key;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::backoff::Backoff;
use crate::connection_string::{ConnectionString, ConnectionStringError, masked_key};
use crate::mapping::{Identity, RequestOutcome, RequestSuccess, envelopes, sdk_version};
use crate::storage::{Dropped, FolderError, Store, User, private_folder};
use crate::transport::{Outcome, Transport, gzip_array};

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
}

/// Counts of what became of exported items, for monitoring the exporter.
#[derive(Debug, Default)]
pub struct ExportStats {
    sent: AtomicU64,
    dropped: AtomicU64,
    retried: AtomicU64,
    corrupt_files: AtomicU64,
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

    /// Unreadable storage files skipped and removed.
    pub fn corrupt_files(&self) -> u64 {
        self.corrupt_files.load(Ordering::Relaxed)
    }

    fn count_dropped(&self, dropped: &Dropped) {
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
}

impl AzureExporterBuilder {
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

    /// First and longest wait between tries (default 1 s and 5 min),
    /// doubling in between, with ±20 % jitter.
    pub fn retry_backoff(mut self, first: Duration, longest: Duration) -> Self {
        self.backoff = Backoff::new(first, longest);
        self
    }

    /// Builds the exporter and starts its retry thread, which also sends
    /// what earlier runs left in storage.
    pub fn build(self) -> Result<AzureExporter, AzureExporterError> {
        let connection_string: ConnectionString = match self.connection_string {
            Some(text) => text.parse()?,
            None => ConnectionString::from_env()?,
        };
        let key = connection_string.instrumentation_key().to_owned();
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
        let shared = Arc::new(Shared {
            transport: Transport::new(connection_string.track_url(), self.timeout),
            store,
            stats: Arc::default(),
            backoff: self.backoff,
            not_before: Mutex::new(SystemTime::UNIX_EPOCH),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let worker = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("census-azure-retry".into())
                .spawn(move || shared.run_retries())
                .ok()
        };
        tracing::debug!(key = %masked_key(&key), "census-azure: exporter ready");
        Ok(AzureExporter {
            identity: Identity {
                ikey: key,
                role: None,
                role_instance: host_name(),
                // Until the SDK hands over its resource, which names its version.
                sdk_version: sdk_version("unknown"),
                request_success: self.request_success,
            },
            shared,
            worker: Mutex::new(worker),
        })
    }
}

/// Exports spans to Application Insights as requests, dependencies,
/// exceptions and messages (Track API v2.1).
///
/// Sends happen on the batch processor's thread; what cannot be sent is
/// stored and retried by a background thread with back-off, also after a
/// restart.
#[derive(Debug)]
pub struct AzureExporter {
    identity: Identity,
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
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
        }
    }

    /// An exporter configured by `APPLICATIONINSIGHTS_CONNECTION_STRING`.
    pub fn from_env() -> Result<Self, AzureExporterError> {
        Self::builder().build()
    }

    /// Counts of sent, dropped and retried items; stays valid after the
    /// exporter moves into a tracer provider.
    pub fn stats(&self) -> Arc<ExportStats> {
        self.shared.stats.clone()
    }

    /// The folder unsent telemetry is kept in; `None` when it is kept in
    /// memory only and lost at exit: storage was disabled, or the default
    /// folder was refused (a warning says why).
    pub fn storage_directory(&self) -> Option<&Path> {
        self.shared.store.folder()
    }

    /// The gzip-compressed request body `spans` would be sent as.
    pub fn encode(&self, spans: &[SpanData]) -> std::io::Result<Vec<u8>> {
        gzip_array(&self.serialize(spans))
    }

    /// Serialized envelopes of `spans`, one per item.
    fn serialize(&self, spans: &[SpanData]) -> Vec<String> {
        envelopes(&self.identity, spans)
            .iter()
            .filter_map(|envelope| serde_json::to_string(envelope).ok())
            .collect()
    }

    fn stop_worker(&self) {
        *self.shared.stop.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
    }
}

impl SpanExporter for AzureExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let items = self.serialize(&batch);
        self.shared.deliver(items);
        // Failures are stored for retry or counted as dropped; the batch
        // processor has nothing to do about them.
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.stop_worker();
        let Some(worker) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout;
        while !worker.is_finished() {
            if Instant::now() >= deadline {
                // It ends by itself once its request times out; what it
                // holds stays stored for the next start.
                return Err(OTelSdkError::Timeout(timeout));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        worker.join().map_err(|_| {
            OTelSdkError::InternalFailure("census-azure retry thread panicked".into())
        })?;
        if self.shared.store.folder().is_none() {
            let lost = self.shared.store.len_items();
            self.shared.reject(
                lost as usize,
                "they were kept in memory only and not sent before shutdown",
            );
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        let get = |key: &'static str| {
            resource
                .get(&Key::from_static_str(key))
                .map(|v| v.to_string())
        };
        self.identity.role = match (get("service.namespace"), get("service.name")) {
            (Some(namespace), Some(name)) => Some(format!("{namespace}.{name}")),
            (None, name) => name,
            (namespace, None) => namespace,
        };
        if let Some(instance) = get("service.instance.id") {
            self.identity.role_instance = instance;
        }
        if let Some(version) = get("telemetry.sdk.version") {
            self.identity.sdk_version = sdk_version(&version);
        }
    }
}

impl Drop for AzureExporter {
    fn drop(&mut self) {
        self.stop_worker();
    }
}

#[derive(Debug)]
struct Shared {
    transport: Transport,
    store: Store,
    stats: Arc<ExportStats>,
    backoff: Backoff,
    /// No sends before this: a `Retry-After` or an outage holds back the
    /// export thread and the retry thread alike.
    not_before: Mutex<SystemTime>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// `wait` from now, bounded so that no server answer can overflow a time.
fn after(wait: Duration) -> SystemTime {
    let now = SystemTime::now();
    now.checked_add(wait.min(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

impl Shared {
    fn held_back(&self) -> Option<Duration> {
        let not_before = *self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        not_before.duration_since(SystemTime::now()).ok()
    }

    fn hold_back(&self, attempt: u32, asked: Option<Duration>) -> SystemTime {
        let until = after(self.backoff.wait(attempt, asked));
        let mut not_before = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        *not_before = (*not_before).max(until);
        *not_before
    }

    /// First try of fresh items; failures go to the store.
    fn deliver(&self, items: Vec<String>) {
        if items.is_empty() {
            return;
        }
        if let Some(wait) = self.held_back() {
            self.store_for_retry(&items, 1, Some(wait));
            return;
        }
        match self.transport.send(&items) {
            Outcome::Accepted => self.count_sent(items.len()),
            Outcome::Partial { retry, rejected } => {
                let again = self.settle_partial(&items, &retry, rejected);
                self.store_for_retry(&again, 1, None);
            }
            Outcome::Retry { after, reason } => {
                tracing::debug!("census-azure: will retry {} items: {reason}", items.len());
                let until = self.hold_back(1, after);
                self.store_at(&items, until, 1);
            }
            Outcome::Rejected { reason } => self.reject(items.len(), &reason),
        }
    }

    /// Counts what a 206 accepted and refused; returns the items to retry.
    fn settle_partial(&self, items: &[String], retry: &[usize], rejected: usize) -> Vec<String> {
        self.count_sent(items.len().saturating_sub(retry.len() + rejected));
        self.reject(rejected, "items rejected by ingestion");
        retry.iter().map(|&i| items[i].clone()).collect()
    }

    fn count_sent(&self, count: usize) {
        self.stats.sent.fetch_add(count as u64, Ordering::Relaxed);
    }

    fn reject(&self, count: usize, reason: &str) {
        if count > 0 {
            self.stats
                .dropped
                .fetch_add(count as u64, Ordering::Relaxed);
            tracing::warn!("census-azure: {count} telemetry items dropped: {reason}");
        }
    }

    fn store_for_retry(&self, items: &[String], attempt: u32, asked: Option<Duration>) {
        self.store_at(items, after(self.backoff.wait(attempt, asked)), attempt);
    }

    fn store_at(&self, items: &[String], due: SystemTime, attempt: u32) {
        if items.is_empty() {
            return;
        }
        let dropped = self.store.put(items, due, attempt);
        self.stats
            .retried
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        self.stats.count_dropped(&dropped);
        self.wake.notify_all();
    }

    /// The retry thread: sends due batches (also those an earlier run
    /// left), then sleeps until the next is due, new ones arrive, or
    /// shutdown.
    fn run_retries(&self) {
        loop {
            self.resend_due();
            // Read the store before locking: shutdown waits on this lock.
            let wait = self
                .store
                .next_due()
                .map_or(Duration::from_secs(1), |due| {
                    due.duration_since(SystemTime::now()).unwrap_or_default()
                })
                .clamp(Duration::from_millis(10), Duration::from_secs(1));
            let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner());
            if *stop {
                return;
            }
            let (stop, _) = self
                .wake
                .wait_timeout(stop, wait)
                .unwrap_or_else(|p| p.into_inner());
            if *stop {
                return;
            }
        }
    }

    /// One pass over the due batches; the first that cannot be sent ends
    /// the pass, and the rest wait with it.
    fn resend_due(&self) {
        if self.held_back().is_some() {
            return;
        }
        let (entries, dropped) = self.store.due(SystemTime::now());
        self.stats.count_dropped(&dropped);
        let mut entries = entries.into_iter();
        while let Some(entry) = entries.next() {
            if *self.stop.lock().unwrap_or_else(|p| p.into_inner()) {
                entries.for_each(|rest| self.store.reschedule(&rest, SystemTime::now()));
                self.store.reschedule(&entry, SystemTime::now());
                return;
            }
            match self.transport.send(&entry.items) {
                Outcome::Accepted => {
                    self.store.remove(&entry);
                    self.count_sent(entry.items.len());
                }
                Outcome::Partial { retry, rejected } => {
                    let again = self.settle_partial(&entry.items, &retry, rejected);
                    let due = after(self.backoff.wait(entry.attempt().saturating_add(1), None));
                    let dropped = self.store.replace(&entry, &again, due);
                    self.stats.count_dropped(&dropped);
                }
                Outcome::Retry { after, .. } => {
                    let until = self.hold_back(entry.attempt().saturating_add(1), after);
                    self.store.reschedule(&entry, until);
                    entries.for_each(|rest| self.store.reschedule(&rest, until));
                    return;
                }
                Outcome::Rejected { reason } => {
                    self.store.remove(&entry);
                    self.reject(entry.items.len(), &reason);
                }
            }
        }
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
            tracing::warn!(
                "census-azure: not storing unsent telemetry in `{}`: {reason}; it is kept in \
                 memory only, and lost at exit; to keep it across restarts, pick a folder \
                 with `storage_directory` or another TMPDIR",
                path.display()
            );
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
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    /// What a `tracing` subscriber wrote.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

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
        let logs = Logs::default();
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
        let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            logged,
            format!(
                " WARN census-azure: not storing unsent telemetry in `{}`: it is a symbolic \
                 link; it is kept in memory only, and lost at exit; to keep it across \
                 restarts, pick a folder with `storage_directory` or another TMPDIR\n",
                link.display()
            )
        );
        assert!(!root.join("theirs").exists(), "the link was not followed");
        drop(exporter);
        let _ = fs::remove_dir_all(&root);
    }
}
