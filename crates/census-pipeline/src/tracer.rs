//! The tracer: OpenCensus's `Tracer(exporter=..., sampler=...)` over the
//! OpenTelemetry SDK, with batch export off the request path.

use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkError;
use opentelemetry_sdk::logs::{
    BatchConfig as LogBatchConfig, BatchLogProcessor, LogExporter, LogProcessor,
    LoggerProviderBuilder, SdkLoggerProvider, SimpleLogProcessor,
};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, MeterProviderBuilder, SdkMeterProvider, Stream,
};
use opentelemetry_sdk::trace::{
    SdkTracer, SdkTracerProvider, ShouldSample, SpanExporter, SpanProcessor, TracerProviderBuilder,
};

use census_core::model::Outcome;
use census_core::span::{ActiveSpan, EnteredSpan, InSpan};

use crate::batch::BatchConfig;
use crate::logs::{OperationNameLogProcessor, TraceBasedLogSampling};
use crate::metrics::MetricExportConfig;
use crate::operation::OperationNameProcessor;
use crate::presample::CensusIds;
use crate::propagators::PropagatorName;
use crate::sampling::{KnownSampler, ProbabilitySampler, Sampler};

/// Environment variable: a file to append JSON lines of finished spans to
/// (read by the `census` facade's environment-driven tracer, which adds a
/// [`JsonLinesExporter`](crate::export::JsonLinesExporter) for it).
pub const ENV_EXPORT_JSONL: &str = "CENSUS_EXPORT_JSONL";

/// Why a tracer could not be shut down.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TracerError {
    /// Shutting down did not flush everything before the deadline, or failed.
    #[error("tracer shutdown did not complete within {deadline:?}: {source}")]
    Shutdown {
        /// The deadline given.
        deadline: Duration,
        /// What the SDK reported.
        source: OTelSdkError,
    },
    /// Shutting the meter provider down (its last export) failed; the
    /// spans were flushed.
    #[error("metrics shutdown did not complete: {source}")]
    MetricsShutdown {
        /// What the SDK reported.
        source: OTelSdkError,
    },
    /// Shutting the logger provider down (flushing its queued records)
    /// did not complete within the deadline, or failed; the spans were
    /// flushed.
    #[error("logs shutdown did not complete within {deadline:?}: {source}")]
    LogsShutdown {
        /// The deadline given.
        deadline: Duration,
        /// What the SDK reported.
        source: OTelSdkError,
    },
}

/// Builds a [`Tracer`].
///
/// ```
/// use census_pipeline::{Tracer, export::ConsoleExporter, sampling::ProbabilitySampler};
/// let tracer = Tracer::builder()
///     .exporter(ConsoleExporter::new())
///     .sampler(ProbabilitySampler::new(1.0)?)
///     .service_name("checkout")
///     .build();
/// # Ok::<(), census_pipeline::sampling::SamplerError>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct TracerBuilder {
    provider: TracerProviderBuilder,
    /// The meter provider, once a metric exporter is added.
    meters: Option<MeterProviderBuilder>,
    /// The log processors, built with the logger provider.
    logs: LogStages,
    /// Whether each log exporter drops the records of dropped operations.
    trace_based_log_sampling: bool,
    service_name: Option<String>,
    install: bool,
    /// The sampler, when census knows its rule.
    sampler: Option<KnownSampler>,
    /// The global propagator to install, when chosen.
    propagators: Option<Vec<PropagatorName>>,
}

impl TracerBuilder {
    /// Adds an exporter, fed by its own
    /// [batch processor](crate::batch::BatchSpanProcessor) (configured by
    /// the `OTEL_BSP_*` variables) on a background thread: recording a
    /// span never waits for the exporter, and a full queue drops spans
    /// rather than block. It receives spans as the application recorded
    /// them.
    pub fn exporter(self, exporter: impl SpanExporter + 'static) -> Self {
        self.span_processor(BatchConfig::from_env().processor(exporter))
    }

