//! Delivery off the batch processor's thread: one background thread sends
//! fresh batches first and stored ones in between, so a slow or hanging
//! endpoint costs the processor at most the export wait, never its queue.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::backoff::Backoff;
use crate::exporter::ExportStats;
use crate::sdk_stats::{Code, SdkStats};
use crate::storage::{Dropped, Entry, Store};
use crate::transport::{Outcome, Transport};

/// What the exporter and the delivery thread share.
#[derive(Debug)]
pub(crate) struct Delivery {
    transport: Transport,
    pub(crate) store: Store,
    pub(crate) stats: Arc<ExportStats>,
    /// The statistics reported to the resource; `None` for the delivery
    /// that sends them, which never counts itself.
    pub(crate) sdk_stats: Option<Arc<SdkStats>>,
    backoff: Backoff,
    /// No sends before this: a `Retry-After` or an outage holds back fresh
    /// and stored batches alike.
    not_before: Mutex<SystemTime>,
    state: Mutex<State>,
    /// Wakes the delivery thread: a fresh batch, a stored one, or stop.
    wake: Condvar,
    /// Wakes exporters waiting for their batch to be settled.
    settled: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Set once stopping: the time by which the thread must be done.
    stop: Option<Instant>,
    /// The fresh batch handed over and not yet picked up.
    fresh: Option<Vec<String>>,
    /// The fresh batch being sent, kept so that a shutdown that runs out
    /// of time can store it rather than lose it.
    sending: Option<Arc<Vec<String>>>,
    /// Whether shutdown stored the batch being sent already.
    kept: bool,
    /// Fresh batches handed over and settled (sent, stored or dropped),
    /// as counts: an exporter waits for its own number.
    handed: u64,
    done: u64,
}

impl State {
    /// Whether a stop's deadline has passed.
    fn out_of_time(&self) -> bool {
        self.stop.is_some_and(|deadline| Instant::now() >= deadline)
    }
}

/// Stored batches claimed at once: what a pass holds in memory, and so
/// what a slow endpoint can keep out of the other exporters' reach.
const CLAIM: usize = 4;

/// Fresh items a send left to retry, and when.
#[derive(Debug)]
struct Unsent {
    items: Vec<String>,
    due: SystemTime,
}

impl Unsent {
    fn all(items: &[String], due: SystemTime) -> Self {
        Self {
            items: items.to_vec(),
            due,
        }
    }
}

/// `wait` from now, bounded so that no server answer can overflow a time.
fn after(wait: Duration) -> SystemTime {
    let now = SystemTime::now();
    now.checked_add(wait.min(Duration::from_secs(86_400)))
        .unwrap_or(now)
}

