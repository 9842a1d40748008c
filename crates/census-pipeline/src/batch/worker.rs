//! The export thread: waits for a batch, a request or the delay, then
//! hands what is queued to the exporter.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::Shared;

/// What the export thread is asked for, with where to answer.
pub(super) enum Request {
    /// Export everything queued, then flush the exporter.
    Flush(SyncSender<OTelSdkResult>),
    /// Export everything queued, shut the exporter down within the
    /// duration, and stop.
    Shutdown(SyncSender<OTelSdkResult>, Duration),
}

/// The queue and what else the export thread is waiting for.
pub(super) struct State {
    pub(super) queue: Vec<SpanData>,
    /// Spans dropped because the queue was full.
    pub(super) dropped: u64,
    pub(super) requests: Vec<Request>,
    pub(super) resource: Option<Resource>,
    /// No span is queued any more.
    pub(super) shut_down: bool,
    /// The processor is gone without a shutdown: export and stop.
    pub(super) closed: bool,
}

impl State {
    pub(super) fn new(batch_size: usize) -> Self {
        Self {
            queue: Vec::with_capacity(batch_size),
            dropped: 0,
            requests: Vec::new(),
            resource: None,
            shut_down: false,
            closed: false,
        }
    }
}

/// Starts the export thread; `None`, after a warning, when the system
/// will not start one (spans then wait in the queue, which drops the
/// excess, and a flush reports the failure).
pub(super) fn spawn(
    shared: Arc<Shared>,
    exporter: impl SpanExporter + 'static,
) -> Option<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("census-export".to_owned())
        .spawn(move || run(&shared, exporter))
        .inspect_err(|error| {
            census_core::diagnostics::warn(&format!(
                "could not start the export thread ({error}): no span will be exported"
            ));
        })
        .ok()
}

/// What one wake-up took from the shared state.
struct Work {
    spans: Vec<SpanData>,
    requests: Vec<Request>,
    resource: Option<Resource>,
    dropped: u64,
    closed: bool,
}

fn run(shared: &Shared, mut exporter: impl SpanExporter) {
    // The exporter's own HTTP requests must not become spans.
    let _suppressed = Context::enter_telemetry_suppressed_scope();
    let batch_size = shared.config.batch_size();
    let mut deadline = Instant::now() + shared.config.delay();
    let mut warned = false;
    loop {
        let work = next(shared, deadline);
        if let Some(resource) = work.resource {
            exporter.set_resource(&resource);
        }
        let mut result = export(&exporter, work.spans, batch_size, &mut warned);
        deadline = Instant::now() + shared.config.delay();
        let mut stop = work.closed;
        for request in work.requests {
            match request {
                Request::Flush(answer) => {
                    let _ = answer.send(same(&result).and_then(|()| exporter.force_flush()));
                }
                Request::Shutdown(answer, timeout) => {
                    if work.dropped > 0 {
                        census_core::diagnostics::warn(&format!(
                            "{} spans were dropped in all because the export queue was full",
                            work.dropped
                        ));
                    }
                    result = result.and(exporter.shutdown_with_timeout(timeout));
                    let _ = answer.send(same(&result));
                    stop = true;
                }
            }
        }
        if stop {
            if work.closed {
                let _ = exporter.shutdown();
            }
            return;
        }
    }
}

/// Waits until there is a batch, a request, a resource or the deadline,
/// then takes it: every span for a request, the deadline or the end, and
/// only whole batches otherwise.
fn next(shared: &Shared, deadline: Instant) -> Work {
    let batch_size = shared.config.batch_size();
    let mut state = shared.state();
    let mut due = false;
    loop {
        if state.queue.len() >= batch_size
            || !state.requests.is_empty()
            || state.resource.is_some()
            || state.closed
        {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            due = true;
            break;
        }
        state = shared
            .wake
            .wait_timeout(state, deadline - now)
            .map_or_else(|poisoned| poisoned.into_inner().0, |(state, _)| state);
    }
    let all = due || state.closed || !state.requests.is_empty();
    let spans = take(&mut state.queue, batch_size, all);
    Work {
        spans,
        requests: std::mem::take(&mut state.requests),
        resource: state.resource.take(),
        dropped: state.dropped,
        closed: state.closed,
    }
}

/// The spans to export: all of `queue`, or when not `all` its whole
/// batches, so that a busy application sends full batches rather than a
/// full one and a remainder per wake-up (the remainder waits for its
/// batch to fill, or for the delay).
fn take(queue: &mut Vec<SpanData>, batch_size: usize, all: bool) -> Vec<SpanData> {
    let keep = match all {
        true => 0,
        false => queue.len() % batch_size,
    };
    if queue.len() == keep {
        // Nothing to take: the queue keeps its room.
        return Vec::new();
    }
    let mut taken = std::mem::replace(queue, Vec::with_capacity(batch_size));
    queue.extend(taken.drain(taken.len() - keep..));
    taken
}

/// Exports `spans` in batches of at most `batch_size`; the first failure
/// is warned of once per processor (the exporter's own reports say more).
fn export(
    exporter: &impl SpanExporter,
    mut spans: Vec<SpanData>,
    batch_size: usize,
    warned: &mut bool,
) -> OTelSdkResult {
    let mut result = Ok(());
    while !spans.is_empty() {
        let rest = match spans.len() > batch_size {
            true => spans.split_off(batch_size),
            false => Vec::new(),
        };
        // A panicking exporter must not stop the thread: later batches
        // may still go out.
        let exported = catch_unwind(AssertUnwindSafe(|| {
            futures_executor::block_on(exporter.export(spans))
        }))
        .unwrap_or_else(|_| {
            Err(OTelSdkError::InternalFailure(
                "the exporter panicked".to_owned(),
            ))
        });
        if let Err(error) = exported {
            if !std::mem::replace(warned, true) {
                census_core::diagnostics::warn(&format!("exporting spans failed: {error}"));
            }
            result = Err(error);
        }
        spans = rest;
    }
    result
}

/// `result` again: `OTelSdkError` is not `Clone`, and several requests
/// may share one result.
fn same(result: &OTelSdkResult) -> OTelSdkResult {
    match result {
        Ok(()) => Ok(()),
        Err(OTelSdkError::AlreadyShutdown) => Err(OTelSdkError::AlreadyShutdown),
        Err(OTelSdkError::Timeout(after)) => Err(OTelSdkError::Timeout(*after)),
        Err(OTelSdkError::InternalFailure(why)) => Err(OTelSdkError::InternalFailure(why.clone())),
    }
}