    /// [`exporter`](Self::exporter), for an exporter that maps spans onto
    /// operations, as Application Insights does: each span it receives
    /// carries the name of the request it belongs to
    /// ([`OPERATION_NAME_ATTRIBUTE`](crate::operation::OPERATION_NAME_ATTRIBUTE)),
    /// whatever batch the request itself ends in. No other exporter
    /// receives that attribute.
    ///
    /// ```
    /// use census_pipeline::{Tracer, export::ConsoleExporter};
    /// # let application_insights = ConsoleExporter::new();
    /// let tracer = Tracer::builder()
    ///     .exporter_with_operation_names(application_insights)
    ///     .install(false)
    ///     .build();
    /// ```
    pub fn exporter_with_operation_names(self, exporter: impl SpanExporter + 'static) -> Self {
        self.span_processor(OperationNameProcessor::new(
            BatchConfig::from_env().processor(exporter),
        ))
    }

    /// Adds a span processor as it is, for full control over export.
    pub fn span_processor(mut self, processor: impl SpanProcessor + 'static) -> Self {
        self.provider = self.provider.with_span_processor(processor);
        self
    }

    /// Adds a metric exporter, fed by the SDK's periodic reader every
    /// `OTEL_METRIC_EXPORT_INTERVAL` (60 s by default; see
    /// [`MetricExportConfig`]), with the aggregation temporality the
    /// exporter asks for.
    ///
    /// With at least one, `build` makes a meter provider beside the tracer
    /// provider (same resource), installs it with the tracer (census's
    /// integrations then measure every call, sampled or not:
    /// [`census_core::metrics`], with bound instruments; OpenTelemetry's global meter provider,
    /// for the application's own instruments), and
    /// [`shutdown`](Tracer::shutdown) exports what is left.
    ///
    /// ```
    /// use census_pipeline::Tracer;
    /// use opentelemetry::metrics::MeterProvider as _;
    /// let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    /// let tracer = Tracer::builder().metric_exporter(exporter.clone()).install(false).build();
    /// let meter = tracer.meter_provider().expect("built").meter("orders");
    /// meter.u64_counter("orders.placed").build().add(1, &[]);
    /// tracer.shutdown(std::time::Duration::from_secs(5))?;
    /// assert_eq!(exporter.get_finished_metrics()?.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metric_exporter(self, exporter: impl PushMetricExporter) -> Self {
        self.metric_exporter_with(exporter, MetricExportConfig::from_env())
    }

    /// [`metric_exporter`](Self::metric_exporter) at the interval `config`
    /// sets, whatever the environment says.
    pub fn metric_exporter_with(
        mut self,
        exporter: impl PushMetricExporter,
        config: MetricExportConfig,
    ) -> Self {
        let meters = self.meters.take().unwrap_or_else(SdkMeterProvider::builder);
        self.meters = Some(meters.with_reader(config.reader(exporter)));
        self
    }

    /// Adds a log exporter, fed by the SDK's batch log processor (a
    /// bounded queue on a thread of its own, configured by the
    /// `OTEL_BLRP_*` variables): writing a log record never waits for the
    /// exporter. A full queue drops records rather than block; the SDK
    /// counts them and warns through `tracing` (target `opentelemetry_sdk`)
    /// when dropping starts, and at shutdown with the total
    /// (`dropped_logs_count`).
    ///
    /// Records written inside an operation that sampling dropped are not
    /// exported ([`TraceBasedLogSampling`]) unless
    /// [`trace_based_log_sampling`](Self::trace_based_log_sampling) is
    /// off; records written outside any trace always are.
    ///
    /// With at least one, `build` makes a logger provider beside the
    /// tracer provider (same resource) for the log bridges to write to
    /// ([`Tracer::logger_provider`]), and [`shutdown`](Tracer::shutdown)
    /// flushes it. A record written while a span is current carries the
    /// span's trace and span ids.
    ///
    /// ```
    /// use census_pipeline::Tracer;
    /// use opentelemetry::logs::{Logger as _, LoggerProvider as _, LogRecord as _};
    /// let exporter = opentelemetry_sdk::logs::InMemoryLogExporter::default();
    /// let tracer = Tracer::builder().log_exporter(exporter.clone()).install(false).build();
    /// let logger = tracer.logger_provider().expect("built").logger("orders");
    /// let mut record = logger.create_log_record();
    /// record.set_body("order placed".into());
    /// logger.emit(record);
    /// tracer.logger_provider().expect("built").force_flush()?;
    /// assert_eq!(exporter.get_emitted_logs()?.len(), 1);
    /// tracer.shutdown(std::time::Duration::from_secs(5))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn log_exporter(self, exporter: impl LogExporter + 'static) -> Self {
        // The SDK's default configuration reads the `OTEL_BLRP_*` variables.
        self.log_exporter_with(exporter, LogBatchConfig::default())
    }

    /// [`log_exporter`](Self::log_exporter) with the queue size, batch
    /// size and delay `config` sets, whatever the environment says.
    ///
    /// ```
    /// use opentelemetry_sdk::logs::BatchConfigBuilder;
    /// let config = BatchConfigBuilder::default().with_max_queue_size(4096).build();
    /// let tracer = census_pipeline::Tracer::builder()
    ///     .log_exporter_with(opentelemetry_sdk::logs::InMemoryLogExporter::default(), config)
    ///     .install(false)
    ///     .build();
    /// ```
    pub fn log_exporter_with(
        mut self,
        exporter: impl LogExporter + 'static,
        config: LogBatchConfig,
    ) -> Self {
        self.logs.0.push(Box::new(|logs, sampled| {
            let batch = BatchLogProcessor::builder(exporter)
                .with_batch_config(config)
                .build();
            with_sampling(logs, sampled, batch)
        }));
        self
    }

    /// [`log_exporter`](Self::log_exporter), for an exporter that maps
    /// records onto operations, as Application Insights does: each record
    /// written inside a request carries its name
    /// ([`OPERATION_NAME_ATTRIBUTE`](crate::operation::OPERATION_NAME_ATTRIBUTE),
    /// through [`OperationNameLogProcessor`]). No other exporter receives
    /// that attribute.
    ///
    /// ```
    /// use census_pipeline::Tracer;
    /// # let application_insights = opentelemetry_sdk::logs::InMemoryLogExporter::default();
    /// let tracer = Tracer::builder()
    ///     .log_exporter_with_operation_names(application_insights)
    ///     .install(false)
    ///     .build();
    /// ```
    pub fn log_exporter_with_operation_names(
        mut self,
        exporter: impl LogExporter + 'static,
    ) -> Self {
        self.logs.0.push(Box::new(|logs, sampled| {
            let batch = BatchLogProcessor::builder(exporter).build();
            with_sampling(logs, sampled, OperationNameLogProcessor::new(batch))
        }));
        self
    }

    /// Adds a log exporter that receives each record as it is written, on
    /// the writing thread (the SDK's simple processor), behind the same
    /// trace-based sampling: for exporters that only hand records on, such
    /// as the [console's](crate::export::ConsoleExporter::log_exporter),
    /// which must hold a record before its span ends. A slow exporter
    /// slows the application down: remote ones go through
    /// [`log_exporter`](Self::log_exporter).
    ///
    /// ```
    /// use census_pipeline::{Tracer, export::ConsoleExporter};
    /// let spans = ConsoleExporter::new();
    /// let tracer = Tracer::builder()
    ///     .log_exporter_simple(spans.log_exporter())
    ///     .exporter(spans)
    ///     .install(false)
    ///     .build();
    /// ```
    pub fn log_exporter_simple(mut self, exporter: impl LogExporter + 'static) -> Self {
        self.logs.0.push(Box::new(|logs, sampled| {
            with_sampling(logs, sampled, SimpleLogProcessor::new(exporter))
        }));
        self
    }

    /// Adds a log processor as it is, for full control over export: no
    /// trace-based sampling is put in front of it.
    pub fn log_processor(mut self, processor: impl LogProcessor + 'static) -> Self {
        self.logs
            .0
            .push(Box::new(|logs, _| logs.with_log_processor(processor)));
        self
    }

    /// Whether the log exporters drop the records written inside an
    /// operation that sampling dropped (default: yes, as Microsoft's
    /// exporters have it since 2025). Off, every record is exported.
    ///
    /// ```
    /// let tracer = census_pipeline::Tracer::builder()
    ///     .log_exporter(opentelemetry_sdk::logs::InMemoryLogExporter::default())
    ///     .trace_based_log_sampling(false)
    ///     .install(false)
    ///     .build();
    /// ```
    pub fn trace_based_log_sampling(mut self, on: bool) -> Self {
        self.trace_based_log_sampling = on;
        self
    }

    /// Sets the sampler; the default, OpenTelemetry's
    /// `parentbased_always_on`, keeps every operation whose parent (if
    /// any) was kept. The builder reads no environment variable for it
    /// (`Tracer::from_env()` and `Settings` do). With that default or a
    /// [`ProbabilitySampler`]
    /// census takes the decision itself before the SDK builds a span, so a
    /// dropped span costs only its ids.
    pub fn sampler(mut self, sampler: impl ShouldSample + 'static) -> Self {
        self.sampler = (&sampler as &dyn Any)
            .downcast_ref::<ProbabilitySampler>()
            .map(|&s| KnownSampler::Probability(s));
        self.provider = self.provider.with_sampler(sampler);
        self
    }

    /// Sets `service.name` (Application Insights' cloud role); without it
    /// `OTEL_SERVICE_NAME` applies.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// The propagators `build` installs as OpenTelemetry's global one (a
    /// composite, in this order), which census's integrations and any
    /// other OpenTelemetry instrumentation read and write headers with.
    ///
    /// Without this (or with an empty list), `build` installs
    /// `tracecontext,baggage` (W3C Trace Context and Baggage,
    /// OpenTelemetry's default) unless the application installed a
    /// propagator of its own before, which it keeps; `none` alone installs
    /// nothing. Like the provider, the propagator is installed only when
    /// the builder [installs](Self::install).
    ///
    /// ```
    /// use census_pipeline::{Tracer, propagators::PropagatorName};
    /// use opentelemetry::propagation::TextMapPropagator;
    /// let tracer = Tracer::builder()
    ///     .propagators(&PropagatorName::parse_list("b3multi,baggage")?)
    ///     .build();
    /// let mut fields: Vec<String> =
    ///     opentelemetry::global::get_text_map_propagator(|p| p.fields().map(str::to_owned).collect());
    /// fields.sort_unstable();
    /// assert_eq!(fields, ["b3", "baggage", "x-b3-flags", "x-b3-parentspanid", "x-b3-sampled", "x-b3-spanid", "x-b3-traceid"]);
    /// # Ok::<(), census_pipeline::propagators::PropagatorListError>(())
    /// ```
    pub fn propagators(mut self, names: &[PropagatorName]) -> Self {
        self.propagators = Some(names.to_vec());
        self
    }

    /// Whether `build` installs the tracer (default: yes): it becomes the
    /// provider census integrations record with
    /// ([`census_core::registry::set_tracer_provider`])
    /// and OpenTelemetry's global provider, for other instrumentation, and
    /// the [propagators](Self::propagators) become the global propagator.
    /// Turn it off for a tracer used on its own, e.g. in a test: then
    /// nothing global changes, the propagator included.
    pub fn install(mut self, install: bool) -> Self {
        self.install = install;
        self
    }

    /// Builds the tracer and, unless turned off, installs it.
    pub fn build(self) -> Tracer {
        let mut resource = Resource::builder();
        if let Some(name) = self.service_name {
            resource = resource.with_service_name(name);
        }
        let resource = resource.build();
        let meter_provider = self.meters.map(|meters| {
            meters
                .with_resource(resource.clone())
                .with_view(without_sdk_metrics)
                .build()
        });
        let logger_provider = (!self.logs.0.is_empty()).then(|| {
            let sampled = self.trace_based_log_sampling;
            self.logs
                .0
                .into_iter()
                .fold(SdkLoggerProvider::builder(), |logs, stage| {
                    stage(logs, sampled)
                })
                .with_resource(resource.clone())
                .build()
        });
        let provider = self
            .provider
            .with_id_generator(CensusIds::default())
            .with_resource(resource)
            .build();
        let tracer = Tracer {
            tracer: provider.tracer("census"),
            provider,
            meter_provider,
            logger_provider,
            sampler: self.sampler,
            events_bridged: Arc::default(),
        };
        if self.install {
            if let Some(meter_provider) = &tracer.meter_provider {
                census_core::metrics::set_meter_provider_binding(meter_provider.clone());
                global::set_meter_provider(meter_provider.clone());
            }
            tracer.install_for_integrations();
            global::set_tracer_provider(tracer.provider.clone());
            install_propagators(self.propagators.as_deref());
        }
        tracer
    }
}

