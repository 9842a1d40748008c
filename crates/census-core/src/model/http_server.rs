use std::borrow::Cow;

use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute::{
    CLIENT_ADDRESS, HTTP_REQUEST_METHOD, HTTP_ROUTE, SERVER_ADDRESS, SERVER_PORT, URL_PATH,
    URL_QUERY, URL_SCHEME, USER_AGENT_ORIGINAL,
};

use super::method_name;
use super::recent::{Kind, shared};
use super::span_names::request_name;
use crate::http::RequestInfo;

/// An incoming HTTP request as its Server span shows it, built the same
/// way by every server integration (tower, actix-web): the span is named
/// `{method} {route}` from the route template, never the raw path.
///
/// ```
/// use census_core::model::HttpServerRequest;
/// let request = HttpServerRequest::new(&http::Method::GET, "/users/42")
///     .with_route("/users/{id}")
///     .with_authority("shop.local", Some(8080))
///     .with_user_agent("curl/8");
/// assert_eq!(request.span_name(), "GET /users/{id}");
/// assert_eq!(request.into_attributes().len(), 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerRequest {
    method: &'static str,
    // Values as spans carry them: texts that repeat from request to
    // request are shared (see `recent`).
    path: StringValue,
    query: Option<String>,
    scheme: &'static str,
    route: Option<StringValue>,
    host: Option<StringValue>,
    port: Option<u16>,
    client_address: Option<StringValue>,
    user_agent: Option<StringValue>,
}

impl HttpServerRequest {
    /// A request for `path` (without the query string: see
    /// [`with_query`](Self::with_query)).
    pub fn new(method: &http::Method, path: &str) -> Self {
        Self::routed(method, path, None)
    }

    /// [`new`](Self::new) with the route already known: a route without
    /// parameters is its path, and then one shared text serves for both
    /// (no copy of the path to allocate here and free on the export
    /// thread).
    fn routed(method: &http::Method, path: &str, route: Option<&str>) -> Self {
        let route = route.map(|route| shared(Kind::Route, route));
        let path = match &route {
            Some(route) if route.as_str() == path => route.clone(),
            _ => StringValue::from(path.to_owned()),
        };
        Self {
            method: method_name(method),
            path,
            query: None,
            scheme: "http",
            route,
            host: None,
            port: None,
            client_address: None,
            user_agent: None,
        }
    }

    /// Builds the request of an `http` request: method, path, scheme, the
    /// authority the client addressed (the URI's, or the `Host` header's),
    /// `User-Agent`, and the client's address from `X-Forwarded-For` when
    /// a proxy set it. The route is the server framework's to add.
    pub fn from_http<B>(request: &http::Request<B>) -> Self {
        let uri = request.uri();
        Self::from_info(
            &RequestInfo::of(request),
            None,
            uri.query(),
            uri.scheme() == Some(&http::uri::Scheme::HTTPS),
        )
    }

