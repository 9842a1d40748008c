use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::console_logs::LogLine;
use super::format::{elapsed, kind_name};

/// Operations waiting for spans of this process before they are printed
/// as they are, the oldest first, to bound memory.
const MAX_PENDING_TRACES: usize = 1024;

/// Prints each finished operation as a tree, once its local root span ends:
///
/// ```text
/// ── trace 5b8aa5a2d2c872e8321cf37308d69df2 ──
/// GET [client] 3.21 ms
///   http.request.method=GET url.full=http://127.0.0.1:41337/orders/42 ...
/// └─ GET /orders/{id} [server] 2.87 ms
///    ├─ SELECT products [client] 0.31 ms
/// ```
///
/// A local root is a span with no parent, or whose parent is remote: a
/// server span continuing a caller's trace from another process. The spans
/// of a trace received so far print together as soon as none of them waits
/// for a parent in this process, that is, each has no parent, a remote
/// parent, or a parent among them; every span prints once. A remote parent
/// that is in fact in this process (a process calling itself) joins the
/// tree when both arrive in one batch, as with the batch processor; span
/// by span, the continued part prints first as a tree of its own, under a
/// `(parent … is in another process)` line, and the caller's after.
///
/// Spans still waiting for their parent (it never ended, or it ended and
/// printed before them) are printed at shutdown or flush, or when too many
/// operations are pending.
///
/// Log records from its [`log_exporter`](ConsoleExporter::log_exporter)
/// print under the span they were written in, when the trace prints;
/// records written outside any sampled trace print at once, on a line of
/// their own.
///
/// ```
/// let exporter = census_pipeline::export::ConsoleExporter::new();
/// ```
pub struct ConsoleExporter {
    pub(super) state: Arc<Mutex<State>>,
}

pub(super) struct State {
    pub(super) out: Box<dyn Write + Send>,
    pending: HashMap<TraceId, Vec<SpanData>>,
    order: VecDeque<TraceId>,
    /// Log records waiting for their trace to print, by trace.
    pub(super) logs: HashMap<TraceId, Vec<LogLine>>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// Prints to standard output.
    pub fn new() -> Self {
        Self::with_writer(io::stdout())
    }

    /// Prints to `writer`.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                out: Box::new(writer),
                pending: HashMap::new(),
                order: VecDeque::new(),
                logs: HashMap::new(),
            })),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }
}

pub(super) fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn accept(&mut self, batch: Vec<SpanData>) -> io::Result<()> {
        // The whole batch goes in before anything prints, so that a caller
        // in this process arriving after the span that continues it (it
        // ends later) still gets it as a child.
        let mut touched = Vec::new();
        let mut seen = HashSet::new();
        for span in batch {
            let trace_id = span.span_context.trace_id();
            if seen.insert(trace_id) {
                touched.push(trace_id);
            }
            self.pending
                .entry(trace_id)
                .or_insert_with(|| {
                    self.order.push_back(trace_id);
                    Vec::new()
                })
                .push(span);
        }
        for trace_id in touched {
            if self.pending.get(&trace_id).is_some_and(|s| !waits(s)) {
                self.print_trace(trace_id)?;
            }
        }
        while self.pending.len() > MAX_PENDING_TRACES {
            match self.order.front().copied() {
                Some(oldest) => self.print_trace(oldest)?,
                None => break,
            }
        }
        self.out.flush()
    }

    fn print_trace(&mut self, trace_id: TraceId) -> io::Result<()> {
        self.order.retain(|id| *id != trace_id);
        let Some(spans) = self.pending.remove(&trace_id) else {
            return Ok(());
        };
        let logs = self.logs.remove(&trace_id).unwrap_or_default();
        self.out
            .write_all(render_tree(trace_id, &spans, logs).as_bytes())
    }

    pub(super) fn print_all(&mut self) -> io::Result<()> {
        while let Some(oldest) = self.order.front().copied() {
            self.print_trace(oldest)?;
        }
        // Records of traces none of whose spans arrived.
        let mut orphans: Vec<LogLine> = self.logs.drain().flat_map(|(_, lines)| lines).collect();
        orphans.sort_by_key(|line| line.time);
        for line in orphans {
            writeln!(self.out, "{}", line.text)?;
        }
        self.out.flush()
    }
}