impl Delivery {
    pub(crate) fn new(
        transport: Transport,
        store: Store,
        stats: Arc<ExportStats>,
        sdk_stats: Option<Arc<SdkStats>>,
        backoff: Backoff,
    ) -> Self {
        Self {
            transport,
            store,
            stats,
            sdk_stats,
            backoff,
            not_before: Mutex::new(SystemTime::UNIX_EPOCH),
            state: Mutex::default(),
            wake: Condvar::new(),
            settled: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands fresh items to the delivery thread and waits at most `wait`
    /// for them to be settled. While an earlier batch is still being sent
    /// they are stored instead, due at once, and sent after it.
    pub(crate) fn export(&self, items: Vec<String>, wait: Duration) {
        if items.is_empty() {
            return;
        }
        if let Some(wait) = self.held_back() {
            self.store_for_retry(&items, 1, Some(wait));
            return;
        }
        let mut state = self.state();
        if state.fresh.is_some() || state.sending.is_some() || state.stop.is_some() {
            drop(state);
            self.spill(&items);
            return;
        }
        state.fresh = Some(items);
        state.handed += 1;
        let ticket = state.handed;
        self.wake.notify_all();
        let deadline = Instant::now() + wait;
        while state.done < ticket {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return;
            };
            state = self
                .settled
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn spill(&self, items: &[String]) {
        let dropped = self.store.put(items, SystemTime::now(), 0);
        self.stats
            .spilled
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        self.count_storage_drops(&dropped);
        self.wake.notify_all();
    }

    /// What the storage cap or retention dropped.
    fn count_storage_drops(&self, dropped: &Dropped) {
        self.stats.count_dropped(dropped);
        if let Some(sdk) = &self.sdk_stats {
            sdk.dropped_unread(dropped.items, Code::ClientPersistenceCapacity);
        }
    }

    /// Asks the delivery thread to send what it holds and stop by `deadline`.
    pub(crate) fn stop(&self, deadline: Instant) {
        self.state().stop = Some(deadline);
        self.wake.notify_all();
    }

    /// Stores the fresh batches still held when shutdown runs out of time,
    /// so that the next start sends them. Should the one being sent still
    /// succeed, that is a duplicate rather than a loss; should it fail, it
    /// is not stored twice.
    pub(crate) fn keep_in_flight(&self) {
        let mut state = self.state();
        let sending = state.sending.clone().filter(|_| !state.kept);
        state.kept |= sending.is_some();
        let waiting = state.fresh.take();
        if waiting.is_some() {
            state.done += 1;
            self.settled.notify_all();
        }
        drop(state);
        for items in sending
            .iter()
            .map(|items| items.as_slice())
            .chain(waiting.as_deref())
        {
            self.store_for_retry(items, 1, None);
        }
    }

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

    fn out_of_time(&self) -> bool {
        self.state().out_of_time()
    }

    /// Sends the fresh batch, if one waits; stores it when out of time.
    fn send_fresh(&self) {
        let mut state = self.state();
        let Some(items) = state.fresh.take() else {
            return;
        };
        let late = state.out_of_time();
        let items = Arc::new(items);
        state.sending = Some(items.clone());
        drop(state);
        let unsent = if late {
            Some(Unsent::all(&items, after(self.backoff.wait(1, None))))
        } else {
            self.deliver(&items)
        };
        let kept = std::mem::take(&mut self.state().kept);
        if let Some(unsent) = unsent.filter(|_| !kept) {
            self.store_at(&unsent.items, unsent.due, 1);
        }
        let mut state = self.state();
        state.sending = None;
        state.done += 1;
        self.settled.notify_all();
    }

    /// First try of fresh items; returns those to store for a retry.
    fn deliver(&self, items: &[String]) -> Option<Unsent> {
        if let Some(wait) = self.held_back() {
            return Some(Unsent::all(items, after(self.backoff.wait(1, Some(wait)))));
        }
        match self.transport.send(items) {
            Outcome::Accepted => {
                self.count_sent(items);
                None
            }
            Outcome::Partial { retry, rejected } => Some(Unsent {
                items: self.settle_partial(items, &retry, &rejected),
                due: after(self.backoff.wait(1, None)),
            }),
            Outcome::Retry {
                after,
                reason,
                code,
            } => {
                tracing::debug!("census-azure: will retry {} items: {reason}", items.len());
                self.count_retried(items.iter(), code);
                Some(Unsent::all(items, self.hold_back(1, after)))
            }
            Outcome::Rejected { reason, code } => {
                self.reject(items, code, &reason);
                None
            }
        }
    }

    /// Counts what a 206 accepted and refused; returns the items to retry.
    fn settle_partial(
        &self,
        items: &[String],
        retry: &[(usize, u16)],
        rejected: &[(usize, u16)],
    ) -> Vec<String> {
        let failed = |i: usize| retry.iter().chain(rejected).any(|&(f, _)| f == i);
        let accepted: Vec<String> = (0..items.len())
            .filter(|&i| !failed(i))
            .map(|i| items[i].clone())
            .collect();
        self.count_sent(&accepted);
        if let Some(sdk) = &self.sdk_stats {
            for &(i, status) in rejected {
                sdk.dropped(std::iter::once(&items[i]), Code::Status(status));
            }
        }
        // One warning for the batch, not one per item.
        self.warn_dropped(rejected.len() as u64, "items rejected by ingestion");
        for &(i, status) in retry {
            self.count_retried(std::iter::once(&items[i]), Code::Status(status));
        }
        retry.iter().map(|&(i, _)| items[i].clone()).collect()
    }

    fn count_sent(&self, items: &[String]) {
        self.stats
            .sent
            .fetch_add(items.len() as u64, Ordering::Relaxed);
        if let Some(sdk) = &self.sdk_stats {
            sdk.sent(items);
        }
    }

    fn count_retried<'a>(&self, items: impl IntoIterator<Item = &'a String>, code: Code) {
        if let Some(sdk) = &self.sdk_stats {
            sdk.retried(items, code);
        }
    }

    /// Items lost for good, with why.
    pub(crate) fn reject(&self, items: &[String], code: Code, reason: &str) {
        if let Some(sdk) = &self.sdk_stats {
            sdk.dropped(items, code);
        }
        self.warn_dropped(items.len() as u64, reason);
    }

    /// Counts and reports `count` items lost for good.
    pub(crate) fn warn_dropped(&self, count: u64, reason: &str) {
        if count > 0 {
            self.stats.dropped.fetch_add(count, Ordering::Relaxed);
            census_core::diagnostics::warn(&format!(
                "Application Insights exporter: {count} telemetry items dropped: {reason}"
            ));
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
        self.count_storage_drops(&dropped);
        self.wake.notify_all();
    }

    /// The delivery thread: sends fresh batches, then due stored ones
    /// (also those an earlier run left), then sleeps until the next is
    /// due, something arrives, or stop. Once stopping it makes one last
    /// pass, within the deadline, and ends.
    pub(crate) fn run(&self) {
        loop {
            // Observed before the pass, so that a pass follows every stop.
            let stopping = self.state().stop.is_some();
            self.send_fresh();
            self.resend_due();
            if stopping {
                break;
            }
            // Read the store before locking: exporters wait on this lock.
            let wait = self
                .store
                .next_due()
                .map_or(Duration::from_secs(1), |due| {
                    due.duration_since(SystemTime::now()).unwrap_or_default()
                })
                .clamp(Duration::from_millis(10), Duration::from_secs(1));
            let state = self.state();
            if state.fresh.is_none() && state.stop.is_none() {
                drop(
                    self.wake
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|p| p.into_inner()),
                );
            }
        }
    }

    /// One pass over the due batches, fresh ones first whenever they come;
    /// the first that cannot be sent ends the pass, and the rest wait with
    /// it.
    fn resend_due(&self) {
        loop {
            if self.held_back().is_some() {
                return;
            }
            let (entries, dropped) = self.store.due(SystemTime::now(), CLAIM);
            self.count_storage_drops(&dropped);
            if entries.is_empty() || !self.resend(entries) {
                return;
            }
        }
    }

    /// Sends claimed batches; false when one could not be sent, or time
    /// ran out, and the rest were put back.
    fn resend(&self, entries: Vec<Entry>) -> bool {
        let mut entries = entries.into_iter();
        while let Some(entry) = entries.next() {
            self.send_fresh();
            let hold = if self.out_of_time() {
                Some(SystemTime::now())
            } else {
                self.held_back().map(after)
            };
            if let Some(until) = hold {
                self.store.reschedule(&entry, until);
                entries.for_each(|rest| self.store.reschedule(&rest, until));
                return false;
            }
            match self.transport.send(&entry.items) {
                Outcome::Accepted => {
                    self.store.remove(&entry);
                    self.count_sent(&entry.items);
                }
                Outcome::Partial { retry, rejected } => {
                    let again = self.settle_partial(&entry.items, &retry, &rejected);
                    let due = after(self.backoff.wait(entry.attempt().saturating_add(1), None));
                    let dropped = self.store.replace(&entry, &again, due);
                    self.count_storage_drops(&dropped);
                }
                Outcome::Retry { after, code, .. } => {
                    self.count_retried(entry.items.iter(), code);
                    let until = self.hold_back(entry.attempt().saturating_add(1), after);
                    self.store.reschedule(&entry, until);
                    entries.for_each(|rest| self.store.reschedule(&rest, until));
                    return false;
                }
                Outcome::Rejected { reason, code } => {
                    self.store.remove(&entry);
                    self.reject(&entry.items, code, &reason);
                }
            }
        }
        true
    }
}
