//! Batch export off the request path.
//!
//! [`BatchProcessor`] does what the SDK's `BatchSpanProcessor` does, with
//! less work per span: a finished span is moved once, into a queue behind
//! a lock the export thread takes once per batch, and a batch goes to the
//! exporter as the very vector it was queued in. The SDK's processor
//! sends each span through a channel, counts it on an atomic the export
//! thread also writes, receives it into a second vector and copies that
//! into a third for the exporter.

mod config;
mod worker;

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

pub use config::BatchConfig;
use worker::{Request, State};

/// How long [`force_flush`](SpanProcessor::force_flush) waits for the
/// export thread, as the SDK's processor waits.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A span processor that exports finished spans in batches from a thread
/// of its own: recording a span never waits for the exporter, and a full
/// queue drops spans (counted, with a warning) rather than block.
/// [`TracerBuilder::exporter`](crate::TracerBuilder::exporter) puts one
/// in front of each exporter.
///
/// Batches are exported when [`BatchConfig::batch_size`] spans are
/// queued, every [`BatchConfig::delay`], on
/// [`force_flush`](SpanProcessor::force_flush) (which then flushes the
/// exporter) and on shutdown, which exports everything queued before it.
/// The exporter runs with telemetry suppressed, so that its own requests
/// are not traced.
///
/// ```
/// use census_pipeline::batch::{BatchConfig, BatchProcessor};
/// use census_pipeline::export::ConsoleExporter;
/// let processor = BatchProcessor::new(ConsoleExporter::new(), BatchConfig::from_env());
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
///     .with_span_processor(processor)
///     .build();
/// # provider.shutdown().unwrap();
/// ```
pub struct BatchProcessor {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for BatchProcessor {
    // Not the queue: it may hold thousands of spans.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchProcessor")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// What the application's threads and the export thread share.
struct Shared {
    state: Mutex<State>,
    /// Wakes the export thread: a full batch, a request, shutdown.
    wake: Condvar,
    config: BatchConfig,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding it:
        // every change is a single push, take or assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BatchProcessor {
    /// Starts the export thread for `exporter`.
    pub fn new(exporter: impl SpanExporter + 'static, config: BatchConfig) -> Self {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(config.batch_size())),
            wake: Condvar::new(),
            config,
        });
        let worker = worker::spawn(shared.clone(), exporter);
        Self {
            shared,
            worker: Mutex::new(worker),
        }
    }

    /// Asks the export thread for `request`, then waits up to `timeout`
    /// for its answer.
    fn ask(
        &self,
        request: impl FnOnce(SyncSender<OTelSdkResult>) -> Request,
        timeout: Duration,
    ) -> OTelSdkResult {
        let running = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if !running && !self.shared.state().shut_down {
            return Err(OTelSdkError::InternalFailure(
                "census's export thread could not be started: see the warning it gave".to_owned(),
            ));
        }
        let (answer, answered) = sync_channel(1);
        let request = request(answer);
        {
            let mut state = self.shared.state();
            if state.shut_down {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            state.shut_down = matches!(request, Request::Shutdown(..));
            state.requests.push(request);
        }
        self.shared.wake.notify_one();
        wait(&answered, timeout)
    }
}

fn wait(answered: &Receiver<OTelSdkResult>, timeout: Duration) -> OTelSdkResult {
    match answered.recv_timeout(timeout) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Err(OTelSdkError::Timeout(timeout)),
        Err(RecvTimeoutError::Disconnected) => Err(OTelSdkError::InternalFailure(
            "census's export thread stopped before it answered".to_owned(),
        )),
    }
}

impl SpanProcessor for BatchProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let mut state = self.shared.state();
        if state.shut_down {
            return;
        }
        if state.queue.len() >= self.shared.config.queue_size() {
            state.dropped += 1;
            let first = state.dropped == 1;
            drop(state);
            if first {
                census_core::diagnostics::warn(&format!(
                    "the export queue is full ({} spans): spans are dropped until the exporter \
                     catches up; raise OTEL_BSP_MAX_QUEUE_SIZE or find what slows the exporter",
                    self.shared.config.queue_size()
                ));
            }
            return;
        }
        state.queue.push(span);
        let full = state.queue.len() == self.shared.config.batch_size();
        drop(state);
        if full {
            self.shared.wake.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.ask(Request::Flush, FLUSH_TIMEOUT)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.ask(|answer| Request::Shutdown(answer, timeout), timeout);
        if result.is_ok() {
            let worker = self
                .worker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            // It has answered: it is returning.
            if let Some(worker) = worker {
                let _ = worker.join();
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.shared.state().resource = Some(resource.clone());
        self.shared.wake.notify_one();
    }
}

impl Drop for BatchProcessor {
    /// Without a shutdown (a provider dropped by hand), the export thread
    /// still exports what is queued, then stops; nothing waits for it.
    fn drop(&mut self) {
        let mut state = self.shared.state();
        if !state.shut_down {
            state.shut_down = true;
            state.closed = true;
        }
        drop(state);
        self.shared.wake.notify_one();
    }
}

#[cfg(test)]
mod tests;
