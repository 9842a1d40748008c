//! Log records in the console's trees.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};

use super::console::{ConsoleExporter, State, io_failure, lock};

/// Traces whose records wait for spans that may never come (they were
/// not exported) before the oldest records print on their own.
const MAX_WAITING_TRACES: usize = 1024;

/// A record, rendered, waiting for its trace to print.
pub(super) struct LogLine {
    pub(super) span_id: SpanId,
    pub(super) time: SystemTime,
    pub(super) text: String,
}

/// Prints log records for a [`ConsoleExporter`]: each record written in
/// a sampled span prints under that span when its trace prints,
///
/// ```text
/// └─ GET /orders/{id} [server] 2.87 ms
///    │  http.request.method=GET ...
///    │  ▸ INFO order loaded order_id=42
/// ```
///
/// and every other record at once, as `▸ INFO listening addr=127.0.0.1:3000`.
/// Made by [`ConsoleExporter::log_exporter`]; add it with
/// [`TracerBuilder::log_exporter_simple`](crate::TracerBuilder::log_exporter_simple),
/// so that a record reaches it before its span ends.
///
/// ```
/// use census_pipeline::{Tracer, export::ConsoleExporter};
/// let spans = ConsoleExporter::new();
/// let logs = spans.log_exporter();
/// let tracer = Tracer::builder().exporter(spans).log_exporter_simple(logs).install(false).build();
/// # tracer.shutdown(std::time::Duration::from_secs(1))?;
/// # Ok::<(), census_pipeline::TracerError>(())
/// ```
pub struct ConsoleLogExporter {
    state: Arc<Mutex<State>>,
    /// Whether a span exporter prints trees these records join; alone,
    /// every record prints at once.
    paired: bool,
}

impl std::fmt::Debug for ConsoleLogExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleLogExporter").finish_non_exhaustive()
    }
}

impl ConsoleExporter {
    /// A log exporter whose records print in this exporter's trees.
    pub fn log_exporter(&self) -> ConsoleLogExporter {
        ConsoleLogExporter {
            state: Arc::clone(&self.state),
            paired: true,
        }
    }
}

impl ConsoleLogExporter {
    /// Prints every record at once to standard output, on a line of its
    /// own, for when no trees print (spans go elsewhere).
    ///
    /// ```
    /// let logs = census_pipeline::export::ConsoleLogExporter::alone();
    /// ```
    pub fn alone() -> Self {
        Self::alone_with_writer(std::io::stdout())
    }

    /// [`alone`](Self::alone), printing to `writer`.
    pub fn alone_with_writer(writer: impl std::io::Write + Send + 'static) -> Self {
        Self {
            state: ConsoleExporter::with_writer(writer).state,
            paired: false,
        }
    }
}

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut state = lock(&self.state);
        for (record, _) in batch.iter() {
            let text = render(record);
            match sampled_trace(record).filter(|_| self.paired) {
                Some((trace_id, span_id)) => {
                    state.logs.entry(trace_id).or_default().push(LogLine {
                        span_id,
                        time: record
                            .timestamp()
                            .or_else(|| record.observed_timestamp())
                            .unwrap_or_else(SystemTime::now),
                        text,
                    });
                }
                None => writeln!(state.out, "{text}").map_err(io_failure)?,
            }
        }
        if state.logs.len() > MAX_WAITING_TRACES {
            state.print_all().map_err(io_failure)?;
        }
        state.out.flush().map_err(io_failure)
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        lock(&self.state).print_all().map_err(io_failure)
    }
}

/// The trace and span a record was written in, when its spans are
/// exported (sampled).
fn sampled_trace(record: &SdkLogRecord) -> Option<(TraceId, SpanId)> {
    let trace = record.trace_context()?;
    let sampled = trace.trace_flags.is_some_and(|f| f.is_sampled());
    (sampled && trace.trace_id != TraceId::INVALID && trace.span_id != SpanId::INVALID)
        .then_some((trace.trace_id, trace.span_id))
}

/// `▸ LEVEL body key=value ...`.
fn render(record: &SdkLogRecord) -> String {
    let level = record.severity_text().unwrap_or("LOG");
    let mut line = format!("▸ {}", level.to_ascii_uppercase());
    if let Some(body) = record.body() {
        line.push(' ');
        push_value(&mut line, body, false);
    }
    for (key, value) in record.attributes_iter() {
        let _ = write!(line, " {key}=");
        push_value(&mut line, value, true);
    }
    line
}

fn push_value(line: &mut String, value: &AnyValue, quote_spaces: bool) {
    let _ = match value {
        AnyValue::String(s)
            if quote_spaces
                && (s.as_str().is_empty() || s.as_str().contains(char::is_whitespace)) =>
        {
            write!(line, "{:?}", s.as_str())
        }
        AnyValue::String(s) => write!(line, "{}", s.as_str()),
        AnyValue::Int(i) => write!(line, "{i}"),
        AnyValue::Double(d) => write!(line, "{d}"),
        AnyValue::Boolean(b) => write!(line, "{b}"),
        other => write!(line, "{other:?}"),
    };
}