/// The view that drops the metrics OpenTelemetry's SDK records about
/// itself on the global meter provider (records created, queue capacity,
/// exports): they would be exported from every application as its own.
/// The SDK still counts and reports dropped records through `tracing`.
fn without_sdk_metrics(instrument: &Instrument) -> Option<Stream> {
    (instrument.scope().name() == "otel.sdk")
        .then(|| {
            Stream::builder()
                .with_aggregation(Aggregation::Drop)
                .build()
                .ok()
        })
        .flatten()
}

/// Adds one log exporter's processors to the logger provider, given
/// whether trace-based sampling is on; run by `build`.
type LogStage = Box<dyn FnOnce(LoggerProviderBuilder, bool) -> LoggerProviderBuilder>;

/// The log exporters and processors added, in order.
#[derive(Default)]
struct LogStages(Vec<LogStage>);

impl std::fmt::Debug for LogStages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} log processors", self.0.len())
    }
}

/// `processor`, behind [`TraceBasedLogSampling`] when `sampled`.
fn with_sampling(
    logs: LoggerProviderBuilder,
    sampled: bool,
    processor: impl LogProcessor + 'static,
) -> LoggerProviderBuilder {
    if sampled {
        logs.with_log_processor(TraceBasedLogSampling::new(processor))
    } else {
        logs.with_log_processor(processor)
    }
}

