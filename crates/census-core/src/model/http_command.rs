use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    HTTP_REQUEST_METHOD, SERVER_ADDRESS, SERVER_PORT, URL_FULL,
};
use url::Url;

use crate::sanitize::redact_url;

/// An outgoing HTTP request: method and redacted URL.
///
/// ```
/// use census_core::model::HttpCommand;
/// let url = url::Url::parse("http://api.local:8080/items?token=abc").unwrap();
/// let cmd = HttpCommand::new(&http::Method::GET, &url);
/// assert_eq!(cmd.span_name(), "GET");
/// assert_eq!(cmd.url(), "http://api.local:8080/items?token=REDACTED");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCommand {
    method: http::Method,
    url: String,
    host: Option<String>,
    port: Option<u16>,
}

impl HttpCommand {
    /// Describes a request; the URL is redacted here, once.
    pub fn new(method: &http::Method, url: &Url) -> Self {
        Self {
            method: method.clone(),
            url: redact_url(url),
            host: url.host_str().map(str::to_owned),
            port: url.port_or_known_default(),
        }
    }

    /// Describes a request from its URI as an HTTP library holds it: an
    /// absolute URI as it is, an origin-form one (`/path?query`, sent on
    /// a connection of its own) completed with `host` (the `Host` header)
    /// and plain `http`.
    ///
    /// ```
    /// use census_core::model::HttpCommand;
    /// let uri: http::Uri = "/items?sig=abc".parse().unwrap();
    /// let cmd = HttpCommand::from_uri(&http::Method::PUT, &uri, Some("store.local:9000"));
    /// assert_eq!(cmd.url(), "http://store.local:9000/items?sig=REDACTED");
    /// let bare = HttpCommand::from_uri(&http::Method::PUT, &uri, None);
    /// assert_eq!(bare.url(), "/items?sig=REDACTED");
    /// ```
    pub fn from_uri(method: &http::Method, uri: &http::Uri, host: Option<&str>) -> Self {
        let absolute = match (uri.scheme(), host) {
            (Some(_), _) => Url::parse(&uri.to_string()),
            (None, Some(host)) => Url::parse(&format!("http://{host}{}", path_and_query(uri))),
            (None, None) => Err(url::ParseError::RelativeUrlWithoutBase),
        };
        if let Ok(url) = absolute {
            return Self::new(method, &url);
        }
        // Nowhere to say where it goes: the path and query alone, redacted
        // like any URL.
        const BASE: &str = "http://relative.invalid";
        let url = Url::parse(BASE)
            .and_then(|base| base.join(path_and_query(uri)))
            .map(|joined| redact_url(&joined))
            .ok()
            .and_then(|redacted| redacted.strip_prefix(BASE).map(str::to_owned))
            .unwrap_or_default();
        Self {
            method: method.clone(),
            url,
            host: None,
            port: None,
        }
    }

    /// The redacted URL (`url.full`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The method, as client spans are named: low cardinality by design.
    pub fn span_name(&self) -> &'static str {
        Self::span_name_for(&self.method)
    }

    /// The [`span_name`](Self::span_name) of a request with `method`,
    /// known before the request is described (only a sampled request
    /// needs the rest).
    ///
    /// ```
    /// use census_core::model::HttpCommand;
    /// assert_eq!(HttpCommand::span_name_for(&http::Method::from_bytes(b"PURGE").unwrap()), "HTTP");
    /// ```
    pub fn span_name_for(method: &http::Method) -> &'static str {
        match method_name(method) {
            "_OTHER" => "HTTP",
            known => known,
        }
    }

    /// `http.request.method`, `url.full`, `server.address`, `server.port`.
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut out = Vec::with_capacity(4);
        out.push(KeyValue::new(
            HTTP_REQUEST_METHOD,
            method_name(&self.method),
        ));
        out.push(KeyValue::new(URL_FULL, self.url.clone()));
        if let Some(host) = &self.host {
            out.push(KeyValue::new(SERVER_ADDRESS, host.clone()));
        }
        if let Some(port) = self.port {
            out.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        out
    }
}

fn path_and_query(uri: &http::Uri) -> &str {
    uri.path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
}

/// The `http.request.method` value: the method when it is one of the nine
/// registered ones, `_OTHER` otherwise, so that arbitrary client-chosen
/// methods cannot blow up cardinality.
///
/// ```
/// use census_core::model::method_name;
/// assert_eq!(method_name(&http::Method::POST), "POST");
/// assert_eq!(method_name(&http::Method::from_bytes(b"PURGE").unwrap()), "_OTHER");
/// ```
pub fn method_name(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}