    /// [`from_http`](Self::from_http) from the [`RequestInfo`] a server
    /// integration has already built for its hooks (its headers are not
    /// looked up twice), with the `route` the framework matched, the
    /// request's `query` and whether it came over `https`: for frameworks
    /// with types of their own (actix-web).
    ///
    /// ```
    /// use census_core::http::RequestInfo;
    /// use census_core::model::HttpServerRequest;
    /// let headers = |name: &str| (name == "host").then_some("shop.local:8080");
    /// let info = RequestInfo::new(&http::Method::GET, "/users/7", None, &headers);
    /// let request = HttpServerRequest::from_info(&info, Some("/users/{id}"), None, false);
    /// assert_eq!(
    ///     request,
    ///     HttpServerRequest::new(&http::Method::GET, "/users/7")
    ///         .with_route("/users/{id}")
    ///         .with_authority("shop.local", Some(8080))
    /// );
    /// ```
    // Filled in place: the description is large, and each builder step
    // would move it.
    pub fn from_info(
        info: &RequestInfo<'_>,
        route: Option<&str>,
        query: Option<&str>,
        https: bool,
    ) -> Self {
        let header = |name| info.header(name).map(str::trim).filter(|v| !v.is_empty());
        let mut out = Self::routed(info.method(), info.path(), route);
        out.set_scheme(https);
        if let Some(query) = query {
            out.set_query(query);
        }
        if let Some((host, port)) = info
            .authority()
            .map(str::trim)
            .and_then(crate::http::authority::split)
        {
            out.set_authority(host, port);
        }
        if let Some(agent) = header("user-agent") {
            out.set_user_agent(agent);
        }
        if let Some(client) = header("x-forwarded-for")
            .and_then(|list| list.split(',').next())
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            out.set_client_address(client);
        }
        out
    }

    /// Sets the query string (`url.query`), with the values of
    /// secret-looking parameters redacted here.
    ///
    /// ```
    /// use census_core::model::HttpServerRequest;
    /// let request = HttpServerRequest::new(&http::Method::GET, "/login").with_query("code=abc&next=/");
    /// assert!(request.into_attributes().contains(&opentelemetry::KeyValue::new("url.query", "code=REDACTED&next=/")));
    /// ```
    pub fn with_query(mut self, query: &str) -> Self {
        self.set_query(query);
        self
    }

    fn set_query(&mut self, query: &str) {
        self.query = (!query.is_empty()).then(|| crate::sanitize::redact_query(query));
    }

    /// Sets the route template the framework matched, e.g. `/users/{id}`.
    pub fn with_route(mut self, route: impl AsRef<str>) -> Self {
        let route = shared(Kind::Route, route.as_ref());
        // A route without parameters is its path: one text for both.
        if route.as_str() == self.path.as_str() {
            self.path = route.clone();
        }
        self.route = Some(route);
        self
    }

    /// Sets the scheme, `http` by default.
    pub fn with_scheme(mut self, https: bool) -> Self {
        self.set_scheme(https);
        self
    }

    fn set_scheme(&mut self, https: bool) {
        self.scheme = if https { "https" } else { "http" };
    }

    /// Sets the host and port the client addressed (`server.address`,
    /// `server.port`).
    pub fn with_authority(mut self, host: impl AsRef<str>, port: Option<u16>) -> Self {
        self.set_authority(host.as_ref(), port);
        self
    }

    fn set_authority(&mut self, host: &str, port: Option<u16>) {
        self.host = Some(shared(Kind::Host, host));
        self.port = port;
    }

    /// Sets the client's address (`client.address`), unless one is known
    /// already (a proxy's `X-Forwarded-For` names the real client).
    pub fn with_client_address(mut self, address: impl AsRef<str>) -> Self {
        self.set_client_address(address.as_ref());
        self
    }

    fn set_client_address(&mut self, address: &str) {
        if self.client_address.is_none() {
            self.client_address = Some(shared(Kind::Client, address));
        }
    }

    /// [`with_client_address`](Self::with_client_address) for the address
    /// of the connection's peer.
    ///
    /// ```
    /// use census_core::model::HttpServerRequest;
    /// let request = HttpServerRequest::new(&http::Method::GET, "/").with_client_ip([10, 0, 0, 255].into());
    /// assert!(request.into_attributes().contains(&opentelemetry::KeyValue::new("client.address", "10.0.0.255")));
    /// ```
    pub fn with_client_ip(mut self, ip: std::net::IpAddr) -> Self {
        self.set_client_ip(ip);
        self
    }

    /// [`with_client_ip`](Self::with_client_ip) in place, for a
    /// description that is large to move.
    pub fn set_client_ip(&mut self, ip: std::net::IpAddr) {
        if self.client_address.is_some() {
            return;
        }
        match ip {
            std::net::IpAddr::V4(v4) => self.set_client_address(ipv4_text(v4).as_str()),
            std::net::IpAddr::V6(v6) => self.set_client_address(&v6.to_string()),
        }
    }

    /// Sets the `User-Agent` (`user_agent.original`).
    pub fn with_user_agent(mut self, agent: impl AsRef<str>) -> Self {
        self.set_user_agent(agent.as_ref());
        self
    }

    fn set_user_agent(&mut self, agent: &str) {
        self.user_agent = Some(shared(Kind::UserAgent, agent));
    }

    /// `{method} {route}`, or the method alone without a route (the raw
    /// path would make every URL its own operation); `HTTP` stands for
    /// methods outside the registered nine.
    pub fn span_name(&self) -> Cow<'static, str> {
        name(self.method, self.route.as_ref().map(StringValue::as_str))
    }

    /// The [`span_name`](Self::span_name) of a request for `route`, known
    /// before the rest of the request is described (only a sampled request
    /// needs the rest).
    ///
    /// ```
    /// use census_core::model::HttpServerRequest;
    /// assert_eq!(HttpServerRequest::span_name_for(&http::Method::GET, Some("/users/{id}")), "GET /users/{id}");
    /// ```
    pub fn span_name_for(method: &http::Method, route: Option<&str>) -> Cow<'static, str> {
        name(method_name(method), route)
    }

    /// `http.request.method`, `url.path`, `url.scheme`, and what is known
    /// of `http.route`, `server.address`, `server.port`, `client.address`
    /// and `user_agent.original`.
    pub fn into_attributes(self) -> Vec<KeyValue> {
        // Room for the response's status code and error type, added later.
        let mut out = Vec::with_capacity(12);
        out.push(KeyValue::new(HTTP_REQUEST_METHOD, self.method));
        out.push(KeyValue::new(URL_PATH, self.path));
        if let Some(query) = self.query {
            out.push(KeyValue::new(URL_QUERY, query));
        }
        out.push(KeyValue::new(URL_SCHEME, self.scheme));
        if let Some(route) = self.route {
            out.push(KeyValue::new(HTTP_ROUTE, route));
        }
        if let Some(host) = self.host {
            out.push(KeyValue::new(SERVER_ADDRESS, host));
        }
        if let Some(port) = self.port {
            out.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        if let Some(client) = self.client_address {
            out.push(KeyValue::new(CLIENT_ADDRESS, client));
        }
        if let Some(agent) = self.user_agent {
            out.push(KeyValue::new(USER_AGENT_ORIGINAL, agent));
        }
        out
    }
}

