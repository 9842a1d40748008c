use tower_layer::Layer;

use crate::Trace;

/// Wraps a service in [`Trace`]: one Server span per request.
///
/// ```
/// use tower_layer::Layer;
/// let handler: axum::routing::MethodRouter = axum::routing::get(|| async { "ok" });
/// let traced: census_tower::Trace<_> = census_tower::TraceLayer::new().layer(handler);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceLayer {
    _private: (),
}

impl TraceLayer {
    /// A layer with the default behaviour described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace::new(inner)
    }
}
