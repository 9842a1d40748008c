//! The bucket boundaries the semantic conventions advise for each
//! duration histogram (in seconds).

/// `http.server.request.duration` and `http.client.request.duration`.
///
/// ```
/// assert_eq!(census_core::metrics::HTTP_DURATION_BOUNDARIES.len(), 14);
/// ```
pub const HTTP_DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// `db.client.operation.duration`.
///
/// ```
/// assert_eq!(census_core::metrics::DB_DURATION_BOUNDARIES[0], 0.001);
/// ```
pub const DB_DURATION_BOUNDARIES: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];

/// `rpc.server.call.duration` and `rpc.client.call.duration`: the
/// conventions advise none, so the HTTP ones (gRPC runs over HTTP/2 and
/// its latencies are of the same order).
///
/// ```
/// use census_core::metrics::{HTTP_DURATION_BOUNDARIES, RPC_DURATION_BOUNDARIES};
/// assert_eq!(RPC_DURATION_BOUNDARIES, HTTP_DURATION_BOUNDARIES);
/// ```
pub const RPC_DURATION_BOUNDARIES: [f64; 14] = HTTP_DURATION_BOUNDARIES;
