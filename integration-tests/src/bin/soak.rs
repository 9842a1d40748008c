//! The fault soak of `scripts/soak`: the Application Insights exporter,
//! in a producer process, against the local ingestion server cycling
//! through 200, 503, 429 with `Retry-After`, 206, hanging and down, while
//! the producer emits spans with known names. Midway the producer is
//! killed with SIGKILL and started again on the same storage folder.
//! Every item is then counted: produced, accepted, duplicated, lost, and
//! how many were only in the killed process's memory (the one acceptable
//! loss). Exits non-zero when a stored item is lost or duplicates exceed
//! 0.1%.
//!
//! `soak [SECONDS]` runs it (default 240); `soak produce ADDR DIR FROM
//! COUNT LINGER` is the producer.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use census::azure::AzureExporter;
use census::batch::BatchConfig;
use census_integration_tests::ingestion::{Ingestion, Reply, connection_string_for};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;

/// Spans per second from each producer.
const RATE: u64 = 400;
/// How long each fault lasts.
const PHASE: Duration = Duration::from_secs(4);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("produce") => produce(&args[1..]),
        seconds => {
            let seconds = seconds.map_or(Ok(240), str::parse).unwrap_or_else(|_| {
                eprintln!("usage: soak [SECONDS] | soak produce ADDR DIR FROM COUNT LINGER");
                std::process::exit(2)
            });
            std::process::exit(soak(Duration::from_secs(seconds)));
        }
    }
}

/// Emits `COUNT` spans named `soak-{FROM + i}`, printing each number once
/// its span has ended, keeps resending what it stored for `LINGER`
/// seconds, then flushes and exits.
fn produce(args: &[String]) {
    let [addr, dir, from, count, linger] = args else {
        panic!("produce ADDR DIR FROM COUNT LINGER");
    };
    let linger = Duration::from_secs(linger.parse().expect("LINGER"));
    let addr: SocketAddr = addr.parse().expect("ADDR");
    let (from, count): (u64, u64) = (from.parse().expect("FROM"), count.parse().expect("COUNT"));
    let exporter = AzureExporter::builder()
        .connection_string(connection_string_for(addr))
        .storage_directory(dir)
        .timeout(Duration::from_secs(1))
        .retry_backoff(Duration::from_millis(200), Duration::from_secs(2))
        .build()
        .expect("exporter");
    let processor = BatchConfig::default()
        .scheduled_delay(Duration::from_millis(250))
        .processor(exporter);
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("soak");
    let start = Instant::now();
    for i in 0..count {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        tracer.start(format!("soak-{}", from + i)).end();
        println!("{}", from + i);
    }
    std::thread::sleep(linger);
    provider.shutdown().expect("flush at the end");
}

