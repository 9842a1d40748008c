//! Client spans for SQL statements, with each statement's analysis done
//! once: applications run a small set of statement texts over and over.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opentelemetry::global::ObjectSafeSpan;
use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, StringValue, Value};

use super::ActiveSpan;
use crate::metrics::CallMetric;
use crate::model::{DbSystem, SqlCommand, Target};
use crate::registry::Integration;
use crate::sanitize::MAX_ANALYZED;

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
/// static PG: Integration = Integration::new("pg", "my-pg", "0.1.0");
/// let spans = SqlSpans::new(&PG, DbSystem::Postgres, &Target::new().with_host("db"));
/// assert!(spans.start("SELECT * FROM users WHERE id = 42").is_none(), "`pg` is not enabled");
/// ```
#[derive(Debug)]
pub struct SqlSpans {
    integration: &'static Integration,
    system: DbSystem,
    target: Vec<KeyValue>,
    /// Keyed with a fast seeded hash: a statement's text is hashed on every
    /// call while metrics are measured.
    cache: RwLock<HashMap<Box<str>, Arc<Prepared>, foldhash::fast::RandomState>>,
}

/// A statement's span name and attributes, target included, and its
/// duration metric's description.
#[derive(Debug)]
struct Prepared {
    name: String,
    attributes: Vec<KeyValue>,
    metric: CallMetric,
}

impl SqlSpans {
    /// Spans of `integration` for statements sent to `system` at `target`.
    pub fn new(integration: &'static Integration, system: DbSystem, target: &Target) -> Self {
        let mut attributes: Vec<KeyValue> = target.attributes().into_iter().map(shared).collect();
        attributes.push(system.attribute());
        Self {
            integration,
            system,
            target: attributes,
            cache: RwLock::new(HashMap::with_hasher(Default::default())),
        }
    }

    /// With the integration on, starts the span of `sql` as a child of the
    /// current context.
    ///
    /// The statement is analysed only for a span that records: an
    /// unsampled call pays for no sanitizing. Samplers see the database
    /// system as the span name.
    pub fn start(&self, sql: &str) -> Option<ActiveSpan> {
        self.start_with(|| sql)
    }

    /// [`start`](Self::start) for a statement whose text costs something to
    /// produce (a query builder renders it): `sql` is called only for a
    /// span that records.
    ///
    /// ```
    /// use census_core::model::{DbSystem, Target};
    /// use census_core::registry::Integration;
    /// use census_core::span::SqlSpans;
    /// static ORM: Integration = Integration::new("orm", "my-orm", "0.1.0");
    /// let spans = SqlSpans::new(&ORM, DbSystem::Sqlite, &Target::new());
    /// let span = spans.start_with(|| -> String { unreachable!("`orm` is not enabled") });
    /// assert!(span.is_none());
    /// ```
    pub fn start_with<S: AsRef<str>>(&self, sql: impl FnOnce() -> S) -> Option<ActiveSpan> {
        if !self.integration.should_trace() {
            return None;
        }
        // A measured call needs the statement's operation and table
        // whether or not its span records: analysed up front (once per
        // text, then looked up).
        let mut sql = Some(sql);
        let measured = crate::metrics::is_measuring()
            .then(|| sql.take().map(|sql| self.prepare(sql().as_ref())))
            .flatten();
        let span = self.integration.start_recording(
            SpanKind::Client,
            || self.system.name().into(),
            &crate::context::current(),
            |span: &mut dyn ObjectSafeSpan| {
                let prepared = match (&measured, sql) {
                    (Some(prepared), _) => Arc::clone(prepared),
                    (None, Some(sql)) => self.prepare(sql().as_ref()),
                    (None, None) => return,
                };
                span.update_name(prepared.name.clone().into());
                // The values are shared: cloning them allocates nothing.
                for attribute in &prepared.attributes {
                    span.set_attribute(attribute.clone());
                }
            },
        );
        Some(match measured {
            Some(prepared) => span.measured(|| prepared.metric.clone()),
            None => span,
        })
    }

    fn prepare(&self, sql: &str) -> Arc<Prepared> {
        let (cached, full) = {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            (cache.get(sql).cloned(), cache.len() >= CACHE_CAPACITY)
        };
        if let Some(prepared) = cached {
            return prepared;
        }
        let (name, attributes) = SqlCommand::parse(sql, self.system).describe(self.system);
        let attributes: Vec<KeyValue> = attributes
            .into_iter()
            .map(shared)
            .chain(self.target.iter().cloned())
            .collect();
        let metric = CallMetric::database_from(&attributes);
        let prepared = Arc::new(Prepared {
            name,
            attributes,
            metric,
        });
        // Once full, misses never take the write lock that hits would wait
        // on; a statement too long to analyse whole is not kept as a key.
        if !full && sql.len() <= MAX_ANALYZED {
            let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
            if cache.len() < CACHE_CAPACITY {
                cache.insert(sql.into(), prepared.clone());
            }
        }
        prepared
    }
}

/// `attribute` with a string value held behind an `Arc`, so that the
/// copies every span takes of a remembered statement cost no allocation.
fn shared(attribute: KeyValue) -> KeyValue {
    match attribute.value {
        Value::String(text) => KeyValue::new(
            attribute.key,
            StringValue::from(Arc::<str>::from(text.as_str())),
        ),
        _ => attribute,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SQL: Integration = Integration::new("sql", "census-core", "0");

    #[test]
    fn statements_are_analysed_once_and_shared() {
        let spans = SqlSpans::new(&SQL, DbSystem::MySql, &Target::new().with_port(3306));
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
        let spans = SqlSpans::new(&SQL, DbSystem::Sqlite, &Target::new());
        for i in 0..CACHE_CAPACITY + 10 {
            spans.prepare(&format!("SELECT {i}"));
        }
        assert_eq!(spans.cache.read().unwrap().len(), CACHE_CAPACITY);
        // Past the bound, statements are still analysed correctly.
        assert_eq!(spans.prepare("DELETE FROM late").name, "DELETE late");
    }

    #[test]
    fn a_statement_too_long_to_analyse_whole_is_not_kept() {
        let spans = SqlSpans::new(&SQL, DbSystem::Sqlite, &Target::new());
        let long = format!("SELECT * FROM t WHERE v = '{}'", "x".repeat(MAX_ANALYZED));
        assert_eq!(spans.prepare(&long).name, "SELECT t");
        assert!(spans.cache.read().unwrap().is_empty());
    }
}
