use census_core::http::HttpHooks;
use tower_layer::Layer;

use crate::TraceClient;

/// Wraps an HTTP client service in [`TraceClient`]: one Client span per
/// request.
///
/// ```
/// use tower_layer::Layer;
/// let client = tower::service_fn(|_: http::Request<String>| async {
///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// });
/// let traced = census_hyper::TraceClientLayer::new().layer(client);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceClientLayer {
    hooks: HttpHooks,
}

impl TraceClientLayer {
    /// A layer with the default behaviour described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures which requests are traced (hosts to leave alone), span
    /// names and callbacks.
    ///
    /// ```
    /// use census_core::http::{Exclusions, HttpHooks};
    /// let layer = census_hyper::TraceClientLayer::new()
    ///     .hooks(HttpHooks::new().exclusions(Exclusions::new().host("metadata.internal")));
    /// ```
    pub fn hooks(mut self, hooks: HttpHooks) -> Self {
        self.hooks = hooks;
        self
    }
}

impl<S> Layer<S> for TraceClientLayer {
    type Service = TraceClient<S>;

    fn layer(&self, inner: S) -> TraceClient<S> {
        TraceClient::new(inner).hooks(self.hooks.clone())
    }
}
