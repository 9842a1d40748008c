//! What a call's duration metric says about it: which metric, and the
//! low-cardinality attributes the semantic conventions give it.

use std::sync::Arc;

use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute::{
    DB_COLLECTION_NAME, DB_NAMESPACE, DB_OPERATION_NAME, DB_SYSTEM_NAME, HTTP_REQUEST_METHOD,
    RPC_METHOD, RPC_SYSTEM_NAME, SERVER_ADDRESS, SERVER_PORT, URL_SCHEME,
};
use opentelemetry_semantic_conventions::metric::{
    DB_CLIENT_OPERATION_DURATION, HTTP_CLIENT_REQUEST_DURATION, HTTP_SERVER_REQUEST_DURATION,
    RPC_CLIENT_CALL_DURATION, RPC_SERVER_CALL_DURATION,
};

use super::boundaries::{
    DB_DURATION_BOUNDARIES, HTTP_DURATION_BOUNDARIES, RPC_DURATION_BOUNDARIES,
};
use super::kept::Kept;
use super::site::Site;
use crate::model::recent::{Kind, shared};
use crate::model::{DbSystem, Outcome, Target, method_name};

/// Which duration metric measures a call.
///
/// ```
/// use census_core::metrics::CallKind;
/// assert_eq!(CallKind::HttpServer.metric_name(), "http.server.request.duration");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// A request a server answered: `http.server.request.duration`.
    HttpServer,
    /// A request an HTTP client sent: `http.client.request.duration`.
    HttpClient,
    /// A database operation: `db.client.operation.duration`.
    Database,
    /// A gRPC call a server answered: `rpc.server.call.duration`.
    RpcServer,
    /// A gRPC call a client made: `rpc.client.call.duration`.
    RpcClient,
}

impl CallKind {
    /// How many kinds there are: one instrument each.
    pub(crate) const COUNT: usize = 5;

    /// Every kind, for exporters that recognize the metrics by name.
    const ALL: [Self; Self::COUNT] = [
        Self::HttpServer,
        Self::HttpClient,
        Self::Database,
        Self::RpcServer,
        Self::RpcClient,
    ];

    /// The kind whose metric is named `name`, e.g. for an exporter that
    /// maps the call-duration metrics to a backend's own.
    ///
    /// ```
    /// use census_core::metrics::CallKind;
    /// assert_eq!(CallKind::from_metric_name("db.client.operation.duration"), Some(CallKind::Database));
    /// assert_eq!(CallKind::from_metric_name("orders.placed"), None);
    /// ```
    pub fn from_metric_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.metric_name() == name)
    }

    /// The metric's name.
    pub const fn metric_name(self) -> &'static str {
        match self {
            Self::HttpServer => HTTP_SERVER_REQUEST_DURATION,
            Self::HttpClient => HTTP_CLIENT_REQUEST_DURATION,
            Self::Database => DB_CLIENT_OPERATION_DURATION,
            Self::RpcServer => RPC_SERVER_CALL_DURATION,
            Self::RpcClient => RPC_CLIENT_CALL_DURATION,
        }
    }

    pub(crate) const fn description(self) -> &'static str {
        match self {
            Self::HttpServer => "Duration of HTTP server requests.",
            Self::HttpClient => "Duration of HTTP client requests.",
            Self::Database => "Duration of database client operations.",
            Self::RpcServer => "Measures the duration of inbound remote procedure calls.",
            Self::RpcClient => "Measures the duration of outbound remote procedure calls.",
        }
    }

    pub(crate) const fn boundaries(self) -> &'static [f64] {
        match self {
            Self::HttpServer | Self::HttpClient => &HTTP_DURATION_BOUNDARIES,
            Self::Database => &DB_DURATION_BOUNDARIES,
            Self::RpcServer | Self::RpcClient => &RPC_DURATION_BOUNDARIES,
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// A call as its duration metric describes it: the metric, and the
/// attributes that split it (method, route, target, operation), never a
/// raw path, a query or statement text.
///
/// ```
/// use census_core::metrics::{CallKind, CallMetric};
/// let metric = CallMetric::http_server(&http::Method::GET, false, Some("/users/{id}"));
/// assert_eq!(metric.kind(), CallKind::HttpServer);
/// let keys: Vec<_> = metric.attributes().iter().map(|kv| kv.key.as_str()).collect();
/// assert_eq!(keys, ["http.request.method", "url.scheme", "http.route"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallMetric {
    kind: CallKind,
    attributes: Attributes,
}

