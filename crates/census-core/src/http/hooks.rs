use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use opentelemetry::trace::SpanRef;

use super::{Exclusions, RequestInfo};

type Filter = dyn Fn(&RequestInfo<'_>) -> bool + Send + Sync;
type Namer = dyn Fn(&RequestInfo<'_>, &str) -> String + Send + Sync;
type Router = dyn Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync;
type OnRequest = dyn Fn(&RequestInfo<'_>, &SpanRef<'_>) + Send + Sync;
type OnResponse = dyn Fn(u16, &SpanRef<'_>) + Send + Sync;

/// The configuration of one HTTP integration's middleware or client:
/// exclusions, a filter, a span-name override and callbacks. Cloning is
/// cheap; the default traces every request, named as the integration
/// names it.
///
/// Hooks run only while the integration is enabled, and callbacks only
/// for spans that record (sampled), so they cost nothing otherwise.
#[derive(Clone, Default)]
pub struct HttpHooks {
    exclusions: Arc<Exclusions>,
    filter: Option<Arc<Filter>>,
    name: Option<Arc<Namer>>,
    route: Option<Arc<Router>>,
    on_request: Option<Arc<OnRequest>>,
    on_response: Option<Arc<OnResponse>>,
    trace_response: bool,
}

impl HttpHooks {
    /// Hooks that change nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests not to trace: incoming ones by path, outgoing ones by host.
    pub fn exclusions(mut self, exclusions: Exclusions) -> Self {
        self.exclusions = Arc::new(exclusions);
        self
    }

    /// Traces only requests for which `filter` returns true.
    pub fn filter(
        mut self,
        filter: impl Fn(&RequestInfo<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// Names spans with `name`, given the request and the name census
    /// would give (`GET /users/{id}`). Keep names low in cardinality: no
    /// ids, no raw paths.
    pub fn span_name(
        mut self,
        name: impl Fn(&RequestInfo<'_>, &str) -> String + Send + Sync + 'static,
    ) -> Self {
        self.name = Some(Arc::new(name));
        self
    }

    /// Servers only: the route template (`/users/{id}`) of a request, for
    /// servers whose framework does not say (plain hyper, tonic); a route
    /// the framework knows (axum's, actix's) comes first.
    ///
    /// ```
    /// use census_core::http::HttpHooks;
    /// let hooks = HttpHooks::new().route(|request| {
    ///     request.path().starts_with("/users/").then(|| "/users/{id}".to_owned())
    /// });
    /// ```
    pub fn route(
        mut self,
        route: impl Fn(&RequestInfo<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.route = Some(Arc::new(route));
        self
    }

    /// The route template of `request` from the [`route`](Self::route)
    /// hook, if one is set.
    pub fn route_of(&self, request: &RequestInfo<'_>) -> Option<String> {
        self.route.as_ref().and_then(|route| route(request))
    }

    /// Calls `hook` with each traced request and its span when it starts,
    /// e.g. to add a user id.
    pub fn on_request(
        mut self,
        hook: impl Fn(&RequestInfo<'_>, &SpanRef<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_request = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` with the response status and the span when a traced
    /// request gets its response.
    pub fn on_response(mut self, hook: impl Fn(u16, &SpanRef<'_>) + Send + Sync + 'static) -> Self {
        self.on_response = Some(Arc::new(hook));
        self
    }

    /// Servers only: answers each traced request with a W3C
    /// `traceresponse` header naming its span, so that a caller can find
    /// the server's side of a call (off by default: it tells callers
    /// the trace ids).
    pub fn trace_response(mut self, on: bool) -> Self {
        self.trace_response = on;
        self
    }

    /// Whether a server traces the incoming `request`: its path is not
    /// excluded, and the filter lets it through.
    pub fn traces_incoming(&self, request: &RequestInfo<'_>) -> bool {
        !self.exclusions.excludes_incoming(request) && self.passes(request)
    }

    /// Whether a client traces the outgoing `request`: its host is not
    /// excluded, and the filter lets it through.
    pub fn traces_outgoing(&self, request: &RequestInfo<'_>) -> bool {
        !self.exclusions.excludes_outgoing(request) && self.passes(request)
    }

    fn passes(&self, request: &RequestInfo<'_>) -> bool {
        self.filter.as_ref().is_none_or(|f| f(request))
    }

    /// The span's name: `default`, unless overridden.
    pub fn name(
        &self,
        request: &RequestInfo<'_>,
        default: impl Into<Cow<'static, str>>,
    ) -> Cow<'static, str> {
        let default = default.into();
        match &self.name {
            Some(name) => Cow::Owned(name(request, &default)),
            None => default,
        }
    }

    /// Runs the request callback on a recording span.
    pub fn request(&self, request: &RequestInfo<'_>, span: &SpanRef<'_>) {
        if let Some(hook) = &self.on_request
            && span.is_recording()
        {
            hook(request, span);
        }
    }

    /// The response callback, to keep until the response arrives (free to
    /// clone when none is set).
    pub fn response_hook(&self) -> ResponseHook {
        ResponseHook {
            on_response: self.on_response.clone(),
            trace_response: self.trace_response,
        }
    }
}

/// The response side of an [`HttpHooks`] (the callback, and whether to
/// send `traceresponse`), carried by a request's future until its response
/// arrives.
#[derive(Clone, Default)]
pub struct ResponseHook {
    on_response: Option<Arc<OnResponse>>,
    trace_response: bool,
}

impl ResponseHook {
    /// Runs the callback, if any, on a recording span.
    pub fn run(&self, status: u16, span: &SpanRef<'_>) {
        if let Some(hook) = &self.on_response
            && span.is_recording()
        {
            hook(status, span);
        }
    }

    /// The `traceresponse` header's value for the request span in `cx`,
    /// when [`trace_response`](HttpHooks::trace_response) is on.
    pub fn trace_response(&self, cx: &opentelemetry::Context) -> Option<String> {
        self.trace_response
            .then(|| crate::propagation::traceparent(cx))
            .flatten()
    }
}

impl fmt::Debug for ResponseHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseHook")
            .field("on_response", &self.on_response.is_some())
            .field("trace_response", &self.trace_response)
            .finish()
    }
}

impl fmt::Debug for HttpHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpHooks")
            .field("exclusions", &self.exclusions)
            .field("filter", &self.filter.is_some())
            .field("span_name", &self.name.is_some())
            .field("route", &self.route.is_some())
            .field("on_request", &self.on_request.is_some())
            .field("on_response", &self.on_response.is_some())
            .field("trace_response", &self.trace_response)
            .finish()
    }
}
