//! Sends `COUNT` in-process spans (the argument, default 3) to Application
//! Insights with `AzureExporter::from_env()`, waiting up to 10 s for them
//! to be sent (retries included), under the environment it was
//! started with (`APPLICATIONINSIGHTS_AUTHENTICATION_STRING`, the managed
//! identity's variables), and prints the exporter's counts as
//! `sent RETRIED DROPPED`; exits 1 with the error when the exporter
//! cannot be built.

use std::time::Duration;

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(3);
    let exporter = match census::azure::AzureExporter::from_env() {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let stats = exporter.stats();
    let tracer = census::Tracer::builder()
        .exporter_with_operation_names(exporter)
        .install(false)
        .build();
    for i in 0..count {
        let _span = tracer.span(format!("work-{i}"));
    }
    // Waits (up to 10 s) for every span to be sent, retries included.
    tracer
        .provider()
        .force_flush()
        .expect("flushed to the exporter");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stats.sent() < count as u64 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    tracer.shutdown(Duration::from_secs(10)).expect("flushed");
    println!(
        "sent {} {} {}",
        stats.sent(),
        stats.retried(),
        stats.dropped()
    );
}
