use std::borrow::Cow;
use std::error::Error as _;

use census_core::model::HttpCommand;
use census_core::registry::Integration;
use http::Extensions;
use opentelemetry::context::FutureExt;
use opentelemetry::trace::{SpanKind, SpanRef, Status, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

/// reqwest-middleware [`Middleware`] recording a Client span per request.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(census_reqwest::TracingMiddleware::new())
///     .build();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingMiddleware {
    _private: (),
}

impl TracingMiddleware {
    /// The middleware, as described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Middleware for TracingMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        if !Integration::Reqwest.should_trace() {
            return next.run(request, extensions).await;
        }
        let command = HttpCommand::new(request.method(), request.url());
        let cx = census_core::span::start(
            Integration::Reqwest,
            SpanKind::Client,
            command.span_name(),
            command.attributes(),
            &Context::current(),
        );
        census_core::propagation::inject(&cx, request.headers_mut());
        let result = next.run(request, extensions).with_context(cx.clone()).await;
        let span = cx.span();
        match &result {
            Ok(response) => record_status(&span, response.status()),
            Err(error) => {
                let (error_type, message) = describe(error);
                census_core::span::record_failure(&span, error_type, message);
            }
        }
        span.end();
        result
    }
}

fn record_status(span: &SpanRef<'_>, status: http::StatusCode) {
    span.set_attribute(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if status.is_client_error() || status.is_server_error() {
        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
        span.set_status(Status::error(""));
    }
}

/// `error.type` and a message for a failed request. reqwest's own message
/// names the URL, secrets included, so the message is built from the kind
/// and the underlying cause instead.
fn describe(error: &reqwest_middleware::Error) -> (&'static str, Cow<'static, str>) {
    let error = match error {
        reqwest_middleware::Error::Reqwest(error) => error,
        reqwest_middleware::Error::Middleware(error) => {
            return ("middleware", format!("middleware failed: {error}").into());
        }
    };
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_request() {
        "request"
    } else {
        "_OTHER"
    };
    let mut message = format!("{kind} error");
    let mut cause = error.source();
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    (kind, message.into())
}