/// A call's attributes: its own, or those of a description every call
/// of it shares (a statement, a server route), which cloning does not
/// copy.
#[derive(Debug, Clone, PartialEq)]
enum Attributes {
    Owned(Vec<KeyValue>),
    Shared(SiteRef, Added),
}

/// A shared description: kept for good (a route's, an operation's), or
/// counted, once too many are kept.
#[derive(Debug, Clone, PartialEq)]
enum SiteRef {
    Counted(Arc<Site>),
    Kept(&'static Site),
}

impl std::ops::Deref for SiteRef {
    type Target = Site;

    fn deref(&self) -> &Site {
        match self {
            Self::Counted(site) => site,
            Self::Kept(site) => site,
        }
    }
}

/// What a call's outcome added to a shared description.
#[derive(Debug, Clone, PartialEq)]
enum Added {
    Nothing,
    /// An HTTP response's status code: the site has handles bound per
    /// code, so the attributes need not be copied.
    Status(u16),
    /// Anything else: the description's attributes and the outcome's,
    /// copied.
    Copied(Vec<KeyValue>),
}

impl Attributes {
    fn as_slice(&self) -> &[KeyValue] {
        match self {
            Self::Owned(attributes) | Self::Shared(_, Added::Copied(attributes)) => attributes,
            Self::Shared(site, _) => site.attributes(),
        }
    }

    /// The attributes to change: a shared description's are copied first,
    /// with the status code given so far.
    fn to_mut(&mut self) -> &mut Vec<KeyValue> {
        match self {
            Self::Owned(attributes) => attributes,
            Self::Shared(site, added) => {
                if let Added::Nothing | Added::Status(_) = added {
                    let status = match added {
                        Added::Status(status) => Some(*status),
                        _ => None,
                    };
                    let mut copied = site.attributes_with(status);
                    copied.reserve(OUTCOME_ATTRIBUTES);
                    *added = Added::Copied(copied);
                }
                match added {
                    Added::Copied(attributes) => attributes,
                    Added::Nothing | Added::Status(_) => unreachable!("copied above"),
                }
            }
        }
    }
}

/// Database operations' sites kept, by attributes (past them, each
/// statement has its own): a site per operation, table and target.
const MAX_DATABASE_SITES: usize = 1024;

static DATABASE_SITES: Kept<Site> = Kept::new(MAX_DATABASE_SITES);

/// Attributes a call gets from its outcome at the end: status code and
/// `error.type`, and a database's status code.
const OUTCOME_ATTRIBUTES: usize = 3;

impl CallMetric {
    fn new(kind: CallKind, capacity: usize) -> Self {
        Self {
            kind,
            attributes: Attributes::Owned(Vec::with_capacity(capacity + OUTCOME_ATTRIBUTES)),
        }
    }

    /// A request a server answered: `http.request.method`, `url.scheme`
    /// and, when the framework matched one, `http.route` (the template,
    /// e.g. `/users/{id}`).
    ///
    /// The method and scheme come first: they are also the attributes of
    /// `http.server.active_requests`.
    pub fn http_server(method: &http::Method, https: bool, route: Option<&str>) -> Self {
        let (method, scheme) = (method_name(method), scheme(https));
        // Shared with the thread's earlier requests of the route.
        let attributes = match super::routes::site(method, scheme, route) {
            Some(site) => Attributes::Shared(SiteRef::Kept(site), Added::Nothing),
            None => {
                let mut attributes = super::routes::attributes(method, scheme, route);
                attributes.reserve(OUTCOME_ATTRIBUTES);
                Attributes::Owned(attributes)
            }
        };
        Self {
            kind: CallKind::HttpServer,
            attributes,
        }
    }

    /// `http.server.active_requests`' attributes: the method and scheme
    /// an HTTP server call's attributes start with.
    pub(crate) fn active_request_attributes(attributes: &[KeyValue]) -> &[KeyValue] {
        &attributes[..2]
    }

