use census_core::http::HttpHooks;
use tower_layer::Layer;

use crate::Trace;

/// Wraps a service in [`Trace`]: one Server span per request.
///
/// ```
/// use tower_layer::Layer;
/// let handler: axum::routing::MethodRouter = axum::routing::get(|| async { "ok" });
/// let traced: census_tower::Trace<_> = census_tower::TraceLayer::new().layer(handler);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceLayer {
    hooks: HttpHooks,
}

impl TraceLayer {
    /// A layer with the default behaviour described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures which requests are traced, span names and callbacks.
    ///
    /// ```
    /// use census_core::http::{Exclusions, HttpHooks};
    /// let layer = census_tower::TraceLayer::new()
    ///     .hooks(HttpHooks::new().exclusions(Exclusions::new().path("/health")));
    /// ```
    pub fn hooks(mut self, hooks: HttpHooks) -> Self {
        self.hooks = hooks;
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace::new(inner).hooks(self.hooks.clone())
    }
}
