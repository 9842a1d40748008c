//! Batches waiting for another try: files in a bounded directory (kept
//! across restarts), or memory when storage is disabled or the default
//! folder is refused.
//!
//! A batch is one file of serialized envelopes, one per line, named
//! `{due ms}-{attempt}-{created ms}-{seq}.batch` so that a listing sorted by
//! name is sorted by due time. Files are written under a temporary name and
//! renamed, so a crash never leaves a half batch that looks complete.
//!
//! Several exporters may share a directory (replicas on one host, or a
//! restart while the old process still drains): a batch is claimed by
//! renaming it to a lease file before it is sent, so only one of them sends
//! it. A lease whose holder died expires and the batch comes back.
//!
//! When the size cap is reached the **oldest** batches are dropped to make
//! room: recent telemetry is the more useful, and old items near the end
//! of their retention would soon be dropped anyway.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SUFFIX: &str = ".batch";
const TEMP_SUFFIX: &str = ".tmp";
const LEASE_SUFFIX: &str = ".lease";
/// How long a claimed batch stays claimed: far longer than one send.
const LEASE: Duration = Duration::from_secs(120);
/// Age past which a temporary file is a crash's leftover, not a write in
/// progress (another thread or process may be between write and rename).
const ABANDONED: Duration = Duration::from_secs(60);

/// A stored batch, claimed for sending.
#[derive(Debug)]
pub(crate) struct Entry {
    name: Name,
    lease: String,
    pub(crate) items: Vec<String>,
}

impl Entry {
    pub(crate) fn attempt(&self) -> u32 {
        self.name.attempt
    }
}

/// What the store had to throw away while doing what was asked.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Items dropped (cap, retention).
    pub(crate) items: u64,
    /// Unreadable files removed.
    pub(crate) corrupt_files: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Name {
    due_ms: u64,
    attempt: u32,
    created_ms: u64,
    seq: u64,
}

impl Name {
    fn render(&self) -> String {
        format!(
            "{:013}-{:03}-{:013}-{:06}{SUFFIX}",
            self.due_ms, self.attempt, self.created_ms, self.seq
        )
    }

    fn parse(file: &str) -> Option<Self> {
        let stem = file.strip_suffix(SUFFIX)?;
        let mut parts = stem.split('-');
        let name = Self {
            due_ms: parts.next()?.parse().ok()?,
            attempt: parts.next()?.parse().ok()?,
            created_ms: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(name)
    }

    /// `{batch}.{expires ms}.lease`
    fn lease(&self, expires: SystemTime) -> String {
        format!("{}.{}{LEASE_SUFFIX}", self.render(), millis(expires))
    }

    fn parse_lease(file: &str) -> Option<(Self, u64)> {
        let rest = file.strip_suffix(LEASE_SUFFIX)?;
        let (batch, expires) = rest.rsplit_once('.')?;
        Some((Self::parse(batch)?, expires.parse().ok()?))
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Why the default storage folder is not used: another user could read
/// the telemetry kept there, or plant or swap batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StorageRefusal {
    /// A symbolic link, which another user may have planted.
    #[error("it is a symbolic link")]
    Symlink,
    /// Something other than a directory has its name.
    #[error("it is not a directory")]
    NotADirectory,
    /// Another user owns it, for example one who made it first.
    #[cfg(unix)]
    #[error("it belongs to uid {owner}, not to uid {expected} that this process runs as")]
    Owner { owner: u32, expected: u32 },
    /// Other users may enter it.
    #[cfg(unix)]
    #[error("its mode is {mode:o}, open to other users, not 700")]
    OpenToOthers { mode: u32 },
}

/// Why a private folder could not be had.
#[derive(Debug)]
pub(crate) enum FolderError {
    /// Creating or inspecting it failed.
    Io { path: PathBuf, source: io::Error },
    /// It exists but is not safe to use.
    Refused {
        path: PathBuf,
        reason: StorageRefusal,
    },
}

/// The user whose private folders the default store may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct User {
    #[cfg(unix)]
    uid: u32,
}

impl User {
    /// The user this process runs as.
    #[cfg(unix)]
    pub(crate) fn current() -> io::Result<Self> {
        use std::os::unix::fs::MetadataExt;
        // A new pipe belongs to the process's effective user: reading its
        // owner needs neither `unsafe` nor `/proc`, which macOS lacks.
        let (reader, _writer) = io::pipe()?;
        let pipe = fs::File::from(std::os::fd::OwnedFd::from(reader));
        Ok(Self {
            uid: pipe.metadata()?.uid(),
        })
    }

