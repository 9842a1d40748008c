/// A request extension that turns tracing off for one request: put it in
/// the request's extensions (an incoming request's, from an earlier
/// middleware, or an outgoing one's) and no span is recorded, nor any
/// `traceparent` sent.
///
/// ```
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(census_core::http::Untraced);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Untraced;

/// A request extension for one outgoing request: its span is recorded,
/// but no `traceparent` is sent (a third party that must not see ids).
///
/// ```
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(census_core::http::Unpropagated);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unpropagated;