/// Whether a span of `spans` waits for a parent in this process that has
/// not ended yet: a parent that is neither remote nor among `spans`.
fn waits(spans: &[SpanData]) -> bool {
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    spans.iter().any(|s| {
        s.parent_span_id != SpanId::INVALID
            && !s.parent_span_is_remote
            && !ids.contains(&s.parent_span_id)
    })
}

fn render_tree(trace_id: TraceId, spans: &[SpanData], lines: Vec<LogLine>) -> String {
    let ids: Vec<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut logs: HashMap<SpanId, Vec<LogLine>> = HashMap::new();
    let mut unplaced = Vec::new();
    for line in lines {
        if ids.contains(&line.span_id) {
            logs.entry(line.span_id).or_default().push(line);
        } else {
            unplaced.push(line);
        }
    }
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans {
        if ids.contains(&span.parent_span_id) {
            children.entry(span.parent_span_id).or_default().push(span);
        } else {
            roots.push(span);
        }
    }
    for list in children.values_mut() {
        list.sort_by_key(|s| s.start_time);
    }
    roots.sort_by_key(|s| s.start_time);
    let mut out = format!("── trace {trace_id} ──\n");
    for root in roots {
        if root.parent_span_id != SpanId::INVALID {
            let whereabouts = if root.parent_span_is_remote {
                "is in another process"
            } else {
                // Still running at a flush or shutdown, or printed before.
                "was not exported with these spans"
            };
            let _ = writeln!(out, "(parent {} {whereabouts})", root.parent_span_id);
        }
        render_span(&mut out, root, &children, &logs, "", "");
    }
    for line in unplaced {
        let _ = writeln!(out, "{} (span {} not exported)", line.text, line.span_id);
    }
    out.push('\n');
    out
}

fn render_span(
    out: &mut String,
    span: &SpanData,
    children: &HashMap<SpanId, Vec<&SpanData>>,
    logs: &HashMap<SpanId, Vec<LogLine>>,
    lead: &str,
    indent: &str,
) {
    let duration = elapsed(span.start_time, span.end_time);
    let _ = write!(
        out,
        "{lead}{} [{}] {:.2} ms",
        span.name,
        kind_name(&span.span_kind),
        duration.as_secs_f64() * 1000.0
    );
    if let Status::Error { description } = &span.status {
        out.push_str("  ERROR");
        if !description.is_empty() {
            let _ = write!(out, ": {description}");
        }
    }
    out.push('\n');
    let kids = children
        .get(&span.span_context.span_id())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let bar = if kids.is_empty() { "   " } else { "│  " };
    if !span.attributes.is_empty() {
        let _ = writeln!(out, "{indent}{bar}{}", attribute_line(&span.attributes));
    }
    for line in logs
        .get(&span.span_context.span_id())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let _ = writeln!(out, "{indent}{bar}{}", line.text);
    }
    for (i, child) in kids.iter().enumerate() {
        let last = i + 1 == kids.len();
        let (lead, more) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        render_span(
            out,
            child,
            children,
            logs,
            &format!("{indent}{lead}"),
            &format!("{indent}{more}"),
        );
    }
}

fn attribute_line(attributes: &[KeyValue]) -> String {
    let mut line = String::new();
    for kv in attributes {
        if !line.is_empty() {
            line.push(' ');
        }
        let _ = match &kv.value {
            Value::String(s)
                if s.as_str().contains(char::is_whitespace) || s.as_str().is_empty() =>
            {
                write!(line, "{}={:?}", kv.key, s.as_str())
            }
            value => write!(line, "{}={value}", kv.key),
        };
    }
    line
}

pub(super) fn io_failure(e: io::Error) -> OTelSdkError {
    OTelSdkError::InternalFailure(format!("console exporter could not write: {e}"))
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.state().accept(batch).map_err(io_failure)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.state().print_all().map_err(io_failure)
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        self.state().print_all().map_err(io_failure)
    }
}
