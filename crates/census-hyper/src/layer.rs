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
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceClientLayer {
    _private: (),
}

impl TraceClientLayer {
    /// A layer with the default behaviour described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for TraceClientLayer {
    type Service = TraceClient<S>;

    fn layer(&self, inner: S) -> TraceClient<S> {
        TraceClient::new(inner)
    }
}
