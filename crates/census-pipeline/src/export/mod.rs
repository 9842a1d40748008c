//! Exporters for local use: a console tree and JSON lines. Both are
//! ordinary OpenTelemetry `SpanExporter`s, so they sit beside any other.

mod console;
mod format;
mod jsonl;

pub use console::ConsoleExporter;
pub use jsonl::JsonLinesExporter;

#[cfg(test)]
mod tests;
