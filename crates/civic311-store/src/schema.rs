//! Schema versions: what the database has, what this binary knows, and applying the difference.
//! A database newer than the binary is never touched.

use sqlx::migrate::Migrator;

use crate::pool::Backend;
use crate::{Result, Store, StoreError};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// Where a database stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied to the database (0 for an empty one).
    pub database: i64,
    /// The newest migration this binary carries.
    pub binary: i64,
    /// Migrations the binary has and the database lacks.
    pub pending: usize,
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite { .. } => &SQLITE,
            Backend::Postgres(_) => &POSTGRES,
        }
    }

    /// Reads the applied migrations without creating anything.
    pub async fn schema_status(&self) -> Result<SchemaStatus> {
        let migrator = self.migrator();
        let binary = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Vec<(i64, bool)> = match &self.backend {
            Backend::Sqlite { read, .. } => {
                let exists: Option<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_optional(read)
                .await?;
                match exists {
                    Some(_) => {
                        sqlx::query_as("SELECT version, success FROM _sqlx_migrations")
                            .fetch_all(read)
                            .await?
                    }
                    None => Vec::new(),
                }
            }
            Backend::Postgres(pool) => {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
                        .fetch_one(pool)
                        .await?;
                match exists {
                    Some(_) => {
                        sqlx::query_as("SELECT version, success FROM _sqlx_migrations")
                            .fetch_all(pool)
                            .await?
                    }
                    None => Vec::new(),
                }
            }
        };
        if let Some((version, _)) = applied.iter().find(|(_, ok)| !ok) {
            return Err(StoreError::SchemaDirty {
                url: self.url.to_string(),
                version: *version,
            });
        }
        let database = applied.iter().map(|(v, _)| *v).max().unwrap_or(0);
        if database > binary || applied.iter().any(|(v, _)| !migrator.version_exists(*v)) {
            return Err(StoreError::SchemaTooNew {
                url: self.url.to_string(),
                database,
                binary,
            });
        }
        let pending = migrator
            .iter()
            .filter(|m| !applied.iter().any(|(v, _)| *v == m.version));
        Ok(SchemaStatus {
            database,
            binary,
            pending: pending.count(),
        })
    }

    /// Applies pending migrations. Refuses (touching nothing) a database whose schema is newer
    /// than this binary or half-migrated. Returns how many migrations ran.
    pub async fn migrate(&self) -> Result<usize> {
        let status = self.schema_status().await?;
        if status.pending > 0 {
            match &self.backend {
                Backend::Sqlite { write, .. } => self.migrator().run(write).await?,
                Backend::Postgres(pool) => self.migrator().run(pool).await?,
            }
        }
        self.analyze_rollup_grains().await?;
        Ok(status.pending)
    }

    /// Gives PostgreSQL the statistics of `rollup_grains` (two rows) when it has none: new, or
    /// after a dump and restore. Autovacuum analyzes a table only after 50 of its rows change,
    /// so this one never gets them by itself, and without them the planner takes it for 1,310
    /// rows. The roll-ups' trigger joins it to the changed requests and their areas, and the
    /// planner then hashed the whole `request_areas` table for each UPDATE of requests: 0.6-0.9
    /// s a statement at 1M, growing with the table (docs/BENCHMARKS.md §6j).
    async fn analyze_rollup_grains(&self) -> Result<()> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(());
        };
        // -1 before any ANALYZE (0 before PostgreSQL 14).
        let unknown: Option<bool> = sqlx::query_scalar(
            "SELECT reltuples < 1 FROM pg_class WHERE oid = to_regclass('rollup_grains')",
        )
        .fetch_optional(pool)
        .await?;
        if unknown == Some(true) {
            sqlx::query("ANALYZE rollup_grains").execute(pool).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Bytes the database takes: SQLite pages (WAL included), or PostgreSQL tables with their
    /// indexes and TOAST in the current schema.
    pub async fn database_size_bytes(&self) -> Result<i64> {
        Ok(match &self.backend {
            Backend::Sqlite { read, .. } => {
                sqlx::query_scalar(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                )
                .fetch_one(read)
                .await?
            }
            Backend::Postgres(pool) => sqlx::query_scalar(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            )
            .fetch_one(pool)
            .await?,
        })
    }
}
