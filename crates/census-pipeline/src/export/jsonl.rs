use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use serde_json::{Map, Value, json};

use super::format::{kind_name, rfc3339, status_name, to_json};

/// Writes one finished span per line as JSON: `trace_id`, `span_id`,
/// `parent_span_id` (`null` for roots), `name`, `kind`, `start_time`,
/// `end_time` (RFC 3339 UTC), `status`, `status_message`, `attributes`,
/// `events`, `scope`.
///
/// ```
/// let exporter = census_pipeline::export::JsonLinesExporter::new(Vec::new());
/// ```
pub struct JsonLinesExporter {
    out: Mutex<Box<dyn Write + Send>>,
}

impl std::fmt::Debug for JsonLinesExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLinesExporter").finish_non_exhaustive()
    }
}

impl JsonLinesExporter {
    /// Appends to the file at `path`, creating it when missing.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self::new(BufWriter::new(file)))
    }

    /// Writes to any writer; it is flushed after every batch.
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self {
            out: Mutex::new(Box::new(writer)),
        }
    }

    fn write_batch(&self, batch: &[SpanData]) -> io::Result<()> {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        for span in batch {
            serde_json::to_writer(&mut *out, &line(span))?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

fn line(span: &SpanData) -> Value {
    let parent = (span.parent_span_id != SpanId::INVALID).then(|| span.parent_span_id.to_string());
    let status_message = match &span.status {
        Status::Error { description } => Some(description.to_string()),
        _ => None,
    };
    let events: Vec<Value> = span
        .events
        .iter()
        .map(|event| {
            json!({
                "name": event.name,
                "time": rfc3339(event.timestamp),
                "attributes": attributes(&event.attributes),
            })
        })
        .collect();
    json!({
        "trace_id": span.span_context.trace_id().to_string(),
        "span_id": span.span_context.span_id().to_string(),
        "parent_span_id": parent,
        "name": span.name,
        "kind": kind_name(&span.span_kind),
        "start_time": rfc3339(span.start_time),
        "end_time": rfc3339(span.end_time),
        "status": status_name(&span.status),
        "status_message": status_message,
        "attributes": attributes(&span.attributes),
        "events": events,
        "scope": span.instrumentation_scope.name(),
    })
}

fn attributes(attributes: &[opentelemetry::KeyValue]) -> Map<String, Value> {
    attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), to_json(&kv.value)))
        .collect()
}

impl SpanExporter for JsonLinesExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.write_batch(&batch)
            .map_err(|e| OTelSdkError::InternalFailure(format!("writing JSON lines failed: {e}")))
    }

    fn force_flush(&self) -> OTelSdkResult {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.flush()
            .map_err(|e| OTelSdkError::InternalFailure(format!("flushing JSON lines failed: {e}")))
    }
}
