//! The delivery thread the span and metric exporters of one connection
//! string share: one queue, one store, one retry schedule, stopped when
//! the last of them shuts down.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::SdkMeterProvider;

use crate::delivery::Delivery;
use crate::sdk_stats::Code;

/// The delivery and its thread, shared by the exporters that send
/// through it.
#[derive(Debug)]
pub(crate) struct Sender {
    pub(crate) delivery: Arc<Delivery>,
    worker: Mutex<Option<JoinHandle<()>>>,
    /// Exporters not shut down yet: the tracer provider shuts its exporter
    /// down before the meter provider's last export, which must still go
    /// out.
    open: AtomicUsize,
    /// The provider that reports this delivery's statistics, shut down
    /// (with a last report) once the delivery has stopped.
    pub(crate) statistics: Mutex<Option<SdkMeterProvider>>,
}

/// One exporter's hold on a [`Sender`].
#[derive(Debug)]
pub(crate) struct Handle {
    pub(crate) sender: Arc<Sender>,
    shut: AtomicBool,
}

impl Sender {
    /// Starts the delivery thread for `delivery`.
    pub(crate) fn start(delivery: Delivery) -> std::io::Result<Handle> {
        let delivery = Arc::new(delivery);
        let worker = {
            let delivery = delivery.clone();
            std::thread::Builder::new()
                .name("census-azure-delivery".into())
                .spawn(move || delivery.run())?
        };
        Ok(Handle {
            sender: Arc::new(Self {
                delivery,
                worker: Mutex::new(Some(worker)),
                open: AtomicUsize::new(1),
                statistics: Mutex::new(None),
            }),
            shut: AtomicBool::new(false),
        })
    }

    /// Sends what is held and stops the thread, within `timeout`.
    fn stop(&self, timeout: Duration) -> OTelSdkResult {
        let deadline = Instant::now() + timeout;
        self.delivery.stop(deadline);
        let Some(worker) = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Ok(());
        };
        while !worker.is_finished() {
            if Instant::now() >= deadline {
                // It ends by itself once its request times out; stored
                // batches stay stored for the next start, and so does
                // the one being sent.
                self.delivery.keep_in_flight();
                return Err(OTelSdkError::Timeout(timeout));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        worker.join().map_err(|_| {
            OTelSdkError::InternalFailure("census-azure delivery thread panicked".into())
        })?;
        let statistics = self
            .statistics
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if self.delivery.store.folder().is_none() {
            let lost = self.delivery.store.len_items();
            if let Some(sdk) = &self.delivery.sdk_stats {
                sdk.dropped_unread(lost, Code::ClientStorageDisabled);
            }
            self.delivery.warn_dropped(
                lost,
                "they were kept in memory only and not sent before shutdown",
            );
        }
        if let Some(statistics) = statistics {
            // The last report, counts of this shutdown included.
            let left = deadline.saturating_duration_since(Instant::now());
            let _ = statistics.shutdown_with_timeout(left.max(Duration::from_millis(100)));
        }
        Ok(())
    }
}

impl Handle {
    /// Another exporter's hold on the same delivery thread.
    pub(crate) fn share(&self) -> Self {
        self.sender.open.fetch_add(1, Ordering::AcqRel);
        Self {
            sender: self.sender.clone(),
            shut: AtomicBool::new(false),
        }
    }

    /// Shuts this exporter's part down: the last one stops the thread
    /// after sending what it holds.
    pub(crate) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        if self.shut.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        if self.sender.open.fetch_sub(1, Ordering::AcqRel) > 1 {
            return Ok(());
        }
        self.sender.stop(timeout)
    }
}

/// An exporter dropped without a shutdown (one built and never installed,
/// e.g. the span exporter when only metrics go to Application Insights)
/// no longer holds the thread open for the others.
impl Drop for Handle {
    fn drop(&mut self) {
        if !self.shut.swap(true, Ordering::AcqRel) {
            self.sender.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.delivery.stop(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backoff::Backoff;
    use crate::storage::Store;
    use crate::transport::Transport;

    fn start() -> Handle {
        let delivery = Delivery::new(
            Transport::new(
                "http://127.0.0.1:9/v2.1/track".parse().unwrap(),
                Duration::from_secs(1),
                None,
            ),
            Store::memory(1 << 20, Duration::from_secs(60)),
            Arc::default(),
            None,
            Backoff::new(Duration::from_secs(1), Duration::from_secs(1)),
        );
        Sender::start(delivery).unwrap()
    }

    fn stopped(handle: &Handle) -> bool {
        handle.sender.worker.lock().unwrap().is_none()
    }

    #[test]
    fn the_thread_stops_when_the_last_exporter_shuts_down() {
        let spans = start();
        let metrics = spans.share();
        spans.shutdown(Duration::from_secs(5)).unwrap();
        assert!(
            !stopped(&metrics),
            "the meter provider's last export is still to come"
        );
        spans.shutdown(Duration::from_secs(5)).unwrap();
        assert!(
            !stopped(&metrics),
            "a second shutdown of one exporter counts once"
        );
        metrics.shutdown(Duration::from_secs(5)).unwrap();
        assert!(stopped(&metrics));
    }

    #[test]
    fn an_exporter_dropped_unused_does_not_hold_the_thread() {
        let spans = start();
        let metrics = spans.share();
        drop(spans);
        metrics.shutdown(Duration::from_secs(5)).unwrap();
        assert!(stopped(&metrics));
    }
}
