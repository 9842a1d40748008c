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
    headers: Headers<'a>,
}

#[derive(Clone, Copy)]
enum Headers<'a> {
    Http(&'a http::HeaderMap),
    Lookup(&'a dyn Fn(&str) -> Option<&'a str>),
}

impl<'a> RequestInfo<'a> {
    /// A request for `path` (no query string) addressed to `authority`
    /// (`host` or `host:port`; the `Host` header's without one), with
    /// `headers` looked up by lowercase name: for libraries with a header
    /// type of their own (actix-web).
    pub fn new(
        method: &'a http::Method,
        path: &'a str,
        authority: Option<&'a str>,
        headers: &'a dyn Fn(&str) -> Option<&'a str>,
    ) -> Self {
        Self::with_headers(method, path, authority, Headers::Lookup(headers))
    }

    /// [`new`](Self::new) with the `http` crate's headers.
    ///
    /// ```
    /// use census_core::http::RequestInfo;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("host", "shop.local".parse().unwrap());
    /// let request = RequestInfo::from_headers(&http::Method::GET, "/", None, &headers);
    /// assert_eq!(request.authority(), Some("shop.local"));
    /// ```
    pub fn from_headers(
        method: &'a http::Method,
        path: &'a str,
        authority: Option<&'a str>,
        headers: &'a http::HeaderMap,
    ) -> Self {
        Self::with_headers(method, path, authority, Headers::Http(headers))
    }

    /// [`from_headers`](Self::from_headers) for an `http` request: its
    /// method, path, URI authority and headers.
    pub fn of<B>(request: &'a http::Request<B>) -> Self {
        let uri = request.uri();
        Self::from_headers(
            request.method(),
            uri.path(),
            // Credentials in the URI are none of the hooks' business.
            uri.authority().map(|a| {
                a.as_str()
                    .rsplit_once('@')
                    .map_or(a.as_str(), |(_, host)| host)
            }),
            request.headers(),
        )
    }

    fn with_headers(
        method: &'a http::Method,
        path: &'a str,
        authority: Option<&'a str>,
        headers: Headers<'a>,
    ) -> Self {
        let mut info = Self {
            method,
            path,
            authority,
            headers,
        };
        if info.authority.is_none() {
            info.authority = info.header("host");
        }
        info
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
        match self.headers {
            Headers::Http(headers) => super::header::text(headers, name),
            Headers::Lookup(lookup) => lookup(name),
        }
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
