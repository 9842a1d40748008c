use std::fmt;

/// The parts of an HTTP request that hooks see, whatever the library:
/// method, path, the host it is addressed to, and its headers by name.
///
/// ```
/// use census_core::http::RequestInfo;
/// let headers = |name: &str| (name == "user-agent").then_some("curl/8");
/// let request = RequestInfo::new(&http::Method::GET, "/users/7", Some("shop.local:8080"), &headers);
/// assert_eq!(request.host_name(), Some("shop.local"));
/// assert_eq!(request.header("user-agent"), Some("curl/8"));
/// ```
#[derive(Clone, Copy)]
pub struct RequestInfo<'a> {
    method: &'a http::Method,
    path: &'a str,
    authority: Option<&'a str>,
    headers: &'a dyn Fn(&str) -> Option<&'a str>,
}

impl<'a> RequestInfo<'a> {
    /// A request for `path` (no query string) addressed to `authority`
    /// (`host` or `host:port`), with `headers` looked up by lowercase name.
    pub fn new(
        method: &'a http::Method,
        path: &'a str,
        authority: Option<&'a str>,
        headers: &'a dyn Fn(&str) -> Option<&'a str>,
    ) -> Self {
        Self {
            method,
            path,
            authority,
            headers,
        }
    }

    /// The method.
    pub fn method(&self) -> &'a http::Method {
        self.method
    }

    /// The path, without the query string.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// `host` or `host:port`, as the request addresses it.
    pub fn authority(&self) -> Option<&'a str> {
        self.authority
    }

    /// The host name alone (IPv6 addresses keep their brackets).
    pub fn host_name(&self) -> Option<&'a str> {
        super::authority::split(self.authority?).map(|(host, _)| host)
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        (self.headers)(name)
    }
}

impl fmt::Debug for RequestInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("method", self.method)
            .field("path", &self.path)
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}
