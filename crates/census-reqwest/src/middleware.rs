use census_core::http::{HttpHooks, RequestInfo, ResponseHook, Unpropagated, Untraced};
use census_core::metrics::CallMetric;
use census_core::model::{Failure, HttpCommand, Outcome};
use census_core::span::{Classify, InSpan};
use http::Extensions;
use opentelemetry::trace::{SpanKind, SpanRef};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};
use url::Position;

use crate::INTEGRATION;

/// reqwest-middleware [`Middleware`] recording a Client span per request.
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(census_reqwest::TracingMiddleware::new())
///     .build();
/// ```
///
/// One request can opt out with reqwest-middleware's request extensions:
/// `.with_extension(census_core::http::Untraced)` records nothing and
/// sends no `traceparent`, `Unpropagated` records the span but sends no
/// `traceparent`.
#[derive(Debug, Clone, Default)]
pub struct TracingMiddleware {
    hooks: HttpHooks,
}

impl TracingMiddleware {
    /// The middleware, as described in the crate docs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Configures which requests are traced (hosts to leave alone), span
    /// names and callbacks.
    ///
    /// ```
    /// use census_core::http::{Exclusions, HttpHooks};
    /// let middleware = census_reqwest::TracingMiddleware::new()
    ///     .hooks(HttpHooks::new().exclusions(Exclusions::new().host("metadata.internal")));
    /// ```
    pub fn hooks(mut self, hooks: HttpHooks) -> Self {
        self.hooks = hooks;
        self
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
        if !INTEGRATION.should_trace() || extensions.get::<Untraced>().is_some() {
            return next.run(request, extensions).await;
        }
        let span = {
            let url = request.url();
            let authority = &url[Position::BeforeHost..Position::AfterPort];
            let info = RequestInfo::from_headers(
                request.method(),
                url.path(),
                Some(authority),
                request.headers(),
            );
            if !self.hooks.traces_outgoing(&info) {
                None
            } else {
                let span = INTEGRATION
                    .start(
                        SpanKind::Client,
                        self.hooks
                            .name(&info, HttpCommand::span_name_for(request.method())),
                        &census_core::context::current(),
                        // Described only when sampled: the URL is redacted.
                        || HttpCommand::new(request.method(), url).attributes(),
                    )
                    .measured(|| {
                        CallMetric::http_client(
                            request.method(),
                            url.scheme() == "https",
                            url.host_str().unwrap_or_default(),
                            url.port(),
                        )
                    });
                self.hooks.request(&info, &span.span());
                Some(span)
            }
        };
        // Awaited outside the block: what it borrowed is not `Send`.
        let Some(span) = span else {
            return next.run(request, extensions).await;
        };
        if extensions.get::<Unpropagated>().is_none() {
            census_core::propagation::inject(span.context(), request.headers_mut());
        }
        let classify = ClientOutcome(self.hooks.response_hook());
        InSpan::new(next.run(request, extensions), Some(span), classify).await
    }
}

/// A response's status, after the response callback, or the failure.
struct ClientOutcome(ResponseHook);

impl Classify<Result<Response>> for ClientOutcome {
    fn classify(self, result: &Result<Response>, span: &SpanRef<'_>) -> Outcome {
        if let Ok(response) = result {
            self.0.run(response.status().as_u16(), span);
        }
        classify(result)
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
