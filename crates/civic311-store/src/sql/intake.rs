// Intake support: API keys, Open311 tokens, uploaded media. Included by backend.rs once per backend.

pub(crate) async fn insert_api_key(pool: &Pool, name: &str, sha256: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("INSERT INTO api_keys (name, key_sha256, created_at) VALUES ($1, $2, $3)")
        .bind(name)
        .bind(sha256)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn api_key_owner(pool: &Pool, sha256: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL")
        .bind(sha256)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn revoke_api_keys(pool: &Pool, name: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected())
}

pub(crate) async fn create_request_with_token(
    pool: &Pool,
    new: NewServiceRequest,
    actor: Actor,
    now: DateTime<Utc>,
    token: &str,
) -> Result<ServiceRequest> {
    let mut tx = pool.begin().await?;
    let (key, request) = create_in(&mut tx, new, actor, now).await?;
    sqlx::query("INSERT INTO request_tokens (token, request_key, created_at) VALUES ($1, $2, $3)")
        .bind(token)
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(request)
}

pub(crate) async fn token(pool: &Pool, token: &str) -> Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT r.id FROM request_tokens t LEFT JOIN service_requests r ON r.key = t.request_key \
         WHERE t.token = $1",
    )
    .bind(token)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}

pub(crate) async fn insert_media(
    pool: &Pool,
    id: &str,
    content_type: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO media (id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(content_type)
        .bind(bytes)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn media(pool: &Pool, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT content_type, bytes FROM media WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn sync_cursor(pool: &Pool, source: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn set_sync_cursor(pool: &Pool, source: &str, cursor: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_cursors (source, cursor, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .bind(source)
    .bind(cursor)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn add_comment(
    pool: &Pool,
    id: &str,
    c: &crate::intake::Comment,
    now: DateTime<Utc>,
) -> Result<crate::intake::CommentSaved> {
    let mut tx = pool.begin().await?;
    // Locks the request on PostgreSQL, so two deliveries of one comment are serialized here.
    let (key, mut r) = load_in(&mut tx, id).await?;
    if let Some(external) = &c.external_id {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT event_seq FROM external_updates WHERE client = $1 AND external_id = $2",
        )
        .bind(&c.client)
        .bind(external)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(seq) = seen {
            return Ok(crate::intake::CommentSaved { seq, duplicate: true, request: r });
        }
    }
    let actor = Actor::ApiClient(c.client.clone());
    let mut events = Vec::new();
    if c.reopen && r.status.is_closed() {
        events.push(r.reopen("the resident reports it is not fixed", actor.clone(), now)?);
    }
    events.push(r.add_note(&c.text, true, actor, now)?);
    save_in(&mut tx, key, &mut r, &events).await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT MAX(seq) FROM request_events WHERE request_key = $1 AND kind = 'note_added'",
    )
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(external) = &c.external_id {
        sqlx::query(
            "INSERT INTO external_updates (client, external_id, request_key, event_seq) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&c.client)
        .bind(external)
        .bind(key)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(crate::intake::CommentSaved { seq, duplicate: false, request: r })
}