/// Installs the composite of `names` as the global propagator; `none`
/// installs nothing; without names (or with an empty list),
/// OpenTelemetry's default unless a propagator is installed already
/// (OpenTelemetry's no-op one has no fields).
fn install_propagators(names: Option<&[PropagatorName]>) {
    let names = match names {
        Some([PropagatorName::None]) => return,
        Some(names) if !names.is_empty() => names,
        _ if global::get_text_map_propagator(|p| p.fields().next().is_none()) => {
            &PropagatorName::DEFAULT
        }
        _ => return,
    };
    global::set_text_map_propagator(PropagatorName::composite(names));
}

/// Records in-process work and owns the export pipeline.
///
/// ```
/// use census_pipeline::{Tracer, export::ConsoleExporter};
/// let tracer = Tracer::builder().exporter(ConsoleExporter::new()).install(false).build();
/// {
///     let _span = tracer.span("compute totals");
///     // ... work measured as an in-process dependency
/// }
/// tracer.shutdown(std::time::Duration::from_secs(5))?;
/// # Ok::<(), census_pipeline::TracerError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Tracer {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    /// Built when the builder was given a metric exporter.
    meter_provider: Option<SdkMeterProvider>,
    /// Built when the builder was given a log exporter or processor.
    logger_provider: Option<SdkLoggerProvider>,
    /// The sampler, when census knows its rule.
    sampler: Option<KnownSampler>,
    /// Set once a bridge writes `tracing` events as this tracer's log
    /// records, shared by its clones.
    events_bridged: Arc<AtomicBool>,
}

