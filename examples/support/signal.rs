//! The signals that stop the axum example.

use tokio::signal::unix::{SignalKind, signal};

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn stop() {
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(error) => {
            eprintln!("no SIGTERM handler ({error}); stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
