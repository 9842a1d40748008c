use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks, SpanProcessor};

use super::{BatchConfig, BatchProcessor};

fn span(name: impl Into<Cow<'static, str>>) -> SpanData {
    SpanData {
        span_context: SpanContext::empty_context(),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Internal,
        name: name.into(),
        start_time: SystemTime::UNIX_EPOCH,
        end_time: SystemTime::UNIX_EPOCH,
        attributes: vec![KeyValue::new("k", "v")],
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: InstrumentationScope::builder("test").build(),
    }
}

/// What an exporter under test saw.
#[derive(Debug, Default)]
struct Seen {
    batches: Vec<Vec<String>>,
    flushes: usize,
    shutdowns: usize,
    suppressed: Vec<bool>,
    service: Option<String>,
}

impl Seen {
    fn names(&self) -> Vec<String> {
        self.batches.concat()
    }
}

/// How the exporter answers its n-th export (from 0).
type Answer = dyn Fn(usize) -> OTelSdkResult + Send + Sync;

/// Where an export tells that it started, and what lets it finish.
type Gate = (SyncSender<()>, Arc<Mutex<Receiver<()>>>);

#[derive(Clone)]
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    answer: Arc<Answer>,
    /// Told of each export as it starts, which then waits for `release`.
    gate: Option<Gate>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    fn new() -> Self {
        Self {
            seen: Arc::default(),
            answer: Arc::new(|_| Ok(())),
            gate: None,
        }
    }

    fn answering(answer: impl Fn(usize) -> OTelSdkResult + Send + Sync + 'static) -> Self {
        Self {
            answer: Arc::new(answer),
            ..Self::new()
        }
    }

    /// The exporter, the receiver of "export started", and the sender that
    /// lets each export finish.
    fn gated() -> (Self, Receiver<()>, SyncSender<()>) {
        let (started, on_start) = sync_channel(16);
        let (release, released) = sync_channel(16);
        let recorder = Self {
            gate: Some((started, Arc::new(Mutex::new(released)))),
            ..Self::new()
        };
        (recorder, on_start, release)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }

    /// Waits up to 10 s for `done` to hold of what the exporter saw.
    fn wait_for(&self, done: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&self.seen()) {
            if Instant::now() >= deadline {
                // Formatted first: a panic while the lock is held would
                // poison it for the export thread too.
                let seen = format!("{:?}", self.seen());
                panic!("still waiting after 10 s: {seen}");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl SpanExporter for Recorder {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some((started, released)) = &self.gate {
            started.send(()).unwrap();
            released.lock().unwrap().recv().unwrap();
        }
        let n = {
            let mut seen = self.seen();
            seen.batches
                .push(batch.iter().map(|s| s.name.to_string()).collect());
            seen.suppressed
                .push(Context::is_current_telemetry_suppressed());
            seen.batches.len() - 1
        };
        (self.answer)(n)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.seen().flushes += 1;
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.seen().shutdowns += 1;
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.seen().service = resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .map(|v| v.to_string());
    }
}

const HOUR: Duration = Duration::from_secs(3600);

fn config(batch: usize) -> BatchConfig {
    BatchConfig::default()
        .max_export_batch_size(batch)
        .scheduled_delay(HOUR)
}

#[test]
fn full_batches_go_out_without_a_flush_and_nothing_is_lost_at_the_boundaries() {
    for batch in [1, 2, 3, 7, 512] {
        for count in [1, batch - 1, batch, batch + 1, 3 * batch + 2] {
            let exporter = Recorder::new();
            let processor = BatchProcessor::new(exporter.clone(), config(batch));
            let names: Vec<String> = (0..count).map(|i| format!("s{i}")).collect();
            for name in &names {
                processor.on_end(span(name.clone()));
            }
            // The full batches leave on their own, whole, however late the
            // export thread wakes; the delay is an hour, so the remainder
            // waits for the flush.
            let full = count / batch * batch;
            exporter.wait_for(|seen| seen.names().len() >= full);
            {
                let seen = exporter.seen();
                assert_eq!(seen.names(), names[..full], "batch {batch}, {count} spans");
                assert!(
                    seen.batches.iter().all(|b| b.len() == batch),
                    "batch {batch}: {:?}",
                    seen.batches
                );
            }
            processor.force_flush().unwrap();
            let seen = exporter.seen();
            assert_eq!(seen.names(), names, "batch {batch}, {count} spans");
            assert_eq!(seen.batches.len(), count.div_ceil(batch));
            assert_eq!(seen.flushes, 1);
        }
    }
}

#[test]
fn the_delay_sends_a_batch_that_is_not_full() {
    let exporter = Recorder::new();
    let processor = BatchProcessor::new(
        exporter.clone(),
        BatchConfig::default().scheduled_delay(Duration::from_millis(20)),
    );
    processor.on_end(span("a"));
    processor.on_end(span("b"));
    exporter.wait_for(|seen| seen.names() == ["a", "b"]);
    assert_eq!(exporter.seen().flushes, 0);
}

#[test]
fn a_full_queue_drops_what_does_not_fit_and_keeps_the_rest() {
    let (exporter, started, release) = Recorder::gated();
    let processor = BatchProcessor::new(exporter.clone(), config(2).max_queue_size(4));
    processor.on_end(span("a"));
    processor.on_end(span("b"));
    // The export thread holds a, b in an export that waits.
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    for name in ["c", "d", "e", "f", "dropped-1", "dropped-2"] {
        processor.on_end(span(name));
    }
    assert_eq!(processor.shared.state().dropped, 2);
    for _ in 0..4 {
        release.send(()).unwrap();
    }
    processor.force_flush().unwrap();
    assert_eq!(exporter.seen().names(), ["a", "b", "c", "d", "e", "f"]);
}

#[test]
fn shutdown_exports_what_is_queued_then_refuses_more() {
    let exporter = Recorder::new();
    let processor = BatchProcessor::new(exporter.clone(), config(512));
    processor.on_end(span("queued"));
    processor
        .shutdown_with_timeout(Duration::from_secs(5))
        .unwrap();
    processor.on_end(span("late"));
    assert!(matches!(
        processor.force_flush(),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    assert!(matches!(
        processor.shutdown_with_timeout(Duration::from_secs(1)),
        Err(OTelSdkError::AlreadyShutdown)
    ));
    let seen = exporter.seen();
    assert_eq!(seen.names(), ["queued"]);
    assert_eq!(seen.shutdowns, 1);
    assert!(processor.worker.lock().unwrap().is_none(), "joined");
}

#[test]
fn shutdown_times_out_on_an_exporter_that_does_not_return() {
    let (exporter, started, release) = Recorder::gated();
    let processor = BatchProcessor::new(exporter, config(1));
    processor.on_end(span("stuck"));
    started.recv_timeout(Duration::from_secs(10)).unwrap();
    let result = processor.shutdown_with_timeout(Duration::from_millis(50));
    assert!(
        matches!(result, Err(OTelSdkError::Timeout(t)) if t == Duration::from_millis(50)),
        "{result:?}"
    );
    release.send(()).unwrap();
}

#[test]
fn a_failing_or_panicking_exporter_does_not_stop_later_batches() {
    let exporter = Recorder::answering(|n| match n {
        0 => Err(OTelSdkError::InternalFailure(
            "ingestion said 500".to_owned(),
        )),
        1 => panic!("exporter bug"),
        _ => Ok(()),
    });
    let processor = BatchProcessor::new(exporter.clone(), config(512));
    processor.on_end(span("first"));
    let first = processor.force_flush().unwrap_err();
    assert_eq!(first.to_string(), "Operation failed: ingestion said 500");
    processor.on_end(span("second"));
    let second = processor.force_flush().unwrap_err();
    assert_eq!(
        second.to_string(),
        "Operation failed: the exporter panicked"
    );
    processor.on_end(span("third"));
    processor.force_flush().unwrap();
    assert_eq!(exporter.seen().names(), ["first", "second", "third"]);
}

#[test]
fn the_exporter_runs_with_telemetry_suppressed_and_gets_the_resource() {
    let exporter = Recorder::new();
    let mut processor = BatchProcessor::new(exporter.clone(), config(512));
    processor.set_resource(
        &Resource::builder_empty()
            .with_service_name("checkout")
            .build(),
    );
    processor.on_end(span("a"));
    processor.force_flush().unwrap();
    let seen = exporter.seen();
    assert_eq!(seen.suppressed, [true]);
    assert_eq!(seen.service.as_deref(), Some("checkout"));
}

#[test]
fn a_processor_dropped_without_shutdown_still_exports_its_queue() {
    let exporter = Recorder::new();
    let processor = BatchProcessor::new(exporter.clone(), config(512));
    processor.on_end(span("queued"));
    drop(processor);
    exporter.wait_for(|seen| seen.shutdowns == 1);
    assert_eq!(exporter.seen().names(), ["queued"]);
}

#[test]
fn concurrent_callers_lose_nothing() {
    let exporter = Recorder::new();
    let processor = Arc::new(BatchProcessor::new(exporter.clone(), config(64)));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let processor = processor.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    processor.on_end(span(format!("t{t}-{i}")));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    processor.force_flush().unwrap();
    let mut names = exporter.seen().names();
    // Each thread's spans stay in its order.
    for t in 0..4 {
        let own: Vec<_> = names
            .iter()
            .filter(|n| n.starts_with(&format!("t{t}-")))
            .cloned()
            .collect();
        let expected: Vec<_> = (0..500).map(|i| format!("t{t}-{i}")).collect();
        assert_eq!(own, expected);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 2000);
}

#[test]
fn the_configuration_comes_from_the_otel_bsp_variables() {
    let vars = |pairs: &[(&str, &str)]| {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        BatchConfig::from_vars(move |name| map.get(name).cloned())
    };
    assert_eq!(vars(&[]), BatchConfig::default());
    let set = vars(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", " 10 "),
        ("OTEL_BSP_SCHEDULE_DELAY", "250"),
    ]);
    assert_eq!(
        (set.queue_size(), set.batch_size(), set.delay()),
        (100, 10, Duration::from_millis(250))
    );
    // A batch larger than the queue is the queue; what is not a number
    // leaves the default.
    let clamped = vars(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
        ("OTEL_BSP_SCHEDULE_DELAY", "5s"),
    ]);
    assert_eq!(
        (clamped.queue_size(), clamped.batch_size(), clamped.delay()),
        (8, 8, Duration::from_secs(5))
    );
    let zero = vars(&[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0")]);
    assert_eq!(zero.batch_size(), 1);
}

#[test]
fn an_empty_wake_up_keeps_the_queue_room_and_debug_leaves_spans_out() {
    let exporter = Recorder::new();
    let processor = BatchProcessor::new(exporter.clone(), config(64));
    processor.force_flush().unwrap();
    assert!(exporter.seen().batches.is_empty());
    assert!(processor.shared.state().queue.capacity() >= 64);
    processor.on_end(span("secret-looking-name"));
    let debug = format!("{processor:?}");
    assert!(
        debug.starts_with("BatchProcessor { config: BatchConfig {"),
        "{debug}"
    );
    assert!(!debug.contains("secret-looking-name"), "{debug}");
}
