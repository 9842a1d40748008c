use super::RequestInfo;

/// Requests that are not traced, like OpenCensus's `EXCLUDELIST_PATHS`
/// (for servers) and `EXCLUDELIST_HOSTNAMES` (for clients).
///
/// - A path excludes incoming requests: matched exactly (`/health` excludes `/health` only), or as
///   a prefix when it ends with `*` (`/static/*` excludes everything
///   under `/static/`).
/// - A host excludes outgoing requests: matched by name (`metadata.internal` excludes it on every
///   port), or by name and port (`localhost:9000`); case is ignored.
///
/// ```
/// use census_core::http::{Exclusions, RequestInfo};
/// let excluded = Exclusions::new().path("/health").path("/static/*").host("localhost:9000");
/// let headers = |_: &str| None;
/// let at = |path, host| RequestInfo::new(&http::Method::GET, path, Some(host), &headers);
/// assert!(excluded.excludes_incoming(&at("/health", "shop.local")));
/// assert!(!excluded.excludes_incoming(&at("/healthz", "shop.local")));
/// assert!(excluded.excludes_incoming(&at("/static/app.js", "shop.local")));
/// assert!(excluded.excludes_outgoing(&at("/", "LOCALHOST:9000")));
/// assert!(!excluded.excludes_outgoing(&at("/", "localhost:9001")));
/// // Each applies to its own side only.
/// assert!(!excluded.excludes_outgoing(&at("/health", "shop.local")));
/// assert!(!excluded.excludes_incoming(&at("/", "localhost:9000")));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    exact: Vec<String>,
    prefixes: Vec<String>,
    hosts: Vec<String>,
}

impl Exclusions {
    /// Nothing excluded.
    pub fn new() -> Self {
        Self::default()
    }

    /// Excludes `path`: exactly, or every path it starts when it ends
    /// with `*`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        match path.strip_suffix('*') {
            Some(prefix) => self.prefixes.push(prefix.to_owned()),
            None => self.exact.push(path),
        }
        self
    }

    /// Excludes `host` (a name, on every port) or `host:port`.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into().to_ascii_lowercase());
        self
    }

    /// Whether nothing is excluded.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty() && self.hosts.is_empty()
    }

    /// Whether an incoming request (a server's) is excluded: by its path.
    pub fn excludes_incoming(&self, request: &RequestInfo<'_>) -> bool {
        let path = request.path();
        self.exact.iter().any(|p| p == path)
            || self.prefixes.iter().any(|p| path.starts_with(p.as_str()))
    }

    /// Whether an outgoing request (a client's) is excluded: by the host
    /// it goes to.
    pub fn excludes_outgoing(&self, request: &RequestInfo<'_>) -> bool {
        let (Some(authority), Some(name)) = (request.authority(), request.host_name()) else {
            return false;
        };
        self.hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(authority) || h.eq_ignore_ascii_case(name))
    }
}
