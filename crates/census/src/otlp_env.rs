//! The OTLP span, metric and log exporters `Tracer::from_env()` builds.
//!
//! HTTP goes through [`UreqClient`], a blocking client: the SDK's batch
//! processor exports from its own thread with no async runtime, and ureq
//! (with rustls) is already what the Application Insights exporter sends
//! with, so `https://` collectors work without a second TLS stack or a
//! hidden Tokio runtime. gRPC needs Tokio, so it gets a runtime of its own.

use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
};

use crate::from_env::{FromEnvError, OtlpTransport};

const ENV_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
const ENV_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
const ENV_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
const ENV_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// The OpenTelemetry default for both timeout variables.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// What a collector may answer; its answers are a few bytes, so more
/// means something other than a collector is listening.
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// The span exporter for `transport`; endpoint, headers and compression
/// come from the `OTEL_EXPORTER_OTLP_*` variables, read by
/// `opentelemetry-otlp`.
pub(crate) fn span_exporter(transport: OtlpTransport) -> Result<SpanExporter, FromEnvError> {
    let built = match transport {
        OtlpTransport::HttpProtobuf => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(UreqClient::new(timeout(ENV_TRACES_TIMEOUT)))
            .build(),
        #[cfg(feature = "otlp-grpc")]
        OtlpTransport::Grpc => grpc::within(|| {
            SpanExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc)
                .build()
        })?,
    };
    built.map_err(|source| FromEnvError::Otlp { source })
}

/// The metric exporter for `transport`, like [`span_exporter`]; its
/// temporality is `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`'s,
/// read by `opentelemetry-otlp` (cumulative by default).
pub(crate) fn metric_exporter(transport: OtlpTransport) -> Result<MetricExporter, FromEnvError> {
    let built = match transport {
        OtlpTransport::HttpProtobuf => MetricExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(UreqClient::new(timeout(ENV_METRICS_TIMEOUT)))
            .build(),
        #[cfg(feature = "otlp-grpc")]
        OtlpTransport::Grpc => grpc::within(|| {
            MetricExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc)
                .build()
        })?,
    };
    built.map_err(|source| FromEnvError::Otlp { source })
}

/// The per-request timeout, read as `opentelemetry-otlp` reads it
/// (milliseconds, the signal's own variable first), because a custom
/// client must apply it itself.
pub(crate) fn log_exporter(transport: OtlpTransport) -> Result<LogExporter, FromEnvError> {
    let built = match transport {
        OtlpTransport::HttpProtobuf => LogExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_http_client(UreqClient::new(timeout(ENV_LOGS_TIMEOUT)))
            .build(),
        #[cfg(feature = "otlp-grpc")]
        OtlpTransport::Grpc => grpc::within(|| {
            LogExporter::builder()
                .with_tonic()
                .with_protocol(Protocol::Grpc)
                .build()
        })?,
    };
    built.map_err(|source| FromEnvError::Otlp { source })
}

fn timeout(signal_variable: &str) -> Duration {
    [signal_variable, ENV_TIMEOUT]
        .into_iter()
        .find_map(|name| std::env::var(name).ok()?.trim().parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis)
}

/// A blocking [`HttpClient`] over ureq, for exporters that run on the
/// batch processor's thread.
#[derive(Debug)]
struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            // `opentelemetry-otlp` classifies statuses itself (retry, throttle).
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // Blocking here is what the batch processor's thread is for.
        let response = self.agent.run(request.map(Vec::from))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body.with_config().limit(MAX_RESPONSE_BYTES).read_to_vec()?;
        Ok(Response::from_parts(parts, Bytes::from(bytes)))
    }
}

#[cfg(feature = "otlp-grpc")]
mod grpc {
    use std::sync::{Mutex, PoisonError};

    use tokio::runtime::Handle;

    use crate::from_env::FromEnvError;

    /// Runs `build` inside census's gRPC runtime: a tonic channel spawns
    /// its connection tasks on the runtime current while it is built.
    pub(super) fn within<T>(build: impl FnOnce() -> T) -> Result<T, FromEnvError> {
        let runtime = runtime().map_err(|source| FromEnvError::GrpcRuntime { source })?;
        let _entered = runtime.enter();
        Ok(build())
    }

    /// A runtime census owns rather than the caller's: `from_env` may run
    /// outside any runtime, and on a current-thread runtime a blocking
    /// `Tracer::shutdown` would stall the very runtime its flush needs.
    /// One thread, started on first use and kept for the process.
    fn runtime() -> std::io::Result<Handle> {
        static HANDLE: Mutex<Option<Handle>> = Mutex::new(None);
        let mut handle = HANDLE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = handle.as_ref() {
            return Ok(handle.clone());
        }
        let (started, start) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("census-otlp-grpc".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => {
                        let _ = started.send(Ok(runtime.handle().clone()));
                        runtime.block_on(std::future::pending::<()>());
                    }
                    Err(error) => {
                        let _ = started.send(Err(error));
                    }
                }
            })?;
        let started = start.recv().map_err(|_| {
            std::io::Error::other("the gRPC runtime thread ended before it started")
        })??;
        *handle = Some(started.clone());
        Ok(started)
    }
}