    /// The user this process runs as; outside Unix the temporary
    /// directory is the user's own already.
    #[cfg(not(unix))]
    pub(crate) fn current() -> io::Result<Self> {
        Ok(Self {})
    }

    /// One folder per user in the shared temporary directory, so that one
    /// user's folder never blocks another's.
    fn folder_name(self) -> String {
        #[cfg(unix)]
        return format!("census-azure-{}", self.uid);
        #[cfg(not(unix))]
        return "census-azure".to_owned();
    }

    #[cfg(unix)]
    fn check_owner(self, meta: &fs::Metadata) -> Result<(), StorageRefusal> {
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != self.uid {
            return Err(StorageRefusal::Owner {
                owner: meta.uid(),
                expected: self.uid,
            });
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StorageRefusal::OpenToOthers { mode });
        }
        Ok(())
    }

    /// Outside Unix the temporary directory is the user's own already.
    #[cfg(not(unix))]
    fn check_owner(self, _meta: &fs::Metadata) -> Result<(), StorageRefusal> {
        Ok(())
    }
}

/// `{root}/census-azure-{uid}/{name}`, the default store folder. Each level
/// is created if missing, mode 0700, and refused unless it is, without
/// following a symbolic link, a directory of `user` closed to other users:
/// `root` is the temporary directory every user can write to, where
/// another user could have made the folder, or a link, first.
pub(crate) fn private_folder(root: &Path, user: User, name: &str) -> Result<PathBuf, FolderError> {
    let user_dir = root.join(user.folder_name());
    make_private(&user_dir, user)?;
    let dir = user_dir.join(name);
    make_private(&dir, user)?;
    Ok(dir)
}

fn make_private(dir: &Path, user: User) -> Result<(), FolderError> {
    let io_error = |source| FolderError::Io {
        path: dir.to_owned(),
        source,
    };
    match private_dir_builder().create(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(io_error(e)),
        _ => {}
    }
    let meta = fs::symlink_metadata(dir).map_err(io_error)?;
    let checked = if meta.file_type().is_symlink() {
        Err(StorageRefusal::Symlink)
    } else if !meta.is_dir() {
        Err(StorageRefusal::NotADirectory)
    } else {
        user.check_owner(&meta)
    };
    checked.map_err(|reason| FolderError::Refused {
        path: dir.to_owned(),
        reason,
    })
}

/// Creates directories readable by this user only.
fn private_dir_builder() -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
}

#[derive(Debug)]
enum Backend {
    Directory(PathBuf),
    Memory(Mutex<BTreeMap<String, Vec<u8>>>),
}

#[derive(Debug)]
pub(crate) struct Store {
    backend: Backend,
    max_bytes: u64,
    retention: Duration,
    seq: AtomicU64,
}

impl Store {
    /// A store in `dir`, created if missing, readable by this user only.
    pub(crate) fn directory(
        dir: &Path,
        max_bytes: u64,
        retention: Duration,
    ) -> std::io::Result<Self> {
        private_dir_builder().recursive(true).create(dir)?;
        Ok(Self::new(
            Backend::Directory(dir.to_owned()),
            max_bytes,
            retention,
        ))
    }

    /// A store in memory: retries survive outages, not restarts.
    pub(crate) fn memory(max_bytes: u64, retention: Duration) -> Self {
        Self::new(Backend::Memory(Mutex::default()), max_bytes, retention)
    }

    fn new(backend: Backend, max_bytes: u64, retention: Duration) -> Self {
        Self {
            backend,
            max_bytes,
            retention,
            seq: AtomicU64::new(0),
        }
    }

    /// Keeps `items` for a try at `due`; returns what had to go for room.
    pub(crate) fn put(&self, items: &[String], due: SystemTime, attempt: u32) -> Dropped {
        self.put_created(items, due, attempt, millis(SystemTime::now()))
    }

    /// Replaces a claimed batch by `items` (the part of it still to send),
    /// keeping its age so retention still counts from the first try. The
    /// new batch is written before the old one goes.
    pub(crate) fn replace(&self, entry: &Entry, items: &[String], due: SystemTime) -> Dropped {
        let dropped = if items.is_empty() {
            Dropped::default()
        } else {
            self.put_created(
                items,
                due,
                entry.name.attempt.saturating_add(1),
                entry.name.created_ms,
            )
        };
        self.delete(&entry.lease);
        dropped
    }

