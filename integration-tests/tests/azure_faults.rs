//! The Application Insights exporter against a local ingestion endpoint
//! that fails in every documented way; counts are checked at the server.
//! The exporter's own statistics are off here: their last report, sent at
//! shutdown, would take a scripted answer (`azure_sdk_stats.rs` tests them).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use census::azure::AzureExporter;
use census_integration_tests::ingestion::{
    Ingestion, Reply, connection_string_for, export_now, internal_spans,
};
use opentelemetry_sdk::trace::SpanExporter as _;
use serde_json::Value;

fn storage(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("census-azure-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// An exporter whose exports wait for their send (longer than its
/// request timeout), so that counts can be checked right after.
fn exporter(connection_string: &str, dir: &PathBuf) -> AzureExporter {
    AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(connection_string)
        .storage_directory(dir)
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .timeout(Duration::from_millis(800))
        .export_wait(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// An exporter that leaves its sends to the delivery thread after 50 ms,
/// with time enough (10 s) for a hanging endpoint to still hold one.
fn impatient(connection_string: &str, dir: &PathBuf) -> AzureExporter {
    AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(connection_string)
        .storage_directory(dir)
        .timeout(Duration::from_secs(10))
        .export_wait(Duration::from_millis(50))
        .build()
        .unwrap()
}

/// How often each item name arrived.
fn arrivals(items: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        let name = item["data"]["baseData"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

fn once_each(tag: &str, indices: impl IntoIterator<Item = usize>) -> BTreeMap<String, usize> {
    indices
        .into_iter()
        .map(|i| (format!("{tag}-{i}"), 1))
        .collect()
}

/// Waits up to five seconds for `done`: counters move after the server has
/// answered, on the exporter's side.
fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// A loopback port with nothing listening: connection refused.
fn closed_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn unavailable_then_recovered_delivers_every_item_once() {
    let server = Ingestion::start();
    server.script([Reply::Status(503, None)]);
    let dir = storage("503");
    let exporter = exporter(&server.connection_string(), &dir);
    export_now(&exporter, internal_spans("a", 10));
    let accepted = server.wait_accepted(10, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("a", 0..10));
    let received = server.received();
    assert_eq!(received.len(), 2, "one refused try, one resend");
    assert!(received.iter().all(|r| r.gzip && r.items.len() == 10));
    let stats = exporter.stats();
    eventually(|| stats.sent() == 10);
    assert_eq!(
        (stats.sent(), stats.retried(), stats.dropped()),
        (10, 10, 0)
    );
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[test]
fn retry_after_is_honoured() {
    let server = Ingestion::start();
    server.script([Reply::Status(429, Some(2))]);
    let dir = storage("429");
    let exporter = exporter(&server.connection_string(), &dir);
    export_now(&exporter, internal_spans("b", 3));
    // Telemetry exported meanwhile waits too: the whole client backs off.
    export_now(&exporter, internal_spans("bb", 2));
    let accepted = server.wait_accepted(5, Duration::from_secs(10));
    let mut expected = once_each("b", 0..3);
    expected.extend(once_each("bb", 0..2));
    let log: Vec<_> = server
        .received()
        .iter()
        .map(|r| (r.at, r.items.len(), r.reply.clone()))
        .collect();
    let stored: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        arrivals(&accepted),
        expected,
        "{log:?} {stored:?} retried={}",
        exporter.stats().retried()
    );
    let received = server.received();
    assert_eq!(received[0].reply, Reply::Status(429, Some(2)));
    for later in &received[1..] {
        let waited = later.at - received[0].at;
        assert!(waited >= Duration::from_secs(2), "sent after {waited:?}");
    }
}

#[test]
fn partial_success_resends_only_the_retryable_failed_items() {
    let server = Ingestion::start();
    server.script([Reply::Partial(vec![(1, 500), (3, 400), (4, 429), (5, 439)])]);
    let dir = storage("206");
    let exporter = exporter(&server.connection_string(), &dir);
    export_now(&exporter, internal_spans("c", 7));
    let accepted = server.wait_accepted(5, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("c", [0, 1, 2, 4, 6]));
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        arrivals(&received[1].items),
        once_each("c", [1, 4]),
        "only 1 and 4 are resent"
    );
    let stats = exporter.stats();
    eventually(|| stats.sent() == 5);
    assert_eq!((stats.sent(), stats.dropped()), (5, 2));
}

#[test]
fn items_stored_while_the_endpoint_is_down_are_sent_after_a_restart() {
    let addr = closed_port();
    let dir = storage("restart");
    let first = exporter(&connection_string_for(addr), &dir);
    export_now(&first, internal_spans("d", 4));
    export_now(&first, internal_spans("e", 2));
    assert_eq!(first.stats().retried(), 6);
    assert_eq!(first.stats().sent(), 0);
    first.shutdown_with_timeout(Duration::from_secs(2)).unwrap();
    drop(first);

    let server = Ingestion::start();
    let second = exporter(&server.connection_string(), &dir);
    let accepted = server.wait_accepted(6, Duration::from_secs(10));
    let mut expected = once_each("d", 0..4);
    expected.extend(once_each("e", 0..2));
    assert_eq!(arrivals(&accepted), expected);
    eventually(|| second.stats().sent() == 6);
    assert_eq!(second.stats().sent(), 6);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.accepted().len(), 6, "nothing is sent twice");
}

#[test]
fn a_full_store_drops_the_oldest_batches_and_counts_them() {
    let addr = closed_port();
    let dir = storage("cap");
    // Room for about two batches of three items.
    let one_batch: u64 = {
        let probe_dir = storage("cap-probe");
        let probe = exporter(&connection_string_for(addr), &probe_dir);
        export_now(&probe, internal_spans("f0", 3));
        probe.shutdown_with_timeout(Duration::from_secs(2)).unwrap();
        let size = std::fs::read_dir(&probe_dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        let _ = std::fs::remove_dir_all(&probe_dir);
        size
    };
    let capped = AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(connection_string_for(addr))
        .storage_directory(&dir)
        .export_wait(Duration::from_secs(5))
        .max_storage_bytes(one_batch * 2 + one_batch / 2)
        // Long enough that nothing is retried while the batches are put,
        // short enough for the restarted exporter to find them due.
        .retry_backoff(Duration::from_secs(1), Duration::from_secs(1))
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    for batch in ["f1", "f2", "f3", "f4"] {
        export_now(&capped, internal_spans(batch, 3));
    }
    let stats = capped.stats();
    assert_eq!(
        (stats.retried(), stats.dropped()),
        (12, 6),
        "f1 and f2 gave way"
    );
    capped
        .shutdown_with_timeout(Duration::from_secs(2))
        .unwrap();
    drop(capped);

    let server = Ingestion::start();
    let _resender = exporter(&server.connection_string(), &dir);
    let accepted = server.wait_accepted(6, Duration::from_secs(10));
    let mut expected = once_each("f3", 0..3);
    expected.extend(once_each("f4", 0..3));
    assert_eq!(arrivals(&accepted), expected, "the newest batches are kept");
}

#[test]
fn a_corrupt_storage_file_is_skipped_and_removed() {
    let addr = closed_port();
    let dir = storage("corrupt");
    let first = exporter(&connection_string_for(addr), &dir);
    export_now(&first, internal_spans("g", 2));
    first.shutdown_with_timeout(Duration::from_secs(2)).unwrap();
    drop(first);
    let stored: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [good] = stored.as_slice() else {
        panic!("{stored:?}")
    };
    // A second batch file with the same naming scheme whose content is garbage.
    let name = good
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace("-000000.batch", "-999999.batch");
    let corrupt = dir.join(name);
    std::fs::write(&corrupt, b"\x00\x01 not json at all").unwrap();

    let server = Ingestion::start();
    let second = exporter(&server.connection_string(), &dir);
    let accepted = server.wait_accepted(2, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("g", 0..2));
    eventually(|| second.stats().corrupt_files() > 0);
    assert_eq!(second.stats().corrupt_files(), 1);
    assert!(!corrupt.exists());
}

#[test]
fn redirects_move_the_endpoint() {
    let server = Ingestion::start();
    server.script([Reply::Redirect("/moved/v2.1/track")]);
    let dir = storage("redirect");
    let exporter = exporter(&server.connection_string(), &dir);
    export_now(&exporter, internal_spans("h", 2));
    export_now(&exporter, internal_spans("i", 1));
    let paths: Vec<String> = server.received().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/v2.1/track", "/moved/v2.1/track", "/moved/v2.1/track"]
    );
    let mut expected = once_each("h", 0..2);
    expected.extend(once_each("i", 0..1));
    assert_eq!(arrivals(&server.accepted()), expected);
}

#[test]
fn non_retryable_answers_drop_and_count() {
    let server = Ingestion::start();
    server.script([
        Reply::Status(400, None),
        Reply::Status(439, None),
        Reply::Status(402, None),
    ]);
    let dir = storage("reject");
    let exporter = exporter(&server.connection_string(), &dir);
    for tag in ["j", "k", "l"] {
        export_now(&exporter, internal_spans(tag, 2));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.received().len(), 3, "never retried");
    assert!(server.accepted().is_empty());
    assert_eq!(
        (exporter.stats().dropped(), exporter.stats().retried()),
        (6, 0)
    );
}

#[test]
fn a_hanging_endpoint_times_out_and_shutdown_keeps_its_deadline() {
    let server = Ingestion::start();
    server.script([Reply::Hang(Duration::from_secs(3))]);
    let dir = storage("hang");
    let exporter = exporter(&server.connection_string(), &dir);
    let started = Instant::now();
    export_now(&exporter, internal_spans("m", 2));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the request timeout bounds the export"
    );
    let accepted = server.wait_accepted(2, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("m", 0..2));

    // An endpoint that hangs during shutdown: the deadline still holds.
    server.script(std::iter::repeat_n(Reply::Hang(Duration::from_secs(5)), 10));
    export_now(&exporter, internal_spans("n", 1));
    let started = Instant::now();
    let _ = exporter.shutdown_with_timeout(Duration::from_millis(500));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?}",
        started.elapsed()
    );
}

#[test]
fn without_storage_items_unsent_at_shutdown_are_counted_as_dropped() {
    let memory_only = AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(connection_string_for(closed_port()))
        .disable_storage()
        .retry_backoff(Duration::from_secs(30), Duration::from_secs(30))
        .timeout(Duration::from_millis(800))
        .export_wait(Duration::from_secs(5))
        .build()
        .unwrap();
    export_now(&memory_only, internal_spans("o", 4));
    assert_eq!(
        (memory_only.stats().retried(), memory_only.stats().dropped()),
        (4, 0)
    );
    memory_only
        .shutdown_with_timeout(Duration::from_secs(2))
        .unwrap();
    assert_eq!(memory_only.stats().dropped(), 4);
}

#[test]
fn exporters_sharing_a_store_send_each_batch_once() {
    let addr = closed_port();
    let dir = storage("shared");
    let first = exporter(&connection_string_for(addr), &dir);
    for tag in ["p", "q", "r", "s"] {
        export_now(&first, internal_spans(tag, 3));
    }
    first.shutdown_with_timeout(Duration::from_secs(2)).unwrap();
    drop(first);

    let server = Ingestion::start();
    let replicas = [
        exporter(&server.connection_string(), &dir),
        exporter(&server.connection_string(), &dir),
    ];
    let accepted = server.wait_accepted(12, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let mut expected = BTreeMap::new();
    for tag in ["p", "q", "r", "s"] {
        expected.extend(once_each(tag, 0..3));
    }
    assert_eq!(
        arrivals(&server.accepted()),
        expected,
        "{} accepted",
        accepted.len()
    );
    let sent = || replicas.iter().map(|r| r.stats().sent()).sum::<u64>();
    eventually(|| sent() == 12);
    assert_eq!(sent(), 12);
}

/// A slow endpoint with the default export wait: the export returns while
/// its batch is still being sent, the next batch is stored meanwhile and
/// sent right after; each item arrives once, and nothing counts as a retry.
#[test]
fn a_slow_endpoint_does_not_hold_up_exports() {
    let server = Ingestion::start();
    server.script([Reply::Slow(Duration::from_millis(1500))]);
    let dir = storage("slow");
    let exporter = AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(server.connection_string())
        .storage_directory(&dir)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    export_now(&exporter, internal_spans("t", 3));
    for batch in 0..4 {
        export_now(&exporter, internal_spans(&format!("u{batch}"), batch + 1));
    }
    let exported = started.elapsed();
    assert!(
        exported < Duration::from_secs(1),
        "exports took {exported:?}"
    );
    let stats = exporter.stats();
    assert_eq!((stats.spilled(), stats.sent()), (10, 0));
    let accepted = server.wait_accepted(13, Duration::from_secs(10));
    let mut expected = once_each("t", 0..3);
    for batch in 0..4 {
        expected.extend(once_each(&format!("u{batch}"), 0..batch + 1));
    }
    assert_eq!(arrivals(&accepted), expected);
    let received = server.received();
    assert_eq!(received.len(), 5, "one request per batch");
    for later in &received[1..] {
        let waited = later.at - received[0].at;
        assert!(
            waited >= Duration::from_millis(1400),
            "sent after {waited:?}: the first send was still on"
        );
    }
    assert!(eventually(|| stats.sent() == 13));
    assert_eq!((stats.retried(), stats.dropped()), (0, 0));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.accepted().len(), 13, "nothing is sent twice");
}

/// Shutdown sends the batch in flight and those stored behind it, even
/// from memory-only storage, before it returns.
#[test]
fn shutdown_sends_the_batch_in_flight_and_those_behind_it() {
    let server = Ingestion::start();
    server.script([
        Reply::Slow(Duration::from_millis(600)),
        Reply::Slow(Duration::from_millis(300)),
    ]);
    let memory_only = AzureExporter::builder()
        .disable_sdk_stats()
        .connection_string(server.connection_string())
        .disable_storage()
        .export_wait(Duration::from_millis(50))
        .build()
        .unwrap();
    export_now(&memory_only, internal_spans("v", 2));
    export_now(&memory_only, internal_spans("w", 1));
    export_now(&memory_only, internal_spans("x", 4));
    let stats = memory_only.stats();
    assert_eq!((stats.sent(), stats.spilled()), (0, 5));
    memory_only
        .shutdown_with_timeout(Duration::from_secs(5))
        .unwrap();
    assert_eq!((stats.sent(), stats.dropped(), stats.retried()), (7, 0, 0));
    let mut expected = once_each("v", 0..2);
    expected.extend(once_each("w", 0..1));
    expected.extend(once_each("x", 0..4));
    assert_eq!(arrivals(&server.accepted()), expected);
}

/// A shutdown that runs out of time while a batch is being sent keeps
/// that batch in storage: the next start sends it.
#[test]
fn a_batch_in_flight_when_shutdown_times_out_is_stored() {
    let server = Ingestion::start();
    server.script([Reply::Hang(Duration::from_secs(3))]);
    let dir = storage("in-flight");
    let first = impatient(&server.connection_string(), &dir);
    export_now(&first, internal_spans("y", 3));
    let started = Instant::now();
    assert!(
        first
            .shutdown_with_timeout(Duration::from_millis(300))
            .is_err()
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert_eq!(first.stats().retried(), 3);
    drop(first);

    let second = exporter(&server.connection_string(), &dir);
    let accepted = server.wait_accepted(3, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("y", 0..3));
    assert!(eventually(|| second.stats().sent() == 3));
}

/// A fresh batch still waiting for the delivery thread, busy with a stored
/// one on a hanging endpoint, when shutdown runs out of time: stored too.
#[test]
fn a_batch_waiting_when_shutdown_times_out_is_stored() {
    let dir = storage("waiting");
    let first = exporter(&connection_string_for(closed_port()), &dir);
    export_now(&first, internal_spans("earlier", 1));
    first.shutdown_with_timeout(Duration::from_secs(2)).unwrap();
    drop(first);

    let server = Ingestion::start();
    server.script([Reply::Hang(Duration::from_secs(3))]);
    let second = impatient(&server.connection_string(), &dir);
    // The stored batch is on its way to the hanging endpoint.
    assert!(eventually(|| server.received().len() == 1));
    export_now(&second, internal_spans("z", 2));
    assert!(
        second
            .shutdown_with_timeout(Duration::from_millis(300))
            .is_err()
    );
    assert_eq!((second.stats().retried(), second.stats().spilled()), (2, 0));
    drop(second);

    let third = exporter(&server.connection_string(), &dir);
    let accepted = server.wait_accepted(2, Duration::from_secs(10));
    assert_eq!(arrivals(&accepted), once_each("z", 0..2));
    assert!(eventually(|| third.stats().sent() == 2));
}
