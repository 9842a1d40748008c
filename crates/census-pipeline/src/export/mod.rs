//! Exporters for local use: a console tree and JSON lines, ordinary
//! OpenTelemetry `SpanExporter`s that sit beside any other, and the
//! console's metrics table, a `PushMetricExporter`.

mod console;
mod format;
mod jsonl;
mod metrics_table;

pub use console::ConsoleExporter;
pub use jsonl::JsonLinesExporter;
pub use metrics_table::ConsoleMetricsExporter;

#[cfg(test)]
mod tests;