    fn put_created(
        &self,
        items: &[String],
        due: SystemTime,
        attempt: u32,
        created_ms: u64,
    ) -> Dropped {
        let content = items.join("\n").into_bytes();
        if content.len() as u64 > self.max_bytes {
            return Dropped {
                items: items.len() as u64,
                corrupt_files: 0,
            };
        }
        let name = Name {
            due_ms: millis(due),
            attempt,
            created_ms,
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
        };
        if let Err(e) = self.write(&name.render(), &content) {
            census_core::diagnostics::warn(&format!(
                "Application Insights exporter: could not store a batch for retry: {e}"
            ));
            return Dropped {
                items: items.len() as u64,
                corrupt_files: 0,
            };
        }
        self.evict_for_room(&name)
    }

    /// Drops the oldest unclaimed batches until the store fits its cap.
    fn evict_for_room(&self, keep: &Name) -> Dropped {
        let mut dropped = Dropped::default();
        let mut listing = self.list(SystemTime::now());
        let mut total: u64 = listing.iter().map(|(_, size)| size).sum();
        listing.sort_by_key(|(name, _)| (name.created_ms, name.seq));
        for (name, size) in listing {
            if total <= self.max_bytes {
                break;
            }
            if name == *keep {
                continue;
            }
            dropped.items += self
                .read(&name.render())
                .map_or(0, |bytes| line_count(&bytes));
            self.delete(&name.render());
            total -= size;
        }
        dropped
    }

    /// Claims and returns up to `limit` batches due at `now`, in due order;
    /// expired and unreadable batches are removed on the way.
    pub(crate) fn due(&self, now: SystemTime, limit: usize) -> (Vec<Entry>, Dropped) {
        let mut dropped = Dropped::default();
        let mut entries = Vec::new();
        let mut listing = self.list(now);
        listing.sort_by_key(|(name, _)| (name.due_ms, name.seq));
        let now_ms = millis(now);
        let retention_ms = self.retention.as_millis() as u64;
        for (name, _) in listing {
            if entries.len() >= limit {
                break;
            }
            let file = name.render();
            if name.created_ms.saturating_add(retention_ms) < now_ms {
                dropped.items += self.read(&file).map_or(0, |b| line_count(&b));
                self.delete(&file);
                continue;
            }
            if name.due_ms > now_ms {
                continue;
            }
            let lease = name.lease(now + LEASE);
            if !self.rename(&file, &lease) {
                continue; // another exporter claimed it first
            }
            match self.read(&lease).ok().and_then(|b| parse_items(&b)) {
                Some(items) => entries.push(Entry { name, lease, items }),
                None => {
                    dropped.corrupt_files += 1;
                    self.delete(&lease);
                }
            }
        }
        (entries, dropped)
    }

    /// When the earliest stored batch is due, if any.
    pub(crate) fn next_due(&self) -> Option<SystemTime> {
        let due_ms = self
            .list(SystemTime::now())
            .iter()
            .map(|(name, _)| name.due_ms)
            .min()?;
        Some(UNIX_EPOCH + Duration::from_millis(due_ms))
    }

