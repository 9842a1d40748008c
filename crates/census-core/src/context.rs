//! The context census spans start in, and carrying it across tasks.
//!
//! The parent of a census span is the current OpenTelemetry context. An
//! application that keeps its trace in `tracing` spans instead (through
//! `tracing-opentelemetry`) leaves that context empty; a
//! [parent source](set_parent_source) — the `census` facade's `tracing`
//! feature installs one — supplies the parent then.
//!
//! `tokio::spawn` starts the task with an empty OpenTelemetry context, so
//! spans it records would start new operations. [`spawn`] carries it over,
//! and [`spawn_blocking`] does for `tokio::task::spawn_blocking` (where
//! synchronous database calls such as diesel's run).

use std::future::Future;
use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::TraceContextExt;

static PARENT_SOURCE: OnceLock<fn() -> Context> = OnceLock::new();

/// Installs where census looks for a parent when the current OpenTelemetry
/// context holds no span, e.g. the current `tracing` span's context. The
/// first source installed stays; returns whether this one was.
///
/// ```
/// fn from_elsewhere() -> opentelemetry::Context { opentelemetry::Context::new() }
/// census_core::context::set_parent_source(from_elsewhere);
/// ```
pub fn set_parent_source(source: fn() -> Context) -> bool {
    PARENT_SOURCE.set(source).is_ok()
}

/// The context a new census span is a child of: the current OpenTelemetry
/// context when it holds a span, otherwise the parent source's.
///
/// ```
/// use opentelemetry::trace::TraceContextExt;
/// assert!(!census_core::context::current().has_active_span());
/// ```
pub fn current() -> Context {
    let cx = Context::current();
    if cx.has_active_span() {
        return cx;
    }
    match PARENT_SOURCE.get() {
        Some(source) => source(),
        None => cx,
    }
}

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
    tokio::spawn(future.with_context(current()))
}

/// `tokio::task::spawn_blocking` for a closure that runs in the caller's
/// current context, so that spans it records (a diesel query) are
/// children of the caller's span. It does what a caller can do by hand:
/// take `Context::current()` before, `let _attached = cx.attach();` inside.
///
/// Like `tokio::task::spawn_blocking`, it must be called from within a
/// tokio runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let handle = census_core::context::spawn_blocking(|| 6 * 7);
/// assert_eq!(handle.await.unwrap(), 42);
/// # }
/// ```
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let cx = current();
    tokio::task::spawn_blocking(move || {
        let _attached = cx.attach();
        f()
    })
}
