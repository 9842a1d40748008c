//! A full log queue drops records rather than block the application, and
//! the drops are counted: the SDK warns when dropping starts and at
//! shutdown with the total, through `tracing`. No self-diagnostic metric
//! of the SDK leaks into the application's metrics.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use census_pipeline::Tracer;
use census_pipeline::testing::SharedBuffer;
use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{BatchConfigBuilder, LogBatch, LogExporter};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;

/// An exporter whose exports wait until it is opened; counts what it got.
#[derive(Debug, Clone, Default)]
struct Gate {
    state: Arc<(Mutex<GateState>, Condvar)>,
}

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    exporting: bool,
    exported: usize,
}

impl Gate {
    fn wait_until_exporting(&self) {
        let (lock, changed) = &*self.state;
        let state = lock.lock().unwrap();
        let (state, timeout) = changed
            .wait_timeout_while(state, Duration::from_secs(10), |s| !s.exporting)
            .unwrap();
        assert!(!timeout.timed_out() && state.exporting, "no export began");
    }

    fn open(&self) {
        let (lock, changed) = &*self.state;
        lock.lock().unwrap().open = true;
        changed.notify_all();
    }

    fn exported(&self) -> usize {
        self.state.0.lock().unwrap().exported
    }
}

impl LogExporter for Gate {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let (lock, changed) = &*self.state;
        let mut state = lock.lock().unwrap();
        state.exporting = true;
        changed.notify_all();
        let mut state = changed.wait_while(state, |s| !s.open).unwrap();
        state.exported += batch.iter().count();
        Ok(())
    }
}

/// The `dropped_logs_count` of the SDK's shutdown warning in `logged`.
fn dropped_count(logged: &str) -> u64 {
    let line = logged
        .lines()
        .find(|l| l.contains("dropped_logs_count="))
        .unwrap_or_else(|| panic!("no count of dropped records in {logged}"));
    let count = line.split("dropped_logs_count=").nth(1).unwrap();
    count
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_full_queue_drops_records_without_blocking_and_counts_every_drop() {
    const WRITTEN: usize = 40;
    let metrics = InMemoryMetricExporter::default();
    let gate = Gate::default();
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(4)
        .with_max_export_batch_size(2)
        .with_scheduled_delay(Duration::from_millis(5))
        .build();
    let tracer = Tracer::builder()
        .metric_exporter(metrics.clone())
        .log_exporter_with(gate.clone(), config)
        .build();
    let logged = SharedBuffer::default();
    let writer = logged.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let logger = tracer.logger_provider().unwrap().logger("shop");
    let write = |n: usize| {
        let mut record = logger.create_log_record();
        record.set_body(format!("order {n}").into());
        logger.emit(record);
    };
    write(0);
    // The exporter holds the first batch; the queue fills behind it, and
    // writing never waits.
    gate.wait_until_exporting();
    let started = std::time::Instant::now();
    for n in 1..WRITTEN {
        write(n);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "writers waited");
    assert!(
        logged
            .text()
            .contains("dropped a LogRecord due to queue full"),
        "a warning when dropping starts: {}",
        logged.text()
    );
    gate.open();
    tracer.shutdown(Duration::from_secs(5)).unwrap();

    let exported = gate.exported();
    let dropped = dropped_count(&logged.text());
    assert!(dropped > 0, "the queue of 4 overflowed");
    assert!(exported >= 4, "{exported} exported");
    assert_eq!(
        exported as u64 + dropped,
        WRITTEN as u64,
        "every record is exported or counted as dropped"
    );
    let names: Vec<String> = metrics
        .get_finished_metrics()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m.scope_metrics()
                .flat_map(|s| s.metrics().map(|m| m.name().to_owned()))
        })
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("otel.sdk")),
        "the SDK's own metrics stay out of the application's: {names:?}"
    );
}
