use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::DB_SYSTEM_NAME;

use crate::sanitize::Dialect;

/// The database product a dependency talks to (`db.system.name`).
///
/// ```
/// use census_core::model::DbSystem;
/// assert_eq!(DbSystem::Postgres.name(), "postgresql");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DbSystem {
    /// PostgreSQL.
    Postgres,
    /// MySQL.
    MySql,
    /// MariaDB.
    MariaDb,
    /// SQLite.
    Sqlite,
    /// MongoDB.
    MongoDb,
}

impl DbSystem {
    /// The semantic-convention value of `db.system.name`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgresql",
            Self::MySql => "mysql",
            Self::MariaDb => "mariadb",
            Self::Sqlite => "sqlite",
            Self::MongoDb => "mongodb",
        }
    }

    /// The `db.system.name` attribute.
    pub fn attribute(self) -> KeyValue {
        KeyValue::new(DB_SYSTEM_NAME, self.name())
    }

    pub(crate) fn dialect(self) -> Dialect {
        match self {
            Self::Postgres => Dialect::Postgres,
            Self::MySql | Self::MariaDb => Dialect::MySql,
            Self::Sqlite => Dialect::Sqlite,
            Self::MongoDb => Dialect::Standard,
        }
    }
}

/// The quoting rules of a system's SQL, so that
/// `sanitize_sql(sql, DbSystem::Postgres)` reads as before.
///
/// ```
/// use census_core::{model::DbSystem, sanitize::{Dialect, sanitize_sql}};
/// assert_eq!(Dialect::from(DbSystem::MariaDb), Dialect::MySql);
/// assert_eq!(sanitize_sql("SELECT 'x'", DbSystem::Sqlite), "SELECT ?");
/// ```
impl From<DbSystem> for Dialect {
    fn from(system: DbSystem) -> Self {
        system.dialect()
    }
}
