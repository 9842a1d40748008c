//! Warnings a user must see even without a `tracing` subscriber.
//!
//! census reports misconfiguration (an unknown integration name, a wrapper
//! used while its integration is off) and lost telemetry (a full batch
//! queue, items the Application Insights exporter dropped) through
//! `tracing` when the application has a subscriber, and on standard error
//! when it has none; every census crate warns through [`warn`],
//! because a Rust program without a subscriber would otherwise never learn
//! why nothing is traced, or why telemetry is missing. Callers keep a
//! warning about configuration to one.

/// Gives `message` as a `tracing` warning, or on standard error when no
/// subscriber would record it.
///
/// ```
/// census_core::diagnostics::warn("the `x` option is ignored: set `y` instead");
/// ```
pub fn warn(message: &str) {
    let subscribed = tracing::dispatcher::get_default(|dispatch| {
        !dispatch.is::<tracing::subscriber::NoSubscriber>()
    });
    if subscribed {
        tracing::warn!("census: {message}");
    } else {
        eprintln!("census: warning: {message}");
    }
}
