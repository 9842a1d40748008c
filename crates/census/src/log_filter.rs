//! What the log bridges share: the variable that chooses which records
//! census exports, and the targets never exported.

/// Environment variable: which `tracing` events and `log` records census
/// exports as log records, in `RUST_LOG`'s syntax (`info`,
/// `warn,shop=debug`); [`DEFAULT_LOG_FILTER`] when unset.
pub const ENV_LOG_FILTER: &str = "CENSUS_LOG_FILTER";

/// The filter when [`ENV_LOG_FILTER`] is unset.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// [`ENV_LOG_FILTER`]'s value, [`DEFAULT_LOG_FILTER`] when unset.
pub(crate) fn from_env() -> String {
    std::env::var(ENV_LOG_FILTER).unwrap_or_else(|_| DEFAULT_LOG_FILTER.to_owned())
}

/// Whether records of `target` come from census, OpenTelemetry, an
/// exporter's HTTP client or the Entra ID token client (a crate of one of
/// these families, e.g. `ureq_proto`, `hyper_util`, `opentelemetry_sdk`,
/// `azure_identity`, `typespec_client_core`, or tonic's `tower`; not the
/// application's own Azure SDK clients such as `azure_storage_blob`):
/// exported, they would feed the pipeline they report on.
pub(crate) fn feeds_back(target: &str) -> bool {
    const FAMILIES: [&str; 11] = [
        "census",
        "azure_core",
        "azure_identity",
        "opentelemetry",
        "ureq",
        "hyper",
        "h2",
        "tonic",
        "reqwest",
        "rustls",
        "tokio_rustls",
    ];
    let krate = target.split("::").next().unwrap_or(target);
    krate == "tower"
        || krate.starts_with("typespec")
        || FAMILIES.iter().any(|family| {
            krate
                .strip_prefix(family)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('_'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn census_opentelemetry_and_exporters_http_clients_feed_back() {
        for target in [
            "census",
            "census_azure::delivery",
            "opentelemetry_sdk",
            "opentelemetry_otlp::exporter",
            "ureq::unversioned",
            "hyper_util::client::legacy",
            "h2",
            "ureq_proto::client",
            "tower::buffer::worker",
            "tokio_rustls",
            "azure_identity::managed_identity_credential",
            "typespec_client_core::http",
        ] {
            assert!(feeds_back(target), "{target}");
        }
        for target in [
            "shop",
            "shop::orders",
            "censuses",
            "hyperion",
            "azure_storage_blob",
            "tower_http::trace",
        ] {
            assert!(!feeds_back(target), "{target}");
        }
    }
}
