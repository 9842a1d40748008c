//! Client spans for SQL statements, with each statement's analysis done
//! once: applications run a small set of statement texts over and over.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};

use crate::model::{DbSystem, SqlCommand, Target};
use crate::registry::Integration;

/// Statement texts remembered per target; past this, statements are
/// analysed on every call (their texts are likely built with literals).
const CACHE_CAPACITY: usize = 1024;

/// Starts the Client spans of one database target: one per statement,
/// named by its summary, with the sanitized text and the target's
/// attributes.
///
/// ```
/// use census_core::model::{DbSystem, Target};
/// use census_core::registry::Integration;
/// use census_core::span::SqlSpans;
/// let spans = SqlSpans::new(Integration::Sqlx, DbSystem::Postgres, &Target::new().with_host("db"));
/// let cx = spans.start("SELECT * FROM users WHERE id = 42");
/// ```
#[derive(Debug)]
pub struct SqlSpans {
    integration: Integration,
    system: DbSystem,
    target: Vec<KeyValue>,
    cache: RwLock<HashMap<Box<str>, Arc<Prepared>>>,
}

/// A statement's span name and attributes, target included.
#[derive(Debug)]
struct Prepared {
    name: String,
    attributes: Vec<KeyValue>,
}

impl SqlSpans {
    /// Spans of `integration` for statements sent to `system` at `target`.
    pub fn new(integration: Integration, system: DbSystem, target: &Target) -> Self {
        let mut attributes = target.attributes();
        attributes.push(system.attribute());
        Self {
            integration,
            system,
            target: attributes,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// Starts the span of `sql` as a child of the current context and
    /// returns the context holding it.
    pub fn start(&self, sql: &str) -> Context {
        let prepared = self.prepare(sql);
        crate::span::start(
            self.integration,
            SpanKind::Client,
            prepared.name.clone(),
            prepared.attributes.clone(),
            &Context::current(),
        )
    }

    fn prepare(&self, sql: &str) -> Arc<Prepared> {
        let (cached, full) = {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            (cache.get(sql).cloned(), cache.len() >= CACHE_CAPACITY)
        };
        if let Some(prepared) = cached {
            return prepared;
        }
        let (name, mut attributes) = SqlCommand::parse(sql, self.system).describe(self.system);
        attributes.extend(self.target.iter().cloned());
        let prepared = Arc::new(Prepared { name, attributes });
        // Once full, misses never take the write lock that hits would wait on.
        if !full {
            let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
            if cache.len() < CACHE_CAPACITY {
                cache.insert(sql.into(), prepared.clone());
            }
        }
        prepared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_analysed_once_and_shared() {
        let spans = SqlSpans::new(
            Integration::Sqlx,
            DbSystem::MySql,
            &Target::new().with_port(3306),
        );
        let first = spans.prepare("SELECT a FROM t WHERE b = 'x'");
        let again = spans.prepare("SELECT a FROM t WHERE b = 'x'");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(first.name, "SELECT t");
        assert_eq!(
            first.attributes,
            vec![
                KeyValue::new("db.query.text", "SELECT a FROM t WHERE b = ?"),
                KeyValue::new("db.operation.name", "SELECT"),
                KeyValue::new("db.collection.name", "t"),
                KeyValue::new("db.query.summary", "SELECT t"),
                KeyValue::new("server.port", 3306),
                KeyValue::new("db.system.name", "mysql"),
            ]
        );
    }

    #[test]
    fn the_cache_is_bounded() {
        let spans = SqlSpans::new(Integration::Sqlx, DbSystem::Sqlite, &Target::new());
        for i in 0..CACHE_CAPACITY + 10 {
            spans.prepare(&format!("SELECT {i}"));
        }
        assert_eq!(spans.cache.read().unwrap().len(), CACHE_CAPACITY);
        // Past the bound, statements are still analysed correctly.
        assert_eq!(spans.prepare("DELETE FROM late").name, "DELETE late");
    }
}
