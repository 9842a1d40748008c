use std::borrow::Cow;

use opentelemetry::trace::{SpanKind, SpanRef, TraceContextExt};
use opentelemetry::{Context, ContextGuard, KeyValue, StringValue};

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

    /// [`start_named_by`](Self::start_named_by), with `record` giving a
    /// recording span its attributes (and, for statements, its final name)
    /// before it is shared.
    pub(crate) fn start_recording(
        &'static self,
        kind: SpanKind,
        name: impl FnOnce() -> Cow<'static, str>,
        parent: &Context,
        record: impl Recorder,
    ) -> ActiveSpan {
        let request = matches!(kind, SpanKind::Server | SpanKind::Consumer);
        // Copied at most once (a name kept for the process is not), shared
        // by every child that reads it.
        let mut operation = None;
        let name = || {
            let name = name();
            if request {
                operation = Some(match &name {
                    Cow::Borrowed(name) => StringValue::from(*name),
                    Cow::Owned(name) => {
                        StringValue::from(std::sync::Arc::<str>::from(name.as_str()))
                    }
                });
            }
            name
        };
        let (mut cx, recording) = self.start_in(kind, name, parent, record);
        if recording && let Some(operation) = operation {
            cx = crate::operation::within(cx, operation);
        }
        ActiveSpan { cx, recording }
    }
}

impl ActiveSpan {
    /// Takes charge of the span `cx` holds, ending it when dropped.
    pub fn from_context(cx: Context) -> Self {
        let recording = cx.span().is_recording();
        Self { cx, recording }
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

    /// Writes `outcome` onto the span without ending it (a response whose
    /// body is still streaming).
    pub fn record(&self, outcome: &Outcome) {
        if self.recording {
            outcome.record(&self.cx.span());
        }
    }

    /// Writes `outcome` and ends the span.
    pub fn finish(self, outcome: &Outcome) {
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
