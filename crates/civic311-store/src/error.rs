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

    /// PostgreSQL rolled the transaction back to break a deadlock (or a serialization
    /// failure): nothing of it was written, and it may be run again.
    pub(crate) fn is_deadlock(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("40P01" | "40001")))
    }
}

/// Runs `write` (one transaction) again when PostgreSQL broke a deadlock by rolling it back,
/// up to three times in all. A batch of an import runs several statements, each locking the
/// roll-up rows it counts in order, so a writer locking them between two of its statements
/// can close a cycle; the batch is then the one to try again, not the import to fail.
pub(crate) async fn again_after_deadlock<T, F, W>(mut write: W) -> crate::Result<T>
where
    W: FnMut() -> F,
    F: std::future::Future<Output = crate::Result<T>>,
{
    let mut tries = 1;
    loop {
        match write().await {
            Err(e) if tries < 3 && e.is_deadlock() => tries += 1,
            done => return done,
        }
    }
}
