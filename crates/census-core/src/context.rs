//! Carrying the current context across tasks.
//!
//! `tokio::spawn` starts the task with an empty OpenTelemetry context, so
//! spans it records would start new operations. [`spawn`] carries it over.

use std::future::Future;

use opentelemetry::context::FutureExt;

/// `tokio::spawn` for a future that runs in the caller's current context,
/// so that its spans are children of the caller's span.
///
/// Like `tokio::spawn`, it must be called from within a tokio runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = census_core::context::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # }
/// ```
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.with_current_context())
}