    /// The folder batches are kept in; `None` when they are in memory,
    /// lost when the process ends.
    pub(crate) fn folder(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Directory(dir) => Some(dir),
            Backend::Memory(_) => None,
        }
    }

    /// Items stored now.
    pub(crate) fn len_items(&self) -> u64 {
        self.list(SystemTime::now())
            .iter()
            .filter_map(|(name, _)| self.read(&name.render()).ok())
            .map(|b| line_count(&b))
            .sum()
    }

    /// Releases a claimed batch for a later try.
    pub(crate) fn reschedule(&self, entry: &Entry, due: SystemTime) {
        let next = Name {
            due_ms: millis(due),
            attempt: entry.name.attempt.saturating_add(1),
            ..entry.name
        };
        self.rename(&entry.lease, &next.render());
    }

    /// Forgets a claimed batch (sent, or refused for good).
    pub(crate) fn remove(&self, entry: &Entry) {
        self.delete(&entry.lease);
    }

    /// Unclaimed batches and their sizes. Expired leases are released on
    /// the way; files census did not write are left alone, except its own
    /// leftovers (temporary files, unparsable `.batch` names).
    fn list(&self, now: SystemTime) -> Vec<(Name, u64)> {
        let now_ms = millis(now);
        let mut out = Vec::new();
        for (file, size, age) in self.files() {
            if let Some(name) = Name::parse(&file) {
                out.push((name, size));
            } else if let Some((name, expires_ms)) = Name::parse_lease(&file) {
                if expires_ms < now_ms && self.rename(&file, &name.render()) {
                    out.push((name, size));
                }
            } else if file.ends_with(SUFFIX) || (file.ends_with(TEMP_SUFFIX) && age > ABANDONED) {
                self.delete(&file);
            }
        }
        out
    }

    /// Every file: name, size and age since its last write.
    fn files(&self) -> Vec<(String, u64, Duration)> {
        match &self.backend {
            Backend::Directory(dir) => fs::read_dir(dir)
                .map(|read| {
                    read.flatten()
                        .map(|e| {
                            let meta = e.metadata().ok();
                            let size = meta.as_ref().map_or(0, fs::Metadata::len);
                            let age = meta
                                .and_then(|m| m.modified().ok())
                                .and_then(|t| t.elapsed().ok())
                                .unwrap_or_default();
                            (e.file_name().to_string_lossy().into_owned(), size, age)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Backend::Memory(map) => map
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(file, bytes)| (file.clone(), bytes.len() as u64, Duration::ZERO))
                .collect(),
        }
    }

    fn read(&self, file: &str) -> std::io::Result<Vec<u8>> {
        match &self.backend {
            Backend::Directory(dir) => fs::read(dir.join(file)),
            Backend::Memory(map) => map
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(file)
                .cloned()
                .ok_or_else(|| std::io::ErrorKind::NotFound.into()),
        }
    }

    fn write(&self, file: &str, content: &[u8]) -> std::io::Result<()> {
        match &self.backend {
            Backend::Directory(dir) => {
                let temp = dir.join(format!("{file}{TEMP_SUFFIX}"));
                let mut options = fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut out = options.open(&temp)?;
                out.write_all(content)?;
                out.sync_all()?;
                fs::rename(&temp, dir.join(file))
            }
            Backend::Memory(map) => {
                map.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(file.to_owned(), content.to_vec());
                Ok(())
            }
        }
    }

    /// Renames atomically; `false` when `from` is gone (claimed by another).
    fn rename(&self, from: &str, to: &str) -> bool {
        match &self.backend {
            Backend::Directory(dir) => fs::rename(dir.join(from), dir.join(to)).is_ok(),
            Backend::Memory(map) => {
                let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
                match map.remove(from) {
                    Some(bytes) => {
                        map.insert(to.to_owned(), bytes);
                        true
                    }
                    None => false,
                }
            }
        }
    }

    fn delete(&self, file: &str) {
        match &self.backend {
            Backend::Directory(dir) => {
                let _ = fs::remove_file(dir.join(file));
            }
            Backend::Memory(map) => {
                map.lock().unwrap_or_else(|p| p.into_inner()).remove(file);
            }
        }
    }
}

fn line_count(bytes: &[u8]) -> u64 {
    if bytes.is_empty() {
        0
    } else {
        bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1
    }
}

/// The items of a batch file, or `None` when any line is not JSON.
fn parse_items(bytes: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.split('\n')
        .map(|line| {
            serde_json::from_str::<serde::de::IgnoredAny>(line)
                .ok()
                .map(|_| line.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(tag: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!(r#"{{"item":"{tag}-{i}"}}"#))
            .collect()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("census-azure-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[cfg(unix)]
    mod private {
        use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

        use super::*;

        /// A fresh stand-in for the temporary directory.
        fn root(name: &str) -> (PathBuf, User) {
            let root = temp_dir(&format!("private-{name}"));
            fs::create_dir_all(&root).unwrap();
            let user = User::current().unwrap();
            (root, user)
        }

        fn mode(path: &Path) -> u32 {
            fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
        }

        fn refusal(result: Result<PathBuf, FolderError>) -> (PathBuf, StorageRefusal) {
            match result {
                Err(FolderError::Refused { path, reason }) => (path, reason),
                other => panic!("not refused: {other:?}"),
            }
        }

        #[test]
        fn the_current_user_is_the_owner_of_what_this_process_creates() {
            let (root, user) = root("uid");
            let made = fs::metadata(&root).unwrap().uid();
            assert_eq!(user, User { uid: made });
            let _ = fs::remove_dir_all(&root);
        }

        #[test]
        fn each_level_is_created_mode_0700_and_accepted_again() {
            let (root, user) = root("fresh");
            let dir = private_folder(&root, user, "k1").unwrap();
            let user_dir = root.join(format!("census-azure-{}", user.uid));
            assert_eq!(dir, user_dir.join("k1"));
            assert_eq!((mode(&user_dir), mode(&dir)), (0o700, 0o700));
            assert_eq!(private_folder(&root, user, "k1").unwrap(), dir);
            let _ = fs::remove_dir_all(&root);
        }

        #[test]
        fn a_folder_another_user_made_first_is_refused() {
            // The folder is this test's; the process pretends to be the
            // next uid, whose folder another user (this one) made first.
            let (root, me) = root("owner");
            let other = User { uid: me.uid + 1 };
            let taken = root.join(format!("census-azure-{}", other.uid));
            private_dir_builder().create(&taken).unwrap();
            let (path, reason) = refusal(private_folder(&root, other, "k1"));
            assert_eq!(
                (path, reason),
                (
                    taken.clone(),
                    StorageRefusal::Owner {
                        owner: me.uid,
                        expected: other.uid
                    }
                )
            );
            assert_eq!(
                reason.to_string(),
                format!(
                    "it belongs to uid {}, not to uid {} that this process runs as",
                    me.uid, other.uid
                )
            );
            assert!(!taken.join("k1").exists(), "nothing created inside");
            let _ = fs::remove_dir_all(&root);
        }

        #[test]
        fn a_symbolic_link_is_refused_even_to_a_private_folder_of_this_user() {
            let (root, user) = root("link");
            let target = root.join("elsewhere");
            private_dir_builder().create(&target).unwrap();
            let link = root.join(format!("census-azure-{}", user.uid));
            symlink(&target, &link).unwrap();
            assert_eq!(
                refusal(private_folder(&root, user, "k1")),
                (link.clone(), StorageRefusal::Symlink)
            );
            // A dangling link too: creating through it would follow it.
            fs::remove_dir(&target).unwrap();
            assert_eq!(
                refusal(private_folder(&root, user, "k1")),
                (link, StorageRefusal::Symlink)
            );
            assert!(!target.exists());
            let _ = fs::remove_dir_all(&root);
        }

        #[test]
        fn a_file_or_a_folder_open_to_others_is_refused_at_either_level() {
            let (root, user) = root("open");
            let user_dir = root.join(format!("census-azure-{}", user.uid));
            fs::write(&user_dir, "").unwrap();
            assert_eq!(
                refusal(private_folder(&root, user, "k1")),
                (user_dir.clone(), StorageRefusal::NotADirectory)
            );
            fs::remove_file(&user_dir).unwrap();
            let dir = private_folder(&root, user, "k1").unwrap();
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(
                refusal(private_folder(&root, user, "k1")),
                (dir, StorageRefusal::OpenToOthers { mode: 0o755 })
            );
            assert_eq!(
                StorageRefusal::OpenToOthers { mode: 0o755 }.to_string(),
                "its mode is 755, open to other users, not 700"
            );
            let _ = fs::remove_dir_all(&root);
        }
    }

    #[test]
    fn batches_come_back_when_due_in_due_order() {
        let store = Store::memory(1 << 20, Duration::from_secs(3600));
        let now = SystemTime::now();
        store.put(&items("late", 1), now + Duration::from_secs(60), 1);
        store.put(&items("b", 2), now - Duration::from_secs(1), 1);
        store.put(&items("a", 1), now - Duration::from_secs(2), 3);
        let (first, _) = store.due(now, 1);
        assert_eq!(first.len(), 1, "no more than the limit");
        store.reschedule(&first[0], now - Duration::from_secs(3));
        let (due, dropped) = store.due(now, usize::MAX);
        assert_eq!(dropped, Dropped::default());
        let got: Vec<_> = due.iter().map(|e| (e.items.clone(), e.attempt())).collect();
        assert_eq!(got, vec![(items("a", 1), 4), (items("b", 2), 1)]);
        store.reschedule(&due[0], now + Duration::from_secs(5));
        store.remove(&due[1]);
        assert_eq!(
            store.len_items(),
            2,
            "the rescheduled batch and the late one"
        );
        let next = store.next_due().unwrap();
        assert!(next > now + Duration::from_secs(4) && next <= now + Duration::from_secs(5));
    }

    #[test]
    fn the_cap_drops_the_oldest_batches_and_counts_their_items() {
        let one = items("old", 3).join("\n").len() as u64;
        let store = Store::memory(one * 2 + 1, Duration::from_secs(3600));
        let now = SystemTime::now();
        assert_eq!(store.put(&items("old", 3), now, 1), Dropped::default());
        assert_eq!(store.put(&items("mid", 3), now, 1), Dropped::default());
        assert_eq!(
            store.put(&items("new", 3), now, 1),
            Dropped {
                items: 3,
                corrupt_files: 0
            }
        );
        let (due, _) = store.due(now, usize::MAX);
        let kept: Vec<_> = due.iter().map(|e| e.items[0].clone()).collect();
        assert_eq!(
            kept,
            vec![items("mid", 1)[0].clone(), items("new", 1)[0].clone()]
        );
        // A batch larger than the whole cap is dropped at once.
        assert_eq!(store.put(&items("huge", 10), now, 1).items, 10);
    }

    #[test]
    fn a_claimed_batch_goes_to_one_taker_only_until_its_lease_expires() {
        let dir = temp_dir("lease");
        let now = SystemTime::now();
        let one = Store::directory(&dir, 1 << 20, Duration::from_secs(3600)).unwrap();
        let two = Store::directory(&dir, 1 << 20, Duration::from_secs(3600)).unwrap();
        one.put(&items("x", 2), now, 1);
        let (first, _) = one.due(now, usize::MAX);
        let (second, _) = two.due(now, usize::MAX);
        assert_eq!(
            (first.len(), second.len()),
            (1, 0),
            "claimed by one store only"
        );
        assert_eq!(two.next_due(), None, "a claimed batch is not listed");
        // The holder died without releasing it: after the lease it returns.
        let (back, _) = two.due(now + LEASE + Duration::from_secs(1), usize::MAX);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].items, items("x", 2));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn replacing_a_batch_keeps_its_age_for_retention() {
        let store = Store::memory(1 << 20, Duration::from_secs(60));
        let start = SystemTime::now();
        store.put(&items("p", 3), start, 1);
        let (due, _) = store.due(start, usize::MAX);
        store.replace(&due[0], &items("p", 3)[1..], start);
        // 61 s after the first try the remainder has expired with its batch.
        let (later, dropped) = store.due(start + Duration::from_secs(61), usize::MAX);
        assert!(later.is_empty());
        assert_eq!(dropped.items, 2);
    }

    #[test]
    fn expired_batches_are_dropped_and_counted() {
        let store = Store::memory(1 << 20, Duration::from_millis(0));
        let now = SystemTime::now();
        store.put(&items("x", 2), now, 1);
        let (due, dropped) = store.due(now + Duration::from_millis(5), usize::MAX);
        assert!(due.is_empty());
        assert_eq!(dropped.items, 2);
    }

    #[test]
    fn directory_store_survives_reopening_and_skips_corrupt_and_partial_files() {
        let dir = temp_dir("reopen");
        let now = SystemTime::now();
        Store::directory(&dir, 1 << 20, Duration::from_secs(3600))
            .unwrap()
            .put(&items("kept", 2), now, 1);
        // A batch cut short by a crash while written, a corrupt batch, and
        // an unrelated file.
        let name = |seq| {
            Name {
                due_ms: 1,
                attempt: 1,
                created_ms: millis(now),
                seq,
            }
            .render()
        };
        let abandoned = dir.join(format!("{}{TEMP_SUFFIX}", name(9)));
        fs::write(&abandoned, "{\"half\":").unwrap();
        let past = SystemTime::now() - ABANDONED - Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&abandoned)
            .unwrap()
            .set_modified(past)
            .unwrap();
        // A write in progress (fresh temporary file) is left alone.
        let in_progress = dir.join(format!("{}{TEMP_SUFFIX}", name(11)));
        fs::write(&in_progress, "{\"half\":").unwrap();
        fs::write(dir.join(name(10)), "{not json").unwrap();
        fs::write(dir.join("README"), "not ours").unwrap();
        let reopened = Store::directory(&dir, 1 << 20, Duration::from_secs(3600)).unwrap();
        let (due, dropped) = reopened.due(now, usize::MAX);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].items, items("kept", 2));
        assert_eq!(
            dropped,
            Dropped {
                items: 0,
                corrupt_files: 1
            }
        );
        let left: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left.len(),
            3,
            "the claimed batch, README and the write in progress: {left:?}"
        );
        assert!(!abandoned.exists() && in_progress.exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
