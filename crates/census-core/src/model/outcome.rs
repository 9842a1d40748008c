use std::borrow::Cow;
use std::error::Error;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanRef, Status};
use opentelemetry_semantic_conventions::attribute::{
    DB_RESPONSE_STATUS_CODE, ERROR_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TYPE,
    HTTP_RESPONSE_STATUS_CODE, RPC_RESPONSE_STATUS_CODE,
};

/// How a traced call ended, classified the same way for every integration
/// of a kind: the span's status, `error.type` and response attributes
/// follow from it.
///
/// ```
/// use census_core::model::{Failure, Outcome};
/// // A 404 fails an HTTP client call but not the server that answered it.
/// assert!(Outcome::HttpClient(404).is_error());
/// assert!(!Outcome::HttpServer(404).is_error());
/// assert!(Outcome::HttpServer(503).is_error());
/// assert!(Outcome::Failed(Failure::new("23505", "duplicate key")).is_error());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Completed without anything to add.
    Ok,
    /// An HTTP client received a response with this status: 4xx and 5xx
    /// are errors.
    HttpClient(u16),
    /// An HTTP server answered with this status: only 5xx are errors, a
    /// 4xx is the client's.
    HttpServer(u16),
    /// A gRPC client received this status code: anything but OK (0) is an
    /// error.
    GrpcClient(i32),
    /// A gRPC server answered with this status code: only codes that
    /// point at the server (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED,
    /// INTERNAL, UNAVAILABLE, DATA_LOSS) are errors.
    GrpcServer(i32),
    /// The call failed without a response (or with a database error).
    Failed(Failure),
}

/// A failure as telemetry shows it: a low-cardinality `error.type`, a
/// message free of secrets, and the database's own code when there is one.
///
/// ```
/// use census_core::model::Failure;
/// let failure = Failure::new("23505", "duplicate key value violates unique constraint ?")
///     .with_db_status_code("23505");
/// assert_eq!(failure.error_type(), "23505");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    error_type: Cow<'static, str>,
    message: Cow<'static, str>,
    db_status_code: Option<String>,
}

impl Failure {
    /// A failure of type `error_type`; `message` must already be free of
    /// secrets (see [`mask_quoted`](crate::sanitize::mask_quoted)).
    pub fn new(
        error_type: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            error_type: error_type.into(),
            message: message.into(),
            db_status_code: None,
        }
    }

    /// A failure of type `error_type` described by the chain of causes
    /// under `error`: `"{error_type} error: {cause}: {cause}"`. `error`'s
    /// own message is left out, because client libraries put the request's
    /// URL, secrets included, in it.
    ///
    /// ```
    /// use census_core::model::Failure;
    /// #[derive(Debug)]
    /// struct Send(std::io::Error);
    /// impl std::fmt::Display for Send {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("sending to http://user:secret@api.local failed")
    ///     }
    /// }
    /// impl std::error::Error for Send {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
    /// }
    /// let error = Send(std::io::ErrorKind::ConnectionRefused.into());
    /// let failure = Failure::from_causes("connect", &error);
    /// assert_eq!(failure.message(), "connect error: connection refused");
    /// ```
    pub fn from_causes(error_type: &'static str, error: &(dyn Error + 'static)) -> Self {
        let mut message = format!("{error_type} error");
        let mut cause = error.source();
        while let Some(inner) = cause {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            cause = inner.source();
        }
        Self::new(error_type, message)
    }

    /// The failure of code that panicked with `payload`: type `panic`, the
    /// panic's message.
    ///
    /// ```
    /// use census_core::model::Failure;
    /// let payload = std::panic::catch_unwind(|| panic!("out of stock")).unwrap_err();
    /// assert_eq!(Failure::panicked(payload.as_ref()).message(), "out of stock");
    /// ```
    pub fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the code panicked".to_owned());
        Self::new("panic", message)
    }

    /// Adds the database's status code (`db.response.status_code`), e.g. a
    /// SQLSTATE or a MySQL error number.
    pub fn with_db_status_code(mut self, code: impl Into<String>) -> Self {
        self.db_status_code = Some(code.into());
        self
    }

    /// The `error.type` value.
    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    /// The message: the span status description and the exception's.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Outcome {
    /// Whether the span's status becomes Error.
    pub fn is_error(&self) -> bool {
        match self {
            Self::Ok => false,
            Self::HttpClient(status) => *status >= 400,
            Self::HttpServer(status) => *status >= 500,
            Self::GrpcClient(code) => *code != 0,
            Self::GrpcServer(code) => matches!(code, 2 | 4 | 12 | 13 | 14 | 15),
            Self::Failed(_) => true,
        }
    }

    /// Writes the outcome onto `span`: response attributes, and for errors
    /// `error.type`, the Error status and, for failures, an `exception`
    /// event.
    pub fn record(&self, span: &SpanRef<'_>) {
        self.for_each_attribute(|attribute| span.set_attribute(attribute));
        match self {
            Self::Failed(failure) => {
                span.add_event(
                    "exception",
                    vec![
                        KeyValue::new(EXCEPTION_TYPE, failure.error_type.clone()),
                        KeyValue::new(EXCEPTION_MESSAGE, failure.message.clone()),
                    ],
                );
                span.set_status(Status::error(failure.message.clone()));
            }
            _ if self.is_error() => span.set_status(Status::error("")),
            _ => {}
        }
    }

    /// The attributes the outcome gives a span and its call's duration
    /// metric: the response's status code, `error.type` for an error, and
    /// a database's own status code.
    pub(crate) fn for_each_attribute(&self, mut attribute: impl FnMut(KeyValue)) {
        let error = self.is_error();
        match self {
            Self::Ok => {}
            Self::HttpClient(status) | Self::HttpServer(status) => {
                attribute(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(*status)));
                if error {
                    attribute(KeyValue::new(ERROR_TYPE, status.to_string()));
                }
            }
            Self::GrpcClient(code) | Self::GrpcServer(code) => {
                let name = grpc_code_name(*code);
                attribute(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
                if error {
                    attribute(KeyValue::new(ERROR_TYPE, name));
                }
            }
            Self::Failed(failure) => {
                if let Some(code) = &failure.db_status_code {
                    attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code.clone()));
                }
                attribute(KeyValue::new(ERROR_TYPE, failure.error_type.clone()));
            }
        }
    }
}

