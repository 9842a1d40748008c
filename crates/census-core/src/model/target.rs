use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{DB_NAMESPACE, SERVER_ADDRESS, SERVER_PORT};

/// Where a dependency call goes: host, port and database (or namespace).
///
/// Built once per client and shared by every call it makes.
///
/// ```
/// use census_core::model::Target;
/// let target = Target::new().with_host("db.internal").with_port(5432).with_namespace("shop");
/// assert_eq!(target.host(), Some("db.internal"));
/// assert_eq!(target.attributes().len(), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    host: Option<Arc<str>>,
    port: Option<u16>,
    namespace: Option<Arc<str>>,
}

impl Target {
    /// An empty target; add what is known with the `with_` methods.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the host name or address (`server.address`).
    pub fn with_host(mut self, host: impl AsRef<str>) -> Self {
        self.host = Some(host.as_ref().into());
        self
    }

    /// Sets the port (`server.port`).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the database, schema or file (`db.namespace`).
    pub fn with_namespace(mut self, namespace: impl AsRef<str>) -> Self {
        self.namespace = Some(namespace.as_ref().into());
        self
    }

    /// The host, when known.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The port, when known.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The database or namespace, when known.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// `server.address`, `server.port` and `db.namespace`, for what is known.
    /// Cheap to call per span: the strings are shared, not copied.
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut out = Vec::with_capacity(3);
        if let Some(host) = &self.host {
            out.push(KeyValue::new(SERVER_ADDRESS, host.clone()));
        }
        if let Some(port) = self.port {
            out.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
        if let Some(namespace) = &self.namespace {
            out.push(KeyValue::new(DB_NAMESPACE, namespace.clone()));
        }
        out
    }
}