/// The faults, in turn.
fn faults() -> [(&'static str, Option<Reply>); 6] {
    [
        ("200", Some(Reply::Accept)),
        ("503", Some(Reply::Status(503, None))),
        ("429 Retry-After: 1", Some(Reply::Status(429, Some(1)))),
        ("206", Some(Reply::Partial(vec![(0, 500), (1, 503)]))),
        ("hang", Some(Reply::Hang(Duration::from_secs(3)))),
        ("down", None),
    ]
}

fn soak(length: Duration) -> i32 {
    let dir = std::env::temp_dir().join(format!("census-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = Ingestion::start();
    let addr = first.addr();
    let server = Arc::new(Mutex::new(Some(first)));
    let accepted = Arc::new(Mutex::new(Vec::<Value>::new()));
    let produced = Arc::new(Mutex::new(BTreeSet::<u64>::new()));

    // Half the run each; the first is killed before it is done.
    let per_producer = RATE * length.as_secs() / 2;
    let faults_until = Instant::now() + length;
    let cycle = {
        let (server, accepted) = (server.clone(), accepted.clone());
        std::thread::spawn(move || cycle_faults(addr, &server, &accepted, faults_until))
    };

    let mut producer = spawn(addr, &dir, [0, per_producer * 2, 0], &produced);
    std::thread::sleep(length / 2);
    producer.kill().expect("SIGKILL the producer");
    producer.wait().expect("reap");
    std::thread::sleep(Duration::from_millis(200));
    let at_kill: BTreeSet<u64> = produced.lock().unwrap().clone();
    let stored = stored_names(&dir);
    let accepted_at_kill = names(&snapshot(&server, &accepted));
    let in_memory: BTreeSet<u64> = at_kill
        .iter()
        .filter(|i| !stored.contains(i) && !accepted_at_kill.contains_key(i))
        .copied()
        .collect();
    let next = at_kill.last().map_or(0, |last| last + 1);
    println!(
        "soak: killed the producer after {} spans: {} accepted, {} stored, {} only in memory",
        at_kill.len(),
        accepted_at_kill.len(),
        stored.len(),
        in_memory.len()
    );

    let mut producer = spawn(addr, &dir, [next, per_producer, 0], &produced);
    cycle.join().expect("fault cycle");
    let status = producer.wait().expect("second producer");
    // What is still stored is resent by a third exporter on the folder;
    // batches the killed one was sending come back when their two-minute
    // leases expire.
    let mut drainer = spawn(addr, &dir, [0, 0, 300], &produced);
    let deadline = Instant::now() + Duration::from_secs(240);
    let produced = produced.lock().unwrap().clone();
    let mut arrived = names(&snapshot(&server, &accepted));
    let settled = |arrived: &BTreeMap<u64, usize>| {
        produced
            .iter()
            .all(|i| arrived.contains_key(i) || in_memory.contains(i))
    };
    while !settled(&arrived) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
        arrived = names(&snapshot(&server, &accepted));
    }
    let _ = drainer.kill();
    let _ = drainer.wait();

    let lost: Vec<u64> = produced
        .iter()
        .filter(|i| !arrived.contains_key(i))
        .copied()
        .collect();
    let lost_stored = lost.iter().filter(|i| !in_memory.contains(i)).count();
    let duplicates: usize = arrived.values().map(|n| n - 1).sum();
    let unknown = arrived.keys().filter(|i| !produced.contains(i)).count();
    let share = duplicates as f64 / produced.len().max(1) as f64;
    println!(
        "soak: produced {}, accepted {} distinct, duplicated {} ({:.3}%), lost {} (of them only in memory at the kill: {}, stored or sent: {}), never produced {}; second producer {status}",
        produced.len(),
        arrived.len(),
        duplicates,
        share * 100.0,
        lost.len(),
        lost.len() - lost_stored,
        lost_stored,
        unknown,
    );
    let _ = std::fs::remove_dir_all(&dir);
    if lost_stored > 0 || share > 0.001 || unknown > 0 {
        println!("soak: FAILED (target: no stored item lost, duplicates ≤ 0.1%)");
        1
    } else {
        println!("soak: ok");
        0
    }
}

/// A producer of `[from, count, linger]`.
fn spawn(
    addr: SocketAddr,
    dir: &Path,
    [from, count, linger]: [u64; 3],
    produced: &Arc<Mutex<BTreeSet<u64>>>,
) -> Child {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["produce", &addr.to_string(), &dir.display().to_string()])
        .args([from, count, linger].map(|n| n.to_string()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the producer");
    let stdout = child.stdout.take().expect("piped");
    let produced = produced.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(i) = line.parse() {
                produced.lock().unwrap().insert(i);
            }
        }
    });
    child
}

/// Switches the server's answer every `PHASE`, stopping and restarting it
/// on the same address for "down", until `until`; then accepts.
fn cycle_faults(
    addr: SocketAddr,
    server: &Mutex<Option<Ingestion>>,
    accepted: &Mutex<Vec<Value>>,
    until: Instant,
) {
    for (name, reply) in faults().into_iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        println!("soak: {name}");
        match reply {
            Some(reply) => {
                let mut slot = server.lock().unwrap();
                let live = slot.get_or_insert_with(|| Ingestion::start_on(addr));
                live.reply_otherwise(reply);
            }
            None => {
                if let Some(down) = server.lock().unwrap().take() {
                    accepted.lock().unwrap().extend(down.accepted());
                }
            }
        }
        std::thread::sleep(PHASE);
    }
    let mut slot = server.lock().unwrap();
    slot.get_or_insert_with(|| Ingestion::start_on(addr))
        .reply_otherwise(Reply::Accept);
}

/// Every item accepted so far, by any server instance.
fn snapshot(server: &Mutex<Option<Ingestion>>, accepted: &Mutex<Vec<Value>>) -> Vec<Value> {
    let mut all = accepted.lock().unwrap().clone();
    if let Some(live) = server.lock().unwrap().as_ref() {
        all.extend(live.accepted());
    }
    all
}

/// How often each `soak-{i}` arrived.
fn names(items: &[Value]) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        if let Some(i) = number(item) {
            *counts.entry(i).or_insert(0) += 1;
        }
    }
    counts
}

fn number(item: &Value) -> Option<u64> {
    item["data"]["baseData"]["name"]
        .as_str()?
        .strip_prefix("soak-")?
        .parse()
        .ok()
}

/// The items in the storage folder's batch files (leased ones included).
fn stored_names(dir: &Path) -> BTreeSet<u64> {
    let mut found = BTreeSet::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                found.extend(
                    text.lines()
                        .filter_map(|line| serde_json::from_str(line).ok())
                        .filter_map(|item: Value| number(&item)),
                );
            }
        }
    }
    found
}
