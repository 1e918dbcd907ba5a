//! A fresh, migrated store per test, on either backend, so one test body runs on both.
//!
//! - SQLite: a database file in a temporary directory, removed afterwards.
//! - PostgreSQL: a schema of its own in the database at `CIVIC311_TEST_PG_URL` (default
//!   `postgres://postgres@127.0.0.1:5432/test`), so tests run in parallel; dropped afterwards.
//!   When the server cannot be reached the test is skipped with a loud message, unless
//!   `CIVIC311_REQUIRE_PG=1` (set by `scripts/test` when the server is reachable), in which case
//!   it fails.
//!
//! Use [`both_backends!`] to turn `async fn name(db: TestDb)` into `name::sqlite` and
//! `name::postgres` tests.
#![allow(clippy::panic, clippy::expect_used)]

pub mod smtp;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use civic311_store::{DatabaseUrl, Store};
use sqlx::Connection;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A migrated store that lives as long as the test.
pub struct TestDb {
    pub store: Store,
    /// The URL of this test's database (with its schema for PostgreSQL).
    pub url: DatabaseUrl,
    pub backend: Backend,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

pub fn pg_base_url() -> String {
    std::env::var("CIVIC311_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

fn pg_required() -> bool {
    std::env::var("CIVIC311_REQUIRE_PG").is_ok_and(|v| v == "1")
}

impl TestDb {
    /// An empty database (not migrated).
    pub async fn empty(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("civic311.db");
                let url = DatabaseUrl::parse(&format!("sqlite:{}", path.display())).expect("url");
                let store = Store::connect(&url).await.expect("sqlite connect");
                Some(TestDb {
                    store,
                    url,
                    backend,
                    schema: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let base = pg_base_url();
                let mut admin = match sqlx::PgConnection::connect(&base).await {
                    Ok(c) => c,
                    Err(e) if pg_required() => {
                        panic!("CIVIC311_REQUIRE_PG=1 but PostgreSQL at {base} is unreachable: {e}")
                    }
                    Err(e) => {
                        eprintln!(
                            "\n*** SKIPPED on PostgreSQL: {base} is unreachable ({e}).\n*** \
                             Set CIVIC311_TEST_PG_URL, or run scripts/test, to test PostgreSQL.\n"
                        );
                        return None;
                    }
                };
                let schema = unique_name();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut admin)
                    .await
                    .expect("create schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url =
                    DatabaseUrl::parse(&format!("{base}{sep}options=-c%20search_path%3D{schema}"))
                        .expect("url");
                let store = Store::connect(&url).await.expect("postgres connect");
                Some(TestDb {
                    store,
                    url,
                    backend,
                    schema: Some(schema),
                    _dir: None,
                })
            }
        }
    }

    /// A database with every migration applied.
    pub async fn migrated(backend: Backend) -> Option<TestDb> {
        let db = TestDb::empty(backend).await?;
        db.store.migrate().await.expect("migrate");
        Some(db)
    }

    /// Closes the store and removes the database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(schema) = self.schema
            && let Ok(mut admin) = sqlx::PgConnection::connect(&pg_base_url()).await
        {
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut admin)
                .await;
        }
    }
}

/// The Python of `.venv-clients` at the workspace root (scripts/test creates it from
/// tests/python/requirements.txt: the Open311 clients, schemathesis, DuckDB), or
/// `CIVIC311_CLIENTS_PYTHON`. `None`, said loudly, when there is none and
/// `CIVIC311_REQUIRE_CLIENTS` is not 1 (scripts/test sets it once they are installed).
pub fn clients_python() -> Option<std::path::PathBuf> {
    let found = match std::env::var("CIVIC311_CLIENTS_PYTHON") {
        Ok(p) => Some(std::path::PathBuf::from(p)),
        Err(_) => {
            let venv = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../.venv-clients/bin/python");
            venv.exists().then_some(venv)
        }
    };
    if found.is_none() {
        assert_ne!(
            std::env::var("CIVIC311_REQUIRE_CLIENTS").as_deref(),
            Ok("1"),
            "CIVIC311_REQUIRE_CLIENTS=1 but there is no .venv-clients"
        );
        eprintln!(
            "\n*** SKIPPED: no .venv-clients with the Python clients and DuckDB; run scripts/test \
             to create it.\n"
        );
    }
    found
}

/// Generates a `sqlite` and a `postgres` test for each `async fn name(db: TestDb)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::TestDb::migrated($crate::Backend::Sqlite).await
                    .expect("sqlite is always available");
                super::$name(&db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::TestDb::migrated($crate::Backend::Postgres).await {
                    super::$name(&db).await;
                    db.finish().await;
                }
            }
        }
    )*};
}
