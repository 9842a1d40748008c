use std::sync::Arc;

use opentelemetry::{KeyValue, StringValue};
use opentelemetry_semantic_conventions::attribute::{
    DB_COLLECTION_NAME, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
};

use super::DbSystem;
use crate::sanitize::analyze;

/// A SQL statement as telemetry shows it: sanitized text, operation, tables.
///
/// The raw text is never kept; literals are replaced by `?` as in
/// [`sanitize_sql`](crate::sanitize::sanitize_sql).
///
/// ```
/// use census_core::model::{DbSystem, SqlCommand};
/// let cmd = SqlCommand::parse("select name from users where id = 42", DbSystem::Sqlite);
/// assert_eq!(cmd.text(), "select name from users where id = ?");
/// assert_eq!(cmd.operation(), Some("SELECT"));
/// assert_eq!(cmd.collection(), Some("users"));
/// assert_eq!(cmd.summary().as_deref(), Some("SELECT users"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlCommand {
    text: String,
    operation: Option<String>,
    tables: Vec<String>,
}

impl SqlCommand {
    /// Sanitizes and summarizes `sql` with the quoting rules of `system`.
    pub fn parse(sql: &str, system: DbSystem) -> Self {
        let parts = analyze(sql, system.dialect());
        Self {
            text: parts.text,
            operation: parts.operation,
            tables: parts.tables,
        }
    }

    /// The sanitized statement (`db.query.text`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The upper-cased operation, e.g. `SELECT` (`db.operation.name`).
    pub fn operation(&self) -> Option<&str> {
        self.operation.as_deref()
    }

    /// The table, when the statement touches exactly one (`db.collection.name`).
    pub fn collection(&self) -> Option<&str> {
        match self.tables.as_slice() {
            [only] => Some(only),
            _ => None,
        }
    }

    /// Operation and first table, e.g. `SELECT users` (`db.query.summary`).
    pub fn summary(&self) -> Option<String> {
        let operation = self.operation.as_deref()?;
        Some(match self.tables.first() {
            Some(table) => format!("{operation} {table}"),
            None => operation.to_owned(),
        })
    }

    /// Attributes of the statement, and the span name: the summary, or the
    /// system name when the statement has no recognisable operation. The
    /// values are shared strings, so copying the attributes is cheap.
    pub fn describe(&self, system: DbSystem) -> (String, Vec<KeyValue>) {
        let shared = |s: &str| StringValue::from(Arc::<str>::from(s));
        let mut attributes = Vec::with_capacity(4);
        attributes.push(KeyValue::new(DB_QUERY_TEXT, shared(&self.text)));
        if let Some(operation) = &self.operation {
            attributes.push(KeyValue::new(DB_OPERATION_NAME, shared(operation)));
        }
        if let Some(collection) = self.collection() {
            attributes.push(KeyValue::new(DB_COLLECTION_NAME, shared(collection)));
        }
        let name = match self.summary() {
            Some(summary) => {
                attributes.push(KeyValue::new(DB_QUERY_SUMMARY, shared(&summary)));
                summary
            }
            None => system.name().to_owned(),
        };
        (name, attributes)
    }
}

#[cfg(test)]
#[path = "sql_command_tests.rs"]
mod tests;
