//! Exporters for local use: a console tree and JSON lines, ordinary
//! OpenTelemetry `SpanExporter`s that sit beside any other, the console's
//! log lines (a `LogExporter` printing into its trees) and metrics table,
//! a `PushMetricExporter`.

mod console;
mod console_logs;
mod format;
mod jsonl;
mod metrics_table;

pub use console::ConsoleExporter;
pub use console_logs::ConsoleLogExporter;
pub use jsonl::JsonLinesExporter;
pub use metrics_table::ConsoleMetricsExporter;

#[cfg(test)]
mod tests;
