//! The load test of `scripts/load`: an axum server (`GET /` answering
//! `Hello World!`) in a child process, driven over loopback by a closed
//! loop of concurrent clients (the highest rate the machine sustains), for
//! SECONDS in each of four runs:
//! - without census;
//! - with census's tower layer, exporting to a local Application Insights
//!   endpoint that accepts at once;
//! - the same, with the SDK's `BatchSpanProcessor` built by hand in place
//!   of the one census's builder puts in front of each exporter (the
//!   comparison that decided census's processor, kept as a check);
//! - the same with metrics on: every request also measured
//!   (`http.server.request.duration`, `http.server.active_requests`) and
//!   sent as Application Insights standard metrics through the same
//!   delivery thread (the runs above have no meter provider, so nothing
//!   is measured);
//! - the same, with the endpoint taking 2 s per request;
//! - the same, with the endpoint down.
//!
//! For each run: requests/s, p50 and p99 latency, the server's resident
//! memory before and after the load (and its peak), and spans ended,
//! handed to the exporter, and dropped by the batch processor (the
//! difference, counted in the server), and the exporter's own counts:
//! items sent, spilled to storage while a send was on, and dropped. Then
//! the ratios: instrumented vs
//! bare, metrics on vs off, and slow or down ingestion vs healthy (target:
//! p99 within 10%).
//!
//! `load [SECONDS]` runs it (default 60); `load serve
//! bare|traced|traced-sdk|traced-metrics ADDR` is the server.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use census::azure::AzureExporter;
use census_integration_tests::ingestion::{Ingestion, Reply, connection_string_for};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor};

/// Clients sending at once, each waiting for its answer before the next.
const CONCURRENCY: usize = 32;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        seconds => {
            let seconds = seconds.map_or(Ok(60), str::parse).unwrap_or_else(|_| {
                eprintln!(
                    "usage: load [SECONDS] | load serve bare|traced|traced-sdk|traced-metrics|traced-fixed-10|traced-rate-5 ADDR"
                );
                std::process::exit(2)
            });
            run(Duration::from_secs(seconds));
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    ended: AtomicU64,
    exported: AtomicU64,
}

/// Counts every span that ends, before any processor can drop it.
#[derive(Debug)]
struct CountEnded(Arc<Counts>);

impl SpanProcessor for CountEnded {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, _span: SpanData) {
        self.0.ended.fetch_add(1, Ordering::Relaxed);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Counts the spans the batch processor hands to the exporter.
#[derive(Debug)]
struct CountExported<E>(E, Arc<Counts>);

impl<E: SpanExporter> SpanExporter for CountExported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.1
            .exported
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.0.export(batch).await
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

/// The server: prints `listening ADDR`, serves until its standard input
/// closes, flushes, and prints `spans ENDED EXPORTED SENT SPILLED DROPPED`
/// (the last three from the exporter's stats).
fn serve(args: &[String]) {
    let [mode, ingestion] = args else {
        panic!("serve bare|traced|traced-sdk|traced-metrics|traced-fixed-10|traced-rate-5 ADDR");
    };
    let traced = mode != "bare";
    let ingestion: SocketAddr = ingestion.parse().expect("ingestion ADDR");
    let counts = Arc::new(Counts::default());
    let storage = std::env::temp_dir().join(format!("census-load-{}", std::process::id()));
    let mut stats = None;
    let tracer = traced.then(|| {
        let mut exporter = AzureExporter::builder()
            .connection_string(connection_string_for(ingestion))
            .storage_directory(&storage)
            .build()
            .expect("exporter");
        stats = Some(exporter.stats());
        let mut builder = census::Tracer::builder().span_processor(CountEnded(counts.clone()));
        match mode.as_str() {
            "traced-metrics" => builder = builder.metric_exporter(exporter.metric_exporter()),
            "traced-fixed-10" => {
                builder = builder
                    .sampler(census::sampling::ProbabilitySampler::new(0.1).expect("a rate"));
            }
            "traced-rate-5" => {
                builder = builder
                    .sampler(census::sampling::RateLimitedSampler::new(5.0).expect("a target"));
            }
            _ => {}
        }
        let exporter = CountExported(exporter, counts.clone());
        if mode == "traced-sdk" {
            builder.span_processor(census::operation::OperationNameProcessor::new(
                BatchSpanProcessor::builder(exporter).build(),
            ))
        } else {
            builder.exporter_with_operation_names(exporter)
        }
        .build()
    });
    if traced {
        census::config_integration::try_trace_integrations(&["tower"]).expect("tower");
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let app = Router::new().route("/", get(|| async { "Hello World!" }));
        let app = if traced {
            app.layer(census::tower::TraceLayer::new())
        } else {
            app
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("listening {}", listener.local_addr().expect("address"));
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stdin_closed.await;
            })
            .await
            .expect("serve");
    });
    if let Some(tracer) = tracer {
        let _ = tracer.shutdown(Duration::from_secs(10));
    }
    let _ = std::fs::remove_dir_all(&storage);
    let (sent, spilled, dropped) =
        stats.map_or((0, 0, 0), |s| (s.sent(), s.spilled(), s.dropped()));
    println!(
        "spans {} {} {sent} {spilled} {dropped}",
        counts.ended.load(Ordering::Relaxed),
        counts.exported.load(Ordering::Relaxed)
    );
}

/// What one run measured.
struct Measured {
    name: &'static str,
    requests_per_second: f64,
    p50: Duration,
    p99: Duration,
    failed: u64,
    rss_before_kib: u64,
    rss_after_kib: u64,
    rss_peak_kib: u64,
    spans: Option<[u64; 5]>,
}

