use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{SpanKind, SpanRef, TraceContextExt};
use opentelemetry::{Context, ContextGuard, KeyValue, StringValue};

use crate::metrics::{CallMetric, Measurement};
use crate::model::Outcome;
use crate::registry::{Attributes, Integration, Recorder};

/// A started span that ends exactly once: when [finished](Self::finish),
/// or when dropped (a cancelled future, an abandoned stream).
///
/// ```
/// use census_core::model::Outcome;
/// use census_core::registry::Integration;
/// use opentelemetry::trace::SpanKind;
/// static JOBS: Integration = Integration::new("jobs", "my-jobs", "0.1.0");
/// let span = JOBS.start(SpanKind::Internal, "nightly", &census_core::context::current(), Vec::new);
/// span.finish(&Outcome::Ok);
/// ```
#[derive(Debug)]
#[must_use = "the span ends when this is dropped"]
pub struct ActiveSpan {
    cx: Context,
    // Read once at start: asking the span takes its lock, and ending an
    // unsampled one would still read the clock.
    recording: bool,
    /// The integration that started it, whose instruments measure it.
    integration: Option<&'static Integration>,
    measurement: Option<Measurement>,
}

impl Integration {
    /// Starts a span of `kind` named `name` as a child of `parent`, from
    /// this integration's tracer.
    ///
    /// `attributes` is called only when the span records, so an unsampled
    /// call builds none; samplers other than census's own therefore see the
    /// name and kind, not the attributes. A Server or Consumer span marks its context as the
    /// operation its children belong to
    /// ([`operation`](crate::operation)).
    pub fn start(
        &'static self,
        kind: SpanKind,
        name: impl Into<Cow<'static, str>>,
        parent: &Context,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> ActiveSpan {
        self.start_recording(kind, || name.into(), parent, Attributes(attributes))
    }

    /// [`start`](Self::start) with a name that costs something to build (a
    /// route to look up, a string to format): `name` is called only when
    /// the span records, or when a sampler census does not know needs it.
    ///
    /// ```
    /// use opentelemetry::trace::SpanKind;
    /// use census_core::registry::Integration;
    /// static WEB: Integration = Integration::new("web", "my-web", "0.1.0");
    /// let route = "/users/{id}";
    /// let span = WEB.start_named_by(
    ///     SpanKind::Server,
    ///     || format!("GET {route}").into(),
    ///     &census_core::context::current(),
    ///     Vec::new,
    /// );
    /// assert!(!span.is_recording(), "no provider is installed here");
    /// ```
    pub fn start_named_by(
        &'static self,
        kind: SpanKind,
        name: impl FnOnce() -> Cow<'static, str>,
        parent: &Context,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> ActiveSpan {
        self.start_recording(kind, name, parent, Attributes(attributes))
    }

    /// Starts the Server span of an incoming request: a child of the
    /// caller's context, which the global propagator reads from `headers`
    /// (`traceparent`, `tracestate` and `baggage` by default), named by
    /// `name` and described by `attributes` only when it records, as in
    /// [`start_named_by`](Self::start_named_by).
    ///
    /// ```
    /// use census_core::registry::Integration;
    /// static WEB: Integration = Integration::new("web", "my-web", "0.1.0");
    /// let headers = std::collections::HashMap::from([(
    ///     "traceparent".to_owned(),
    ///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    /// )]);
    /// let span = WEB.start_server(&headers, || "GET /users/{id}".into(), Vec::new);
    /// assert!(!span.is_recording(), "no provider is installed here");
    /// ```
    pub fn start_server(
        &'static self,
        headers: &dyn Extractor,
        name: impl FnOnce() -> Cow<'static, str>,
        attributes: impl FnOnce() -> Vec<KeyValue>,
    ) -> ActiveSpan {
        let parent = crate::propagation::extract_from(headers);
        self.start_recording(SpanKind::Server, name, &parent, Attributes(attributes))
    }

    /// [`start_named_by`](Self::start_named_by), with `record` giving a
    /// recording span its attributes (and, for statements, its final name)
    /// before it is shared. A Server or Consumer span that records marks
    /// its context as its operation.
    pub(crate) fn start_recording(
        &'static self,
        kind: SpanKind,
        name: impl FnOnce() -> Cow<'static, str>,
        parent: &Context,
        record: impl Recorder,
    ) -> ActiveSpan {
        let request = matches!(kind, SpanKind::Server | SpanKind::Consumer);
        let operation = Cell::new(None);
        let name = || {
            let name = name();
            if request {
                operation.set(Some(match &name {
                    Cow::Borrowed(name) => Operation::Kept(name),
                    // Copied once, shared by every child that reads it.
                    Cow::Owned(name) => Operation::Built(Arc::from(name.as_str())),
                }));
            }
            name
        };
        let (mut cx, recording) = self.start_in(kind, name, parent, record);
        if recording && let Some(operation) = operation.take() {
            cx = crate::operation::within(cx, operation.into_value());
        }
        ActiveSpan {
            cx,
            recording,
            integration: Some(self),
            measurement: None,
        }
    }
}

/// The name of the operation a request span starts.
enum Operation {
    /// A name kept for the process.
    Kept(&'static str),
    Built(Arc<str>),
}

impl Operation {
    fn into_value(self) -> StringValue {
        match self {
            Self::Kept(name) => StringValue::from(name),
            Self::Built(name) => StringValue::from(name),
        }
    }
}

impl ActiveSpan {
    /// Takes charge of the span `cx` holds, ending it when dropped.
    pub fn from_context(cx: Context) -> Self {
        let recording = cx.span().is_recording();
        Self {
            cx,
            recording,
            integration: None,
            measurement: None,
        }
    }

    /// The context holding the span: run the traced work inside it.
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The span, e.g. to add attributes learned during the call.
    pub fn span(&self) -> SpanRef<'_> {
        self.cx.span()
    }

    /// Whether the span records (it was sampled).
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Runs `f` with the span's context current, as each poll of traced
    /// work does.
    pub fn in_context<R>(&self, f: impl FnOnce() -> R) -> R {
        let _attached = self.cx.clone().attach();
        f()
    }

    /// Measures the call the span traces, as `metric` describes it
    /// ([`metrics`](crate::metrics)): its duration is recorded when the
    /// span ends, with the outcome's status code and `error.type`
    /// (`cancelled` when it ends without an outcome), whether or not the
    /// span records. `metric` is called only while a meter provider is
    /// installed; a span [taken over](Self::from_context) has no
    /// integration to measure it with and is not measured.
    ///
    /// ```
    /// use census_core::metrics::CallMetric;
    /// use census_core::model::{DbSystem, Outcome, Target};
    /// use census_core::registry::Integration;
    /// use opentelemetry::trace::SpanKind;
    /// static DB: Integration = Integration::new("db", "my-db", "0.1.0");
    /// let span = DB
    ///     .start(SpanKind::Client, "SELECT users", &census_core::context::current(), Vec::new)
    ///     .measured(|| CallMetric::database(DbSystem::Postgres, &Target::new()).with_operation("SELECT"));
    /// span.finish(&Outcome::Ok);
    /// ```
    // Inlined, so that the span is not copied in and out of it.
    #[inline]
    pub fn measured(mut self, metric: impl FnOnce() -> CallMetric) -> Self {
        if let Some(integration) = self.integration
            && crate::metrics::is_measuring()
        {
            self.measurement = Some(Measurement::start(integration, metric()));
        }
        self
    }

    /// Writes `outcome` onto the span without ending it (a response whose
    /// body is still streaming); a later outcome adds to it (a status,
    /// then the failure behind it).
    pub fn record(&mut self, outcome: &Outcome) {
        if self.recording {
            outcome.record(&self.cx.span());
        }
        if let Some(measurement) = &mut self.measurement {
            measurement.add_outcome(outcome);
        }
    }

    /// Writes `outcome` and ends the span.
    pub fn finish(mut self, outcome: &Outcome) {
        self.record(outcome);
        // Dropping ends it.
    }

    /// Makes the span current on this thread until the guard drops, which
    /// also ends it: the synchronous form of [`InSpan`](super::InSpan).
    pub fn enter(self) -> EnteredSpan {
        EnteredSpan {
            _attached: self.cx.clone().attach(),
            span: self,
        }
    }
}

impl Drop for ActiveSpan {
    fn drop(&mut self) {
        if let Some(measurement) = self.measurement.take() {
            measurement.end();
        }
        if self.recording {
            self.cx.span().end();
        }
    }
}

/// A span current on this thread until dropped; dropping ends it.
///
/// The guard is bound to the thread: in async code use
/// [`InSpan`](super::InSpan).
#[derive(Debug)]
#[must_use = "the span ends when the guard is dropped"]
pub struct EnteredSpan {
    // Declared first so that it drops first: the span is no longer current
    // when it ends.
    _attached: ContextGuard,
    span: ActiveSpan,
}

impl EnteredSpan {
    /// Adds an attribute to the span.
    pub fn set_attribute(&self, attribute: KeyValue) {
        self.span.span().set_attribute(attribute);
    }

    /// The context holding the span, e.g. to hand to another task.
    pub fn context(&self) -> &Context {
        self.span.context()
    }
}
