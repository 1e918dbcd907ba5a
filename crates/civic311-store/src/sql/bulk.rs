// Suspending and restoring the request tables' secondary indexes (see bulk.rs).

// The non-unique indexes of the request tables and the triggers that keep the roll-ups, with the
// statements that create and drop them. The per-request event index stays, and so does the
// index of requests without an outcome (empty, and a bulk load writes none). On PostgreSQL the
// request tables' foreign keys go too: each row's check is a query of its own (planned again
// and again inside the insert), most of a bulk load's time there, where adding the key back
// checks every row in one join. SQLite's checks are a rowid lookup each, and it cannot drop a
// constraint.
const SUSPENDABLE: &str = if POSTGRES {
    "SELECT i.relname::text, pg_get_indexdef(i.oid), 'DROP INDEX \"' || i.relname || '\"' FROM pg_index x \
     JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
     WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisunique \
     AND t.relname IN ('service_requests', 'request_events', 'request_areas') \
     AND i.relname NOT IN ('request_events_by_request', 'service_requests_outcome_pending') \
     UNION ALL SELECT g.tgname::text, pg_get_triggerdef(g.oid), \
     'DROP TRIGGER \"' || g.tgname || '\" ON ' || g.tgrelid::regclass::text FROM pg_trigger g \
     JOIN pg_class t ON t.oid = g.tgrelid WHERE NOT g.tgisinternal AND g.tgname LIKE 'rollup\\_%' \
     AND t.relnamespace = current_schema()::regnamespace \
     AND t.relname IN ('service_requests', 'request_areas') \
     UNION ALL SELECT c.conname::text, 'ALTER TABLE ' || c.conrelid::regclass::text || ' ADD CONSTRAINT \"' \
     || c.conname || '\" ' || pg_get_constraintdef(c.oid), 'ALTER TABLE ' || c.conrelid::regclass::text \
     || ' DROP CONSTRAINT \"' || c.conname || '\"' FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
     WHERE c.contype = 'f' AND t.relnamespace = current_schema()::regnamespace \
     AND t.relname IN ('service_requests', 'request_events', 'request_areas', 'requesters') ORDER BY 1"
} else {
    "SELECT name, sql, 'DROP ' || upper(type) || ' \"' || name || '\"' FROM sqlite_master \
     WHERE type IN ('index', 'trigger') AND sql IS NOT NULL \
     AND tbl_name IN ('service_requests', 'request_events', 'request_areas') \
     AND name NOT IN ('request_events_by_request', 'service_requests_outcome_pending') \
     AND (type = 'index' OR name LIKE 'rollup\\_%' ESCAPE '\\') \
     AND UPPER(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY 1"
};

pub(crate) async fn suspend_indexes(pool: &sqlx::Pool<Db>) -> Result<usize> {
    let mut tx = begin_write(pool).await?;
    let found: Vec<(String, String, String)> = sqlx::query_as(SUSPENDABLE).fetch_all(&mut *tx).await?;
    for (name, definition, drop) in &found {
        sqlx::query("INSERT INTO suspended_indexes (name, definition) VALUES ($1, $2)")
            .bind(name)
            .bind(definition)
            .execute(&mut *tx)
            .await?;
        // Built by the database from its own catalog.
        sqlx::query(sqlx::AssertSqlSafe(drop.as_str())).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(found.len())
}

pub(crate) async fn restore_indexes(pool: &sqlx::Pool<Db>) -> Result<usize> {
    // Nearly always nothing to do: no write lock for that.
    let any: Option<String> = sqlx::query_scalar("SELECT name FROM suspended_indexes LIMIT 1").fetch_optional(pool).await?;
    if any.is_none() {
        return Ok(0);
    }
    let mut tx = begin_write(pool).await?;
    let suspended: Vec<(String, String)> =
        sqlx::query_as("SELECT name, definition FROM suspended_indexes ORDER BY name")
            .fetch_all(&mut *tx)
            .await?;
    // The roll-ups missed every write made while their triggers were away. PostgreSQL counts
    // them before the indexes come back: whole-table scans, where an index would make the
    // planner read the table in the index's order (the close-bin one made it 4× slower at 10M).
    // SQLite counts them after the indexes: by month, a day at a time read through the
    // creation-time indexes of the requests and their areas (sql/recount.rs). The triggers come
    // back last.
    let (triggers, indexes): (Vec<_>, Vec<_>) =
        suspended.iter().partition(|(_, d)| d.trim_start().to_uppercase().starts_with("CREATE TRIGGER"));
    if POSTGRES && !triggers.is_empty() {
        rebuild_rollups_in(&mut tx).await?;
    }
    // SQLite sorts each index's entries with helper threads too (the events by kind of a 10M
    // load: 86 s alone, 50 s with one helper, 44 s with two, about 65 MiB more a helper:
    // docs/BENCHMARKS.md §6h); back to none for the connection's other work.
    if !POSTGRES {
        sqlx::query("PRAGMA threads = 2").execute(&mut *tx).await?;
    }
    for (_, definition) in &indexes {
        // Written by suspend_indexes from the database's own catalog.
        sqlx::query(sqlx::AssertSqlSafe(definition.as_str())).execute(&mut *tx).await?;
    }
    if !POSTGRES {
        sqlx::query("PRAGMA threads = 0").execute(&mut *tx).await?;
        if !triggers.is_empty() {
            rebuild_rollups_in(&mut tx).await?;
        }
    }
    for (_, definition) in &triggers {
        sqlx::query(sqlx::AssertSqlSafe(definition.as_str())).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM suspended_indexes").execute(&mut *tx).await?;
    tx.commit().await?;
    if POSTGRES {
        // Statistics of the tables as they are now: right after a bulk load PostgreSQL still
        // plans for the empty tables (autovacuum comes later), and a page of a 10M-row export
        // was planned at 13 billion, JIT-compiled, and took 206 ms instead of 30. The requests
        // and roll-ups are vacuumed too, which marks their pages all-visible: until then an
        // index-only scan (the open requests of a period, an area's requests of an outcome,
        // from their covering indexes) visits the table for every row.
        sqlx::query("VACUUM (ANALYZE) service_requests, request_areas, request_rollup, close_rollup, close_bin_rollup, area_rollup, \
             area_request_rollup, area_close_rollup, area_pair_rollup").execute(pool).await?;
        sqlx::query("ANALYZE request_events").execute(pool).await?;
    }
    Ok(suspended.len())
}
