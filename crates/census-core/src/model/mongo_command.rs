use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{DB_COLLECTION_NAME, DB_OPERATION_NAME};

/// A MongoDB command: its name and the collection it addresses. The
/// database is part of the [`Target`](super::Target) namespace.
///
/// ```
/// use census_core::model::MongoCommand;
/// let cmd = MongoCommand::new("find").with_collection("orders");
/// assert_eq!(cmd.span_name(), "find orders");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoCommand {
    command: String,
    collection: Option<String>,
}

impl MongoCommand {
    /// A command such as `find`, `insert` or `aggregate`.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            collection: None,
        }
    }

    /// Sets the collection the command addresses.
    pub fn with_collection(mut self, collection: impl Into<String>) -> Self {
        self.collection = Some(collection.into());
        self
    }

    /// `{command} {collection}`, or the command alone.
    pub fn span_name(&self) -> String {
        match &self.collection {
            Some(collection) => format!("{} {collection}", self.command),
            None => self.command.clone(),
        }
    }

    /// `db.operation.name` and, when known, `db.collection.name`.
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut out = vec![KeyValue::new(DB_OPERATION_NAME, self.command.clone())];
        if let Some(collection) = &self.collection {
            out.push(KeyValue::new(DB_COLLECTION_NAME, collection.clone()));
        }
        out
    }
}