fn name(method: &'static str, route: Option<&str>) -> Cow<'static, str> {
    let method = match method {
        "_OTHER" => "HTTP",
        method => method,
    };
    request_name(method, route)
}

/// An IPv4 address as text, without the formatting machinery or a copy:
/// every traced request has one.
fn ipv4_text(ip: std::net::Ipv4Addr) -> Ipv4Text {
    let mut text = Ipv4Text {
        bytes: [0; 15],
        len: 0,
    };
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            text.push(b'.');
        }
        if octet >= 100 {
            text.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            text.push(b'0' + octet / 10 % 10);
        }
        text.push(b'0' + octet % 10);
    }
    text
}

/// Room for the longest IPv4 address, `255.255.255.255`.
struct Ipv4Text {
    bytes: [u8; 15],
    len: usize,
}

impl Ipv4Text {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn as_str(&self) -> &str {
        // Digits and dots only.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_http_reads_host_agent_and_forwarded_client() {
        let request = http::Request::builder()
            .method("PURGE")
            .uri("/cache/7?token=s3cret")
            .header("host", "shop.local:8443")
            .header("user-agent", "probe/1")
            .header("x-forwarded-for", " 203.0.113.9, 10.0.0.1")
            .body(())
            .unwrap();
        let described = HttpServerRequest::from_http(&request)
            .with_route("/cache/{id}")
            .with_client_address("10.0.0.1");
        assert_eq!(described.span_name(), "HTTP /cache/{id}");
        assert_eq!(
            described.into_attributes(),
            vec![
                KeyValue::new("http.request.method", "_OTHER"),
                KeyValue::new("url.path", "/cache/7"),
                KeyValue::new("url.query", "token=REDACTED"),
                KeyValue::new("url.scheme", "http"),
                KeyValue::new("http.route", "/cache/{id}"),
                KeyValue::new("server.address", "shop.local"),
                KeyValue::new("server.port", 8443),
                KeyValue::new("client.address", "203.0.113.9"),
                KeyValue::new("user_agent.original", "probe/1"),
            ]
        );
    }

    #[test]
    fn ip_addresses_read_as_std_writes_them() {
        for octets in [
            [0, 0, 0, 0],
            [127, 0, 0, 1],
            [10, 99, 100, 255],
            [192, 168, 9, 10],
        ] {
            let ip = std::net::Ipv4Addr::from(octets);
            assert_eq!(ipv4_text(ip).as_str(), ip.to_string());
        }
        let v6: std::net::IpAddr = "2001:db8::1".parse().unwrap();
        assert!(
            HttpServerRequest::new(&http::Method::GET, "/")
                .with_client_ip(v6)
                .into_attributes()
                .contains(&KeyValue::new(CLIENT_ADDRESS, "2001:db8::1"))
        );
        // A proxy's X-Forwarded-For names the client, not the peer.
        let request = http::Request::get("/")
            .header("x-forwarded-for", "203.0.113.9")
            .body(())
            .unwrap();
        let described = HttpServerRequest::from_http(&request).with_client_ip([10, 0, 0, 1].into());
        assert!(
            described
                .into_attributes()
                .contains(&KeyValue::new(CLIENT_ADDRESS, "203.0.113.9"))
        );
    }

    #[test]
    fn a_parameterless_route_and_its_path_are_one_text() {
        let headers = |_: &str| None::<&'static str>;
        let same = |path: &'static str, route: &'static str| {
            let info = RequestInfo::new(&http::Method::GET, path, None, &headers);
            let described = HttpServerRequest::from_info(&info, Some(route), None, false);
            let kept = described.route.as_ref().unwrap();
            assert_eq!((described.path.as_str(), kept.as_str()), (path, route));
            std::ptr::eq(described.path.as_str().as_ptr(), kept.as_str().as_ptr())
        };
        assert!(same("/health", "/health"));
        assert!(!same("/users/7", "/users/{id}"));
        // Built either way, the description is the same.
        let info = RequestInfo::new(&http::Method::GET, "/health", None, &headers);
        assert_eq!(
            HttpServerRequest::from_info(&info, Some("/health"), None, false),
            HttpServerRequest::new(&http::Method::GET, "/health").with_route("/health")
        );
    }

    #[test]
    fn without_a_route_the_span_is_named_by_the_method_alone() {
        let request = http::Request::get("https://api.local/items/9")
            .body(())
            .unwrap();
        let described = HttpServerRequest::from_http(&request);
        assert_eq!(described.span_name(), "GET");
        assert_eq!(
            described.into_attributes(),
            vec![
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.path", "/items/9"),
                KeyValue::new("url.scheme", "https"),
                KeyValue::new("server.address", "api.local"),
            ]
        );
    }
}
