//! Batches waiting for another try: files in a bounded directory (kept
//! across restarts), or memory when storage is disabled.
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
use std::io::Write;
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
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
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
            tracing::warn!("census-azure: could not store a batch for retry: {e}");
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

    /// Claims and returns the batches due at `now`, in due order; expired
    /// and unreadable batches are removed on the way.
    pub(crate) fn due(&self, now: SystemTime) -> (Vec<Entry>, Dropped) {
        let mut dropped = Dropped::default();
        let mut entries = Vec::new();
        let mut listing = self.list(now);
        listing.sort_by_key(|(name, _)| (name.due_ms, name.seq));
        let now_ms = millis(now);
        let retention_ms = self.retention.as_millis() as u64;
        for (name, _) in listing {
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

    /// Whether stored batches are lost when the process ends.
    pub(crate) fn is_memory(&self) -> bool {
        matches!(self.backend, Backend::Memory(_))
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

    #[test]
    fn batches_come_back_when_due_in_due_order() {
        let store = Store::memory(1 << 20, Duration::from_secs(3600));
        let now = SystemTime::now();
        store.put(&items("late", 1), now + Duration::from_secs(60), 1);
        store.put(&items("b", 2), now - Duration::from_secs(1), 1);
        store.put(&items("a", 1), now - Duration::from_secs(2), 3);
        let (due, dropped) = store.due(now);
        assert_eq!(dropped, Dropped::default());
        let got: Vec<_> = due.iter().map(|e| (e.items.clone(), e.attempt())).collect();
        assert_eq!(got, vec![(items("a", 1), 3), (items("b", 2), 1)]);
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
        let (due, _) = store.due(now);
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
        let (first, _) = one.due(now);
        let (second, _) = two.due(now);
        assert_eq!(
            (first.len(), second.len()),
            (1, 0),
            "claimed by one store only"
        );
        assert_eq!(two.next_due(), None, "a claimed batch is not listed");
        // The holder died without releasing it: after the lease it returns.
        let (back, _) = two.due(now + LEASE + Duration::from_secs(1));
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].items, items("x", 2));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn replacing_a_batch_keeps_its_age_for_retention() {
        let store = Store::memory(1 << 20, Duration::from_secs(60));
        let start = SystemTime::now();
        store.put(&items("p", 3), start, 1);
        let (due, _) = store.due(start);
        store.replace(&due[0], &items("p", 3)[1..], start);
        // 61 s after the first try the remainder has expired with its batch.
        let (later, dropped) = store.due(start + Duration::from_secs(61));
        assert!(later.is_empty());
        assert_eq!(dropped.items, 2);
    }

    #[test]
    fn expired_batches_are_dropped_and_counted() {
        let store = Store::memory(1 << 20, Duration::from_millis(0));
        let now = SystemTime::now();
        store.put(&items("x", 2), now, 1);
        let (due, dropped) = store.due(now + Duration::from_millis(5));
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
        let (due, dropped) = reopened.due(now);
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