    /// A request an HTTP client sent: `http.request.method`,
    /// `server.address`, `server.port` (the scheme's default when the
    /// URL has none) and `url.scheme` (which tells a default port from a
    /// chosen one, as Application Insights' dependency target does).
    ///
    /// ```
    /// use census_core::metrics::CallMetric;
    /// use opentelemetry::Value;
    /// let metric = CallMetric::http_client(&http::Method::POST, true, "api.example.com", None);
    /// assert_eq!(metric.attributes()[2].value, Value::I64(443));
    /// ```
    pub fn http_client(method: &http::Method, https: bool, host: &str, port: Option<u16>) -> Self {
        let mut metric = Self::new(CallKind::HttpClient, 4);
        metric.push(HTTP_REQUEST_METHOD, method_name(method));
        metric.push(SERVER_ADDRESS, shared(Kind::Host, host));
        let port = port.unwrap_or(if https { 443 } else { 80 });
        metric.push(SERVER_PORT, i64::from(port));
        metric.push(URL_SCHEME, scheme(https));
        metric
    }

    /// [`http_client`](Self::http_client) for a request that says where
    /// it goes in its URI, or only in its `Host` header (a URI with just
    /// a path); without either, the metric has no `server.address`.
    ///
    /// ```
    /// use census_core::metrics::CallMetric;
    /// use opentelemetry::Value;
    /// let uri: http::Uri = "/orders?id=7".parse()?;
    /// let metric = CallMetric::http_client_for(&http::Method::GET, &uri, Some("shop.local:8080"));
    /// assert_eq!(metric.attributes()[1].value.as_str(), "shop.local");
    /// assert_eq!(metric.attributes()[2].value, Value::I64(8080));
    /// # Ok::<(), http::uri::InvalidUri>(())
    /// ```
    pub fn http_client_for(
        method: &http::Method,
        uri: &http::Uri,
        host_header: Option<&str>,
    ) -> Self {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let authority = match uri.host() {
            Some(host) => Some((host, uri.port_u16())),
            None => host_header.and_then(crate::http::authority::split),
        };
        match authority {
            Some((host, port)) => Self::http_client(method, https, host, port),
            None => {
                let mut metric = Self::new(CallKind::HttpClient, 1);
                metric.push(HTTP_REQUEST_METHOD, method_name(method));
                metric
            }
        }
    }

    /// An operation on a database at `target`: `db.system.name` and what
    /// the target knows (`server.address`, `server.port`,
    /// `db.namespace`); add the operation and collection when known.
    pub fn database(system: DbSystem, target: &Target) -> Self {
        let mut metric = Self::new(CallKind::Database, 6);
        let attributes = metric.attributes.to_mut();
        attributes.push(system.attribute());
        attributes.extend(target.attributes());
        metric
    }

    /// A database operation described by a span's attributes: those the
    /// metric takes (system, target, operation, collection), never the
    /// query text or summary.
    pub(crate) fn database_from(span_attributes: &[KeyValue]) -> Self {
        const KEYS: [&str; 6] = [
            DB_SYSTEM_NAME,
            SERVER_ADDRESS,
            SERVER_PORT,
            DB_NAMESPACE,
            DB_OPERATION_NAME,
            DB_COLLECTION_NAME,
        ];
        let attributes: Box<[KeyValue]> = span_attributes
            .iter()
            .filter(|kv| KEYS.contains(&kv.key.as_str()))
            .cloned()
            .collect();
        // Statements share a site per operation, table and target: kept
        // for good, it costs their calls no reference count.
        let site = match DATABASE_SITES.find_or_add(
            super::instruments::values_hash(&attributes),
            |site| *site.attributes() == *attributes,
            || Site::new(attributes.clone()),
        ) {
            Some(kept) => SiteRef::Kept(kept),
            None => SiteRef::Counted(Arc::new(Site::new(attributes))),
        };
        Self {
            kind: CallKind::Database,
            attributes: Attributes::Shared(site, Added::Nothing),
        }
    }

    /// `db.operation.name`, e.g. `SELECT` or `find`.
    #[must_use]
    pub fn with_operation(mut self, operation: impl Into<StringValue>) -> Self {
        self.push(DB_OPERATION_NAME, operation.into());
        self
    }

    /// `db.collection.name`: the table or collection.
    #[must_use]
    pub fn with_collection(mut self, collection: impl Into<StringValue>) -> Self {
        self.push(DB_COLLECTION_NAME, collection.into());
        self
    }

