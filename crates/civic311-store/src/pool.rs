//! Connecting to the configured backend, and the `on_pool!` dispatch every operation uses.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

use crate::{Result, StoreError};

/// A database URL whose `Debug`/`Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts `sqlite:PATH` / `sqlite://PATH` and `postgres://` / `postgresql://` URLs.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let ok = ["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|p| url.starts_with(p));
        if !ok {
            return Err(StoreError::InvalidUrl {
                url: redact(url),
                reason: "expected sqlite:PATH or postgres://USER@HOST:PORT/DB".into(),
            });
        }
        Ok(Self(url.to_owned()))
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The URL with its secret. Only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite allows one writer at a time: writes go through a one-connection pool so they queue
    /// in-process instead of failing with SQLITE_BUSY; reads use the other pool, concurrently.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The store: cheap to clone (pools are shared), safe to use from many tasks.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    pub(crate) url: DatabaseUrl,
    /// Writes finished through this store and its clones (see [`Store::generation`]).
    pub(crate) writes: Arc<AtomicU64>,
    /// Open311 filings waiting to be written together (see `intake.rs`); started on first use.
    pub(crate) filings: Arc<std::sync::OnceLock<crate::intake::FilingQueue>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("url", &self.url).finish()
    }
}

/// Calls the function of the same name in the configured backend's module (see `backend.rs`),
/// with the `read` or `write` pool first. SQLite has two pools; PostgreSQL uses one for both.
/// Every write bumps the store's generation once it is over, whether it succeeded or not.
macro_rules! dispatch {
    ($store:expr, write, $f:ident($($arg:expr),* $(,)?)) => {{
        let done = $crate::pool::dispatch!(@on $store, write, $f($($arg),*));
        $store.writes.fetch_add(1, std::sync::atomic::Ordering::Release);
        done
    }};
    ($store:expr, read, $f:ident($($arg:expr),* $(,)?)) => {
        $crate::pool::dispatch!(@on $store, read, $f($($arg),*))
    };
    (@on $store:expr, $side:ident, $f:ident($($arg:expr),* $(,)?)) => {
        match &$store.backend {
            $crate::pool::Backend::Sqlite { $side: pool, .. } => {
                $crate::backend::sqlite::$f(pool, $($arg),*).await
            }
            $crate::pool::Backend::Postgres(pool) => {
                $crate::backend::postgres::$f(pool, $($arg),*).await
            }
        }
    };
}
pub(crate) use dispatch;

impl Store {
    /// Connects without touching the schema. Fails with [`StoreError::Unreachable`] when the
    /// server cannot be reached, so start-up can exit with a clear message.
    pub async fn connect(url: &DatabaseUrl) -> Result<Store> {
        let unreachable = |source| StoreError::Unreachable {
            url: url.to_string(),
            source,
        };
        let backend = if url.is_sqlite() {
            let options = SqliteConnectOptions::from_str(url.expose())
                .map_err(|e| StoreError::InvalidUrl {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // Page cache in KiB (negative = KiB), above SQLite's 2 MiB default so the writer keeps
            // the indexes it updates hot. (Measured: it did not change the 1M-row insert rate,
            // which falls for index order, not cache size; see docs/BENCHMARKS.md.)
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone().pragma("cache_size", "-65536"))
                .await
                .map_err(unreachable)?;
            // Each SQLite connection is a thread that hands rows to the async side. Measured on
            // 2 cores with 64 clients: 2 readers 6.0k lookups/s, 4 readers 12.3k/s, 8 readers no
            // better than 4 for lists (docs/BENCHMARKS.md); so twice the cores.
            let readers = std::thread::available_parallelism()
                .map_or(4, |n| 2 * n.get())
                .clamp(4, 16);
            let read = SqlitePoolOptions::new()
                .max_connections(readers as u32)
                .connect_with(options.pragma("cache_size", "-8192").read_only(true))
                .await
                .map_err(unreachable)?;
            Backend::Sqlite { read, write }
        } else {
            let options = PgConnectOptions::from_str(url.expose())
                .map_err(|e| StoreError::InvalidUrl {
                    url: url.to_string(),
                    reason: e.to_string(),
                })?
                .application_name("civic311")
                // Our queries are short and many: compiling one with LLVM costs more than it
                // saves (a page of an export: 7-125 ms of JIT for a 30 ms query).
                // And each is planned for its own values: after five runs PostgreSQL may keep a
                // generic plan that cannot see them, and for a page of keys within a date range
                // it chose to scan the whole date index of 10M requests each page (345 ms a
                // page instead of 30; a 10M export by date became quadratic).
                .options([("jit", "off"), ("plan_cache_mode", "force_custom_plan")]);
            // One direct attempt first: a refused connection fails at once instead of after
            // the pool's acquire timeout.
            sqlx::Connection::close(
                <sqlx::PgConnection as sqlx::Connection>::connect_with(&options)
                    .await
                    .map_err(unreachable)?,
            )
            .await
            .map_err(unreachable)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(unreachable)?;
            Backend::Postgres(pool)
        };
        Ok(Store {
            backend,
            url: url.clone(),
            writes: Arc::new(AtomicU64::new(0)),
            filings: Arc::new(std::sync::OnceLock::new()),
        })
    }

    /// Connects, refuses a schema newer than this binary, and applies pending migrations: what
    /// `serve` and `demo` do at start-up.
    pub async fn open(url: &DatabaseUrl) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        // Indexes a bulk load dropped and could not build again (it died half-way).
        store.restore_indexes().await?;
        // Requests stored before outcomes were kept with them (see rollup.rs).
        store.refresh_outcomes().await?;
        Ok(store)
    }

    /// A number that changes after every write made through this store or a clone of it: a
    /// value computed from reads begun at generation `g` is current while the generation is
    /// still `g`. Writes by other processes (other servers on one PostgreSQL) do not show here.
    pub fn generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (checkpointing the SQLite WAL).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shows() {
        let url = DatabaseUrl::parse("postgres://civic:s3cret@db:5432/civic311").unwrap();
        assert_eq!(url.to_string(), "postgres://civic:***@db:5432/civic311");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.expose(), "postgres://civic:s3cret@db:5432/civic311");
    }

    #[test]
    fn unknown_schemes_are_refused() {
        let err = DatabaseUrl::parse("mysql://root:pw@localhost/x").unwrap_err();
        assert!(
            err.to_string().contains("mysql://root:***@localhost/x"),
            "{err}"
        );
    }
}