fn grpc_code_name(code: i32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
        .unwrap_or("_OTHER")
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
    use opentelemetry::{Context, Value};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

    use super::*;

    fn recorded(outcome: Outcome) -> SpanData {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let span = provider.tracer("t").start("call");
        let cx = Context::new().with_span(span);
        outcome.record(&cx.span());
        cx.span().end();
        exporter.get_finished_spans().unwrap().remove(0)
    }

    fn attr(span: &SpanData, key: &str) -> Option<Value> {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    }

    #[test]
    fn http_client_fails_on_4xx_and_5xx_server_only_on_5xx() {
        for (outcome, error) in [
            (Outcome::HttpClient(200), false),
            (Outcome::HttpClient(404), true),
            (Outcome::HttpClient(503), true),
            (Outcome::HttpServer(404), false),
            (Outcome::HttpServer(500), true),
        ] {
            let code = match outcome {
                Outcome::HttpClient(c) | Outcome::HttpServer(c) => c,
                _ => unreachable!(),
            };
            let span = recorded(outcome);
            assert_eq!(
                attr(&span, "http.response.status_code"),
                Some(Value::I64(i64::from(code)))
            );
            assert_eq!(
                attr(&span, "error.type"),
                error.then(|| Value::from(code.to_string())),
                "{code}"
            );
            assert_eq!(matches!(span.status, Status::Error { .. }), error, "{code}");
        }
    }

    #[test]
    fn grpc_codes_are_named_and_classified_by_side() {
        let span = recorded(Outcome::GrpcServer(5));
        assert_eq!(
            attr(&span, "rpc.response.status_code"),
            Some("NOT_FOUND".into())
        );
        assert_eq!(span.status, Status::Unset);
        let span = recorded(Outcome::GrpcClient(5));
        assert_eq!(attr(&span, "error.type"), Some("NOT_FOUND".into()));
        let span = recorded(Outcome::GrpcServer(14));
        assert_eq!(attr(&span, "error.type"), Some("UNAVAILABLE".into()));
        assert_eq!(grpc_code_name(99), "_OTHER");
    }

    #[test]
    fn failures_record_type_code_status_and_exception_event() {
        let span = recorded(Outcome::Failed(
            Failure::new("23505", "duplicate key ?").with_db_status_code("23505"),
        ));
        assert_eq!(attr(&span, "db.response.status_code"), Some("23505".into()));
        assert_eq!(attr(&span, "error.type"), Some("23505".into()));
        assert_eq!(span.status, Status::error("duplicate key ?"));
        let event = &span.events.events[0];
        assert_eq!(event.name, "exception");
        assert_eq!(
            event.attributes,
            vec![
                KeyValue::new("exception.type", "23505"),
                KeyValue::new("exception.message", "duplicate key ?"),
            ]
        );
    }
}