    /// `db.namespace`, when the target did not say it.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<StringValue>) -> Self {
        self.push(DB_NAMESPACE, namespace.into());
        self
    }

    /// A gRPC call a server answered: `rpc.system.name` (`grpc`) and
    /// `rpc.method` (`service/method`, or `_OTHER`).
    ///
    /// ```
    /// use census_core::metrics::CallMetric;
    /// let metric = CallMetric::rpc_server("/demo.Greeter/SayHello");
    /// assert_eq!(metric.attributes()[1].value.as_str(), "demo.Greeter/SayHello");
    /// ```
    pub fn rpc_server(path: &str) -> Self {
        let mut metric = Self::new(CallKind::RpcServer, 2);
        metric.push_rpc(path);
        metric
    }

    /// A gRPC call a client made to `host`: [`rpc_server`](Self::rpc_server)'s
    /// attributes and `server.address`, `server.port`.
    pub fn rpc_client(path: &str, host: &str, port: Option<u16>) -> Self {
        let mut metric = Self::new(CallKind::RpcClient, 4);
        metric.push_rpc(path);
        metric.push(SERVER_ADDRESS, shared(Kind::Host, host));
        if let Some(port) = port {
            metric.push(SERVER_PORT, i64::from(port));
        }
        metric
    }

    fn push_rpc(&mut self, path: &str) {
        self.push(RPC_SYSTEM_NAME, "grpc");
        let method = crate::model::GrpcCall::method_of(path).unwrap_or("_OTHER");
        self.push(RPC_METHOD, shared(Kind::Route, method));
    }

    fn push(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) {
        self.attributes.to_mut().push(KeyValue::new(key, value));
    }

    /// Adds an attribute the conventions allow for this metric (keep it
    /// low-cardinality: every distinct value is a time series of its own).
    #[must_use]
    pub fn with_attribute(mut self, attribute: KeyValue) -> Self {
        self.attributes.to_mut().push(attribute);
        self
    }

    /// Which metric measures the call.
    pub fn kind(&self) -> CallKind {
        self.kind
    }

    /// The metric's name.
    pub fn name(&self) -> &'static str {
        self.kind.metric_name()
    }

    /// The attributes known before the call ends.
    pub fn attributes(&self) -> &[KeyValue] {
        self.attributes.as_slice()
    }

    /// The shared description, if the call has one.
    pub(crate) fn site(&self) -> Option<&Site> {
        match &self.attributes {
            Attributes::Shared(site, _) => Some(site),
            Attributes::Owned(_) => None,
        }
    }

    /// The shared description and the status code its outcome added,
    /// while the outcome added nothing else: the handles bound to the
    /// site record the call.
    pub(crate) fn site_and_status(&self) -> Option<(&Site, Option<u16>)> {
        match &self.attributes {
            Attributes::Shared(site, Added::Nothing) => Some((site, None)),
            Attributes::Shared(site, Added::Status(status)) => Some((site, Some(*status))),
            _ => None,
        }
    }

    /// Adds what `outcome` says of the call: a server's status, then the
    /// failure behind it, get both.
    pub(crate) fn add_outcome(&mut self, outcome: &Outcome) {
        match (&mut self.attributes, outcome) {
            (_, Outcome::Ok) => {}
            (Attributes::Shared(_, added @ Added::Nothing), Outcome::HttpServer(status)) => {
                *added = Added::Status(*status);
            }
            _ => outcome.for_each_attribute(|attribute| self.set(attribute)),
        }
    }

    /// The attributes to record the call with, the outcome's included.
    pub(crate) fn into_attributes(mut self) -> Vec<KeyValue> {
        std::mem::take(self.attributes.to_mut())
    }

    /// Sets `attribute`, replacing a value of the same key (an outcome's
    /// status code or `error.type` given again).
    pub(crate) fn set(&mut self, attribute: KeyValue) {
        let attributes = self.attributes.to_mut();
        match attributes
            .iter_mut()
            .find(|known| known.key == attribute.key)
        {
            Some(known) => *known = attribute,
            None => attributes.push(attribute),
        }
    }
}

fn scheme(https: bool) -> &'static str {
    if https { "https" } else { "http" }
}