fn run(length: Duration) {
    let ingestion = Ingestion::start();
    ingestion.discard_items();
    let down = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        closed.local_addr().expect("address")
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut results = Vec::new();
    for (name, mode, reply, target) in [
        ("bare", "bare", Reply::Accept, ingestion.addr()),
        (
            "census, ingestion healthy",
            "traced",
            Reply::Accept,
            ingestion.addr(),
        ),
        (
            "census with the SDK's BatchSpanProcessor, ingestion healthy",
            "traced-sdk",
            Reply::Accept,
            ingestion.addr(),
        ),
        (
            "census with metrics, ingestion healthy",
            "traced-metrics",
            Reply::Accept,
            ingestion.addr(),
        ),
        (
            "census sampling 10% (microsoft.fixed_percentage), ingestion healthy",
            "traced-fixed-10",
            Reply::Accept,
            ingestion.addr(),
        ),
        (
            "census sampling at most 5/s (microsoft.rate_limited), ingestion healthy",
            "traced-rate-5",
            Reply::Accept,
            ingestion.addr(),
        ),
        (
            "census, ingestion 2 s per request",
            "traced",
            Reply::Slow(Duration::from_secs(2)),
            ingestion.addr(),
        ),
        ("census, ingestion down", "traced", Reply::Accept, down),
    ] {
        ingestion.reply_otherwise(reply);
        eprintln!("load: {name}, {} s", length.as_secs());
        results.push(runtime.block_on(measure(name, mode, target, length)));
    }
    report(&results);
}

async fn measure(
    name: &'static str,
    mode: &str,
    ingestion: SocketAddr,
    length: Duration,
) -> Measured {
    let traced = mode != "bare";
    let (mut server, mut stdout, addr) = start_server(mode, ingestion);
    // Warm up connections, allocator and caches before the first reading.
    drive(addr, Duration::from_secs(3)).await;
    let rss_before_kib = status_kib(server.id(), "VmRSS");
    let (latencies, failed, elapsed) = drive(addr, length).await;
    let rss_after_kib = status_kib(server.id(), "VmRSS");
    let rss_peak_kib = status_kib(server.id(), "VmHWM");
    drop(server.stdin.take());
    let mut line = String::new();
    let mut spans = None;
    while stdout.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(rest) = line.trim().strip_prefix("spans ") {
            let numbers: Vec<u64> = rest.split(' ').filter_map(|n| n.parse().ok()).collect();
            spans = numbers.try_into().ok().filter(|_| traced);
        }
        line.clear();
    }
    server.wait().expect("server exit");
    Measured {
        name,
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        failed,
        rss_before_kib,
        rss_after_kib,
        rss_peak_kib,
        spans,
    }
}

fn start_server(mode: &str, ingestion: SocketAddr) -> (Child, BufReader<ChildStdout>, SocketAddr) {
    let mut server = Command::new(std::env::current_exe().expect("own path"))
        .args(["serve", mode, &ingestion.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut stdout = BufReader::new(server.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("server output");
    let addr = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("the server said {line:?}"));
    (server, stdout, addr)
}

/// `CONCURRENCY` clients sending `GET /` for `length`: every latency (µs),
/// failures, and the time it took.
async fn drive(addr: SocketAddr, length: Duration) -> (Vec<u32>, u64, Duration) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("uri");
    let start = Instant::now();
    let until = start + length;
    let failed = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, uri, failed) = (client.clone(), uri.clone(), failed.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let sent = Instant::now();
                    let ok = match client.get(uri.clone()).await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            ok && response.into_body().collect().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.expect("client task"));
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    (all, failed.load(Ordering::Relaxed), elapsed)
}

fn percentile(sorted: &[u32], p: f64) -> Duration {
    let at = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    Duration::from_micros(sorted.get(at).copied().unwrap_or(0).into())
}

/// A `/proc/PID/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

fn report(results: &[Measured]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| run | requests/s | p50 | p99 | failed | RSS before → after (peak) | spans ended / exported / dropped by the processor | items sent / spilled to storage / dropped by the exporter |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for m in results {
        let (spans, items) = m.spans.map_or(
            ("—".into(), "—".into()),
            |[ended, exported, sent, spilled, dropped]| {
                (
                    format!("{ended} / {exported} / {}", ended.saturating_sub(exported)),
                    format!("{sent} / {spilled} / {dropped}"),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} → {} MiB ({}) | {spans} | {items} |",
            m.name,
            m.requests_per_second,
            m.p50.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3,
            m.failed,
            m.rss_before_kib / 1024,
            m.rss_after_kib / 1024,
            m.rss_peak_kib / 1024,
        );
    }
    let [bare, healthy, sdk, metrics, fixed, limited, slow, down] = results else {
        return;
    };
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    for m in [healthy, sdk, metrics, fixed, limited] {
        let _ = writeln!(
            out,
            "{} vs bare: requests/s {:.3}×, p50 {:.3}×, p99 {:.3}×",
            m.name,
            m.requests_per_second / bare.requests_per_second,
            ratio(m.p50, bare.p50),
            ratio(m.p99, bare.p99),
        );
    }
    let _ = writeln!(
        out,
        "metrics on vs off: requests/s {:.3}×, p50 {:.3}×, p99 {:.3}×",
        metrics.requests_per_second / healthy.requests_per_second,
        ratio(metrics.p50, healthy.p50),
        ratio(metrics.p99, healthy.p99),
    );
    for m in [slow, down] {
        let moved = ratio(m.p99, healthy.p99);
        let verdict = if moved <= 1.10 { "within" } else { "MISSES" };
        let _ = writeln!(
            out,
            "{} vs healthy: p99 {moved:.3}× ({verdict} the 10% target), requests/s {:.3}×",
            m.name,
            m.requests_per_second / healthy.requests_per_second,
        );
    }
}
