use census_core::model::{Failure, HttpCommand, Outcome};
use census_core::span::InSpan;
use http::Extensions;
use opentelemetry::trace::SpanKind;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

use crate::INTEGRATION;

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
        if !INTEGRATION.should_trace() {
            return next.run(request, extensions).await;
        }
        let command = HttpCommand::new(request.method(), request.url());
        let span = INTEGRATION.start(
            SpanKind::Client,
            command.span_name(),
            &census_core::context::current(),
            || command.attributes(),
        );
        census_core::propagation::inject(span.context(), request.headers_mut());
        InSpan::new(next.run(request, extensions), Some(span), classify).await
    }
}

fn classify(result: &Result<Response>) -> Outcome {
    match result {
        Ok(response) => Outcome::HttpClient(response.status().as_u16()),
        Err(error) => Outcome::Failed(describe(error)),
    }
}

/// The failure of a request. reqwest's own message names the URL, secrets
/// included, so the message is built from the kind and the causes.
fn describe(error: &reqwest_middleware::Error) -> Failure {
    let error = match error {
        reqwest_middleware::Error::Reqwest(error) => error,
        reqwest_middleware::Error::Middleware(error) => {
            return Failure::new("middleware", format!("middleware failed: {error}"));
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
    Failure::from_causes(kind, error)
}
