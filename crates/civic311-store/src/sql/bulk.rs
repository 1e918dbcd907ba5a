// Suspending and restoring the request tables' secondary indexes (see bulk.rs).

// The non-unique indexes of the request tables, with the statements that create them; the
// per-request event index stays.
const SUSPENDABLE: &str = if POSTGRES {
    "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x \
     JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
     WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisunique \
     AND t.relname IN ('service_requests', 'request_events', 'request_areas') \
     AND i.relname <> 'request_events_by_request' ORDER BY 1"
} else {
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
     AND tbl_name IN ('service_requests', 'request_events', 'request_areas') \
     AND name <> 'request_events_by_request' AND UPPER(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY 1"
};

pub(crate) async fn suspend_indexes(pool: &sqlx::Pool<Db>) -> Result<usize> {
    let mut tx = begin_write(pool).await?;
    let found: Vec<(String, String)> = sqlx::query_as(SUSPENDABLE).fetch_all(&mut *tx).await?;
    for (name, definition) in &found {
        sqlx::query("INSERT INTO suspended_indexes (name, definition) VALUES ($1, $2)")
            .bind(name)
            .bind(definition)
            .execute(&mut *tx)
            .await?;
        // The name comes from the database's own catalog.
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX \"{name}\""))).execute(&mut *tx).await?;
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
    for (_, definition) in &suspended {
        // Written by suspend_indexes from the database's own catalog.
        sqlx::query(sqlx::AssertSqlSafe(definition.as_str())).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM suspended_indexes").execute(&mut *tx).await?;
    tx.commit().await?;
    if POSTGRES {
        // Statistics of the tables as they are now: right after a bulk load PostgreSQL still
        // plans for the empty tables (autovacuum comes later), and a page of a 10M-row export
        // was planned at 13 billion, JIT-compiled, and took 206 ms instead of 30.
        sqlx::query("ANALYZE service_requests, request_events, request_areas").execute(pool).await?;
    }
    Ok(suspended.len())
}