impl Tracer {
    /// Starts building a tracer.
    pub fn builder() -> TracerBuilder {
        TracerBuilder {
            // Set here rather than left to the SDK, which would read
            // `OTEL_TRACES_SAMPLER` itself: the environment is read in one
            // place, the `census` facade's `Settings`.
            provider: SdkTracerProvider::builder()
                .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOn))),
            meters: None,
            logs: LogStages::default(),
            trace_based_log_sampling: true,
            service_name: None,
            install: true,
            sampler: Some(KnownSampler::ParentBasedAlwaysOn),
            propagators: None,
        }
    }

    /// Starts an in-process span (kind Internal) as a child of the current
    /// context and makes it current until the guard drops, which ends it.
    ///
    /// The guard is bound to the thread: in async code use [`Tracer::in_span`].
    pub fn span(&self, name: impl Into<Cow<'static, str>>) -> EnteredSpan {
        self.start_internal(name).enter()
    }

    /// Runs `future` inside a new in-process span, a child of the current
    /// context; the span ends when the future completes or is dropped.
    pub fn in_span<F: Future>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> InSpan<F, fn(&F::Output) -> Outcome> {
        InSpan::new(future, Some(self.start_internal(name)), |_| Outcome::Ok)
    }

    fn start_internal(&self, name: impl Into<Cow<'static, str>>) -> ActiveSpan {
        let parent = census_core::context::current();
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .start_with_context(&self.tracer, &parent);
        ActiveSpan::from_context(parent.with_span(span))
    }

    /// Makes the provider the one census integrations record with, with
    /// the sampler's rule when census knows it.
    pub(crate) fn install_for_integrations(&self) {
        let provider = self.provider.clone();
        match self.sampler {
            Some(sampler) => {
                census_core::registry::set_tracer_provider_presampled(provider, sampler)
            }
            None => census_core::registry::set_tracer_provider(provider),
        }
    }

    /// The OpenTelemetry provider.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// The OpenTelemetry meter provider, when the builder was given a
    /// metric exporter.
    pub fn meter_provider(&self) -> Option<&SdkMeterProvider> {
        self.meter_provider.as_ref()
    }

    /// The logger provider the log bridges write to, when the builder was
    /// given a log exporter or processor.
    pub fn logger_provider(&self) -> Option<&SdkLoggerProvider> {
        self.logger_provider.as_ref()
    }

    /// Records that a bridge now writes `tracing` events as this tracer's
    /// log records (the `census` facade's `logs_layer` does), so that the
    /// layer recording `tracing` spans leaves them off the spans: each
    /// event is then exported once.
    ///
    /// ```
    /// let tracer = census_pipeline::Tracer::builder().install(false).build();
    /// assert!(!tracer.events_bridged());
    /// tracer.bridge_events();
    /// assert!(tracer.clone().events_bridged());
    /// ```
    pub fn bridge_events(&self) {
        self.events_bridged.store(true, Ordering::Relaxed);
    }

    /// Whether a bridge writes `tracing` events as log records
    /// ([`bridge_events`](Self::bridge_events)).
    pub fn events_bridged(&self) -> bool {
        self.events_bridged.load(Ordering::Relaxed)
    }

    /// The flag behind [`events_bridged`](Self::events_bridged), for a
    /// filter that reads it as events happen (a layer built before the
    /// bridge).
    ///
    /// ```
    /// let tracer = census_pipeline::Tracer::builder().install(false).build();
    /// let flag = tracer.events_bridged_flag();
    /// tracer.bridge_events();
    /// assert!(flag.load(std::sync::atomic::Ordering::Relaxed));
    /// ```
    pub fn events_bridged_flag(&self) -> Arc<AtomicBool> {
        self.events_bridged.clone()
    }

    /// Flushes what is queued to every exporter and stops them, waiting at
    /// most `deadline` for the spans, then as long for the log records;
    /// metrics then get their last export.
    pub fn shutdown(&self, deadline: Duration) -> Result<(), TracerError> {
        let spans = self
            .provider
            .shutdown_with_timeout(deadline)
            .map_err(|source| TracerError::Shutdown { deadline, source });
        let logs = match &self.logger_provider {
            Some(logger_provider) => logger_provider
                .shutdown_with_timeout(deadline)
                .map_err(|source| TracerError::LogsShutdown { deadline, source }),
            None => Ok(()),
        };
        let metrics = match &self.meter_provider {
            Some(meter_provider) => meter_provider
                .shutdown()
                .map_err(|source| TracerError::MetricsShutdown { source }),
            None => Ok(()),
        };
        spans.and(logs).and(metrics)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanKind, TraceContextExt};
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SimpleSpanProcessor};

    use super::*;
    use crate::export::JsonLinesExporter;

    fn tracer() -> (Tracer, InMemorySpanExporter) {
        let exporter = InMemorySpanExporter::default();
        let tracer = Tracer::builder()
            .span_processor(SimpleSpanProcessor::new(exporter.clone()))
            .service_name("unit")
            .install(false)
            .build();
        (tracer, exporter)
    }

    #[test]
    fn only_the_exporter_that_asks_gets_operation_names_whatever_the_batch() {
        let (named, plain) = (
            InMemorySpanExporter::default(),
            InMemorySpanExporter::default(),
        );
        let tracer = Tracer::builder()
            .exporter_with_operation_names(named.clone())
            .exporter(plain.clone())
            .install(false)
            .build();
        {
            let _guard =
                census_core::operation::within(Context::current(), "GET /orders/{id}").attach();
            drop(tracer.span("load order"));
        }
        // The child leaves in a batch of its own, before anything else.
        tracer.provider().force_flush().unwrap();
        assert_eq!(named.get_finished_spans().unwrap().len(), 1);
        drop(tracer.span("housekeeping"));
        tracer.provider().force_flush().unwrap();

        let named = named.get_finished_spans().unwrap();
        let [child, outside] = named.as_slice() else {
            panic!("{named:?}")
        };
        assert_eq!(
            (child.name.as_ref(), outside.name.as_ref()),
            ("load order", "housekeeping")
        );
        assert_eq!(
            child.attributes,
            vec![KeyValue::new(
                crate::operation::OPERATION_NAME_ATTRIBUTE,
                "GET /orders/{id}"
            )]
        );
        assert_eq!(outside.attributes, Vec::new());
        let plain = plain.get_finished_spans().unwrap();
        assert_eq!(plain.len(), 2);
        for span in plain {
            assert_eq!(span.attributes, Vec::new(), "{}", span.name);
        }
    }

    #[test]
    fn span_guard_records_nested_internal_spans() {
        let (tracer, exporter) = tracer();
        {
            let outer = tracer.span("outer");
            outer.set_attribute(KeyValue::new("items", 3));
            let _inner = tracer.span("inner");
        }
        let spans = exporter.get_finished_spans().unwrap();
        let [inner, outer] = spans.as_slice() else {
            panic!("{spans:?}")
        };
        assert_eq!(
            (inner.name.as_ref(), outer.name.as_ref()),
            ("inner", "outer")
        );
        assert_eq!(inner.span_kind, SpanKind::Internal);
        assert_eq!(outer.span_kind, SpanKind::Internal);
        assert_eq!(inner.parent_span_id, outer.span_context.span_id());
        assert_eq!(inner.span_context.trace_id(), outer.span_context.trace_id());
        assert_eq!(outer.attributes, vec![KeyValue::new("items", 3)]);
        assert!(
            !Context::current().has_active_span(),
            "the guard detaches on drop"
        );
    }

    #[tokio::test]
    async fn in_span_wraps_a_future_and_spawn_carries_the_context() {
        let (tracer, exporter) = tracer();
        let child_tracer = tracer.clone();
        tracer
            .in_span("request work", async move {
                census_core::context::spawn(async move {
                    drop(child_tracer.span("spawned"));
                })
                .await
                .unwrap();
            })
            .await;
        let spans = exporter.get_finished_spans().unwrap();
        let [spawned, work] = spans.as_slice() else {
            panic!("{spans:?}")
        };
        assert_eq!(work.name, "request work");
        assert_eq!(spawned.parent_span_id, work.span_context.span_id());
    }

    #[tokio::test]
    async fn spawn_blocking_carries_the_context_to_the_blocking_thread() {
        let (tracer, exporter) = tracer();
        let child_tracer = tracer.clone();
        tracer
            .in_span("request work", async move {
                census_core::context::spawn_blocking(move || drop(child_tracer.span("blocking")))
                    .await
                    .unwrap();
            })
            .await;
        let spans = exporter.get_finished_spans().unwrap();
        let [blocking, work] = spans.as_slice() else {
            panic!("{spans:?}")
        };
        assert_eq!(blocking.name, "blocking");
        assert_eq!(blocking.parent_span_id, work.span_context.span_id());
    }

    #[test]
    fn shutdown_flushes_batches_within_the_deadline() {
        let lines = crate::testing::SharedBuffer::default();
        let tracer = Tracer::builder()
            .exporter(JsonLinesExporter::new(lines.clone()))
            .install(false)
            .build();
        drop(tracer.span("queued"));
        tracer.shutdown(Duration::from_secs(5)).unwrap();
        let written = lines.text();
        assert_eq!(written.lines().count(), 1, "{written}");
        assert!(written.contains(r#""name":"queued""#), "{written}");
        let err = tracer.shutdown(Duration::from_secs(1)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("tracer shutdown did not complete within 1s"),
            "{err}"
        );
    }

    /// A log exporter that keeps what it receives, shut down or not.
    #[derive(Debug, Clone, Default)]
    struct KeptLogs(std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_sdk::logs::SdkLogRecord>>>);

    impl opentelemetry_sdk::logs::LogExporter for KeptLogs {
        async fn export(
            &self,
            batch: opentelemetry_sdk::logs::LogBatch<'_>,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            let mut kept = self.0.lock().unwrap();
            kept.extend(batch.iter().map(|(record, _)| record.clone()));
            Ok(())
        }
    }

    /// Log records leave through the tracer's logger provider, flushed on
    /// shutdown, each with the trace and span that were current
    /// when it was written (none outside a span).
    #[test]
    fn log_records_carry_the_current_span_and_are_flushed_on_shutdown() {
        use opentelemetry::logs::{LogRecord as _, Logger as _, LoggerProvider as _};
        let (spans, logs) = (InMemorySpanExporter::default(), KeptLogs::default());
        let tracer = Tracer::builder()
            .span_processor(SimpleSpanProcessor::new(spans.clone()))
            .log_exporter(logs.clone())
            .install(false)
            .build();
        let logger = tracer.logger_provider().expect("built").logger("unit");
        let write = |body: &'static str| {
            let mut record = logger.create_log_record();
            record.set_body(body.into());
            logger.emit(record);
        };
        write("starting");
        {
            let _span = tracer.span("handle order");
            write("order placed");
        }
        let span = spans.get_finished_spans().unwrap().remove(0);
        tracer.shutdown(Duration::from_secs(5)).unwrap();

        let exported = logs.0.lock().unwrap();
        let [outside, inside] = exported.as_slice() else {
            panic!("{exported:?}")
        };
        assert_eq!(outside.body(), Some(&"starting".into()));
        assert!(outside.trace_context().is_none());
        assert_eq!(inside.body(), Some(&"order placed".into()));
        let context = inside.trace_context().expect("in a span");
        assert_eq!(context.trace_id, span.span_context.trace_id());
        assert_eq!(context.span_id, span.span_context.span_id());
    }
}
