use civic311_store::{DatabaseUrl, Store, StoreError};
use civic311_testkit::{Backend, TestDb};

async fn fresh_database_migrates_once(backend: Backend) {
    let Some(db) = TestDb::empty(backend).await else {
        return;
    };
    let before = db.store.schema_status().await.unwrap();
    assert_eq!(before.database, 0);
    assert!(before.pending >= 1);
    assert_eq!(db.store.migrate().await.unwrap(), before.pending);
    let after = db.store.schema_status().await.unwrap();
    assert_eq!((after.database, after.pending), (after.binary, 0));
    assert_eq!(
        db.store.migrate().await.unwrap(),
        0,
        "migrating twice is a no-op"
    );
    db.finish().await;
}

/// A database migrated by a newer civic311 is refused by `open`, and left as it was.
async fn newer_schema_is_refused_untouched(backend: Backend) {
    let Some(db) = TestDb::migrated(backend).await else {
        return;
    };
    let future = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                  VALUES (99990101000000, 'from the future', TRUE, X'00', 0)";
    let future = future.replace(
        "X'00'",
        if backend == Backend::Postgres {
            "'\\x00'::bytea"
        } else {
            "X'00'"
        },
    );
    raw(&db, &future).await;
    let err = Store::open(&db.url).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                database: 99990101000000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade civic311"), "{err}");
    let err = db.store.migrate().await.unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err:?}");
    db.finish().await;
}

async fn raw(db: &TestDb, sql: &str) {
    try_raw(db, sql).await.unwrap();
}

async fn try_raw(db: &TestDb, sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(db.url.expose())
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.map(drop)
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.map(drop)
        }
    }
}

#[tokio::test]
async fn fresh_sqlite_migrates_once() {
    fresh_database_migrates_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn fresh_postgres_migrates_once() {
    fresh_database_migrates_once(Backend::Postgres).await;
}

#[tokio::test]
async fn newer_schema_refused_sqlite() {
    newer_schema_is_refused_untouched(Backend::Sqlite).await;
}

#[tokio::test]
async fn newer_schema_refused_postgres() {
    newer_schema_is_refused_untouched(Backend::Postgres).await;
}

#[tokio::test]
async fn unreachable_postgres_is_a_clear_error() {
    let url = DatabaseUrl::parse("postgres://postgres:hunter2@127.0.0.1:1/civic311").unwrap();
    let err = Store::connect(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("cannot reach the database at postgres://postgres:***@127.0.0.1:1"),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
}

// The rows PostgreSQL's planner expects `rollup_grains` to hold.
async fn grains_planned(db: &TestDb) -> u64 {
    use sqlx::Connection;
    let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
    let plan: serde_json::Value =
        sqlx::query_scalar("EXPLAIN (FORMAT JSON) SELECT * FROM rollup_grains")
            .fetch_one(&mut c)
            .await
            .unwrap();
    plan[0]["Plan"]["Plan Rows"].as_u64().unwrap()
}

/// The roll-ups' triggers join `rollup_grains` to the changed requests' areas: planned for its
/// two rows, not for the 1,310 PostgreSQL assumes of a table it has no statistics of (which made
/// it hash all of `request_areas` for each UPDATE). A fresh store has them, and so does one
/// whose statistics were lost, once opened (a TRUNCATE forgets them, as a restore does).
#[tokio::test]
async fn rollup_grains_are_planned_for_their_rows_postgres() {
    let Some(db) = TestDb::migrated(Backend::Postgres).await else {
        return;
    };
    assert_eq!(grains_planned(&db).await, 2);
    {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
        let mut tx = c.begin().await.unwrap();
        for statement in [
            "CREATE TEMPORARY TABLE kept ON COMMIT DROP AS SELECT * FROM rollup_grains",
            "TRUNCATE rollup_grains",
            "INSERT INTO rollup_grains SELECT * FROM kept",
        ] {
            sqlx::query(statement).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    assert!(
        grains_planned(&db).await > 2,
        "the statistics were not forgotten"
    );
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(grains_planned(&db).await, 2);
    reopened.close().await;
    db.finish().await;
}

/// A bulk load drops the request tables' secondary indexes and keeps their definitions; they
/// come back when it ends, or, if it died half-way, when the store is next opened.
async fn suspended_indexes_come_back(backend: Backend) {
    let Some(db) = TestDb::migrated(backend).await else {
        return;
    };
    let suspended = db.store.suspend_indexes().await.unwrap();
    // created, updated, service, status, parent, due, close bin, open; areas by area and by
    // creation time; events by kind; the triggers that keep the roll-ups (requests inserted,
    // updated, deleted; areas inserted, deleted) and those by area (areas inserted, deleted;
    // requests updated) and those of the city's bins (requests inserted, updated, deleted); on
    // PostgreSQL the foreign keys of requests (service, parent), events, areas and requesters.
    let foreign_keys = match backend {
        Backend::Sqlite => 0,
        Backend::Postgres => 5,
    };
    let triggers = 5 + 3 + 3;
    assert_eq!(suspended, 11 + triggers + foreign_keys);
    assert_eq!(db.store.suspend_indexes().await.unwrap(), 0, "none left");
    // The load dies here; the next start-up builds them again.
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(reopened.restore_indexes().await.unwrap(), 0);
    assert_eq!(reopened.suspend_indexes().await.unwrap(), suspended);
    assert_eq!(reopened.restore_indexes().await.unwrap(), suspended);
    // A migration that redefines an index while a load has it suspended builds it then, and the
    // load's end leaves it be (the creation-time index of 20261209090000, its statements alone:
    // the index it adds is among those this store suspended).
    assert_eq!(reopened.suspend_indexes().await.unwrap(), suspended);
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let migration = std::fs::read_to_string(format!(
        "{}/migrations/{dir}/20261209090000_created_covering.sql",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let code: String = migration
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let redefined: Vec<&str> = code
        .split(';')
        .filter(|s| s.contains("service_requests_created"))
        .collect();
    assert_eq!(redefined.len(), 3, "{code}");
    for statement in redefined {
        try_raw(&db, statement).await.unwrap();
    }
    assert_eq!(reopened.restore_indexes().await.unwrap(), suspended - 1);
    reopened.close().await;
    // The keys are checked again: an event of no request is refused.
    let dangling = "INSERT INTO request_events (request_key, at, actor, kind, payload) \
                    VALUES (987654, '2019-10-01T00:00:00Z', 'system', 'created', '{}')";
    let err = try_raw(&db, dangling).await.unwrap_err();
    assert!(
        err.to_string().contains("FOREIGN KEY") || err.to_string().contains("foreign key"),
        "{err}"
    );
    db.finish().await;
}

#[tokio::test]
async fn suspended_indexes_come_back_sqlite() {
    suspended_indexes_come_back(Backend::Sqlite).await;
}

#[tokio::test]
async fn suspended_indexes_come_back_postgres() {
    suspended_indexes_come_back(Backend::Postgres).await;
}
