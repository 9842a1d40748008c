use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    RPC_METHOD, RPC_METHOD_ORIGINAL, RPC_SYSTEM_NAME,
};

/// A gRPC call as its span shows it: named by its fully qualified method
/// (`demo.Greeter/SayHello`), with `rpc.system.name` and `rpc.method`.
///
/// ```
/// use census_core::model::GrpcCall;
/// let call = GrpcCall::from_path("/demo.Greeter/SayHello");
/// assert_eq!(call.span_name(), "demo.Greeter/SayHello");
/// assert_eq!(GrpcCall::from_path("/not/a/grpc/path").span_name(), "_OTHER");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcCall {
    /// `service/method`, or `None` for a path that is not one.
    method: Option<String>,
    path: String,
}

impl GrpcCall {
    /// The call whose HTTP/2 path is `path` (`/{service}/{method}`).
    pub fn from_path(path: &str) -> Self {
        let method = Self::method_of(path).map(str::to_owned);
        Self {
            method,
            path: path.to_owned(),
        }
    }

    /// The `service/method` a gRPC path names, if it names one.
    pub(crate) fn method_of(path: &str) -> Option<&str> {
        path.strip_prefix('/').filter(|m| {
            matches!(m.split_once('/'), Some((service, method)) if !service.is_empty() && !method.is_empty() && !method.contains('/'))
        })
    }

    /// `service/method`, or `_OTHER` for a path that is not a gRPC method
    /// (the raw path would make every URL its own operation).
    pub fn span_name(&self) -> String {
        self.method.clone().unwrap_or_else(|| "_OTHER".to_owned())
    }

    /// `rpc.system.name` (`grpc`), `rpc.method`, and `rpc.method_original`
    /// when the path is not a method.
    pub fn into_attributes(self) -> Vec<KeyValue> {
        let mut out = vec![KeyValue::new(RPC_SYSTEM_NAME, "grpc")];
        match self.method {
            Some(method) => out.push(KeyValue::new(RPC_METHOD, method)),
            None => {
                out.push(KeyValue::new(RPC_METHOD, "_OTHER"));
                out.push(KeyValue::new(RPC_METHOD_ORIGINAL, self.path));
            }
        }
        out
    }
}

/// Whether a request or response with this `content-type` is gRPC.
///
/// ```
/// assert!(census_core::model::is_grpc(Some("application/grpc+proto")));
/// assert!(!census_core::model::is_grpc(Some("application/json")));
/// ```
pub fn is_grpc(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        t == "application/grpc"
            || t.starts_with("application/grpc+")
            || t.starts_with("application/grpc;")
    })
}

/// The status code in a `grpc-status` header or trailer.
///
/// ```
/// assert_eq!(census_core::model::grpc_status(Some("5")), Some(5));
/// assert_eq!(census_core::model::grpc_status(Some("five")), None);
/// ```
pub fn grpc_status(value: Option<&str>) -> Option<i32> {
    value?.trim().parse().ok()
}
