//! What can go wrong in storage, in terms a caller can act on.

use civic311_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error(
        "request {id} was changed by someone else (you have version {expected}, the store has \
         {actual}); reload it and try again"
    )]
    Conflict {
        id: String,
        expected: i64,
        actual: i64,
    },
    #[error("{what} {id:?} already exists")]
    AlreadyExists { what: &'static str, id: String },
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("cannot reach the database at {url}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error(
        "the database at {url} has schema version {database}, newer than this civic311 knows \
         ({binary}); upgrade civic311 before using this database"
    )]
    SchemaTooNew {
        url: String,
        database: i64,
        binary: i64,
    },
    #[error("the database at {url} has a failed migration (version {version}); repair it by hand")]
    SchemaDirty { url: String, version: i64 },
    #[error("invalid database url {url}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }
}
