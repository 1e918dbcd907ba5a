// Follow-up tasks and staff attachments. Included by backend.rs once per backend.

use civic311_domain::follow_ups::{FollowUp, FollowUpReason, triggered};

const FOLLOW_UP_COLUMNS: &str = "SELECT f.id, r.id, f.reason, f.note, f.opened_at, f.done_at, f.done_by, f.outcome \
     FROM follow_ups f JOIN service_requests r ON r.key = f.request_key";

type FollowUpRow = (i64, String, String, Option<String>, DateTime<Utc>, Option<DateTime<Utc>>, Option<String>, Option<String>);

fn follow_up_from(row: FollowUpRow) -> Result<FollowUp> {
    let (id, request_id, reason, note, opened_at, done_at, done_by, outcome) = row;
    Ok(FollowUp {
        id,
        request_id,
        reason: FollowUpReason::parse(&reason).map_err(StoreError::corrupt)?,
        note,
        opened_at,
        done_at,
        done_by,
        outcome,
    })
}

async fn insert_follow_up(conn: &mut Conn, key: i64, reason: FollowUpReason, note: Option<&str>, now: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO follow_ups (request_key, reason, note, opened_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(key)
    .bind(reason.as_str())
    .bind(note)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

// Opens the tasks `events` call for, unless the request already has an open one for the reason.
async fn follow_ups_in(conn: &mut Conn, key: i64, r: &ServiceRequest, events: &[RequestEvent]) -> Result<()> {
    for reason in triggered(events) {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM follow_ups WHERE request_key = $1 AND reason = $2 AND done_at IS NULL",
        )
        .bind(key)
        .bind(reason.as_str())
        .fetch_one(&mut *conn)
        .await?;
        if open == 0 {
            insert_follow_up(conn, key, reason, None, r.updated_at).await?;
        }
    }
    Ok(())
}

async fn follow_up_in(conn: &mut Conn, task: i64) -> Result<Option<FollowUp>> {
    let sql = format!("{FOLLOW_UP_COLUMNS} WHERE f.id = $1");
    let row: Option<FollowUpRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(task).fetch_optional(&mut *conn).await?;
    row.map(follow_up_from).transpose()
}

pub(crate) async fn open_follow_up(
    pool: &Pool,
    request: &str,
    note: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(FollowUp, ServiceRequest)> {
    let mut tx = begin_write(pool).await?;
    let (key, mut r) = load_in(&mut tx, request).await?;
    let task = insert_follow_up(&mut tx, key, FollowUpReason::Manual, Some(note.trim()), now).await?;
    let event = r.follow_up_opened(task, note, actor, now)?;
    save_in(&mut tx, key, &mut r, &[event]).await?;
    let task = follow_up_in(&mut tx, task).await?.ok_or_else(|| StoreError::corrupt("follow-up vanished"))?;
    tx.commit().await?;
    Ok((task, r))
}

pub(crate) async fn follow_ups(pool: &Pool, open: bool, limit: i64) -> Result<Vec<FollowUp>> {
    let sql = if open {
        format!("{FOLLOW_UP_COLUMNS} WHERE f.done_at IS NULL ORDER BY f.opened_at, f.id LIMIT $1")
    } else {
        format!("{FOLLOW_UP_COLUMNS} WHERE f.done_at IS NOT NULL ORDER BY f.done_at DESC, f.id LIMIT $1")
    };
    let rows: Vec<FollowUpRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await?;
    rows.into_iter().map(follow_up_from).collect()
}

pub(crate) async fn follow_ups_of(pool: &Pool, request: &str) -> Result<Vec<FollowUp>> {
    let sql = format!("{FOLLOW_UP_COLUMNS} WHERE r.id = $1 ORDER BY f.opened_at, f.id");
    let rows: Vec<FollowUpRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(request).fetch_all(pool).await?;
    rows.into_iter().map(follow_up_from).collect()
}

pub(crate) async fn finish_follow_up(
    pool: &Pool,
    task: i64,
    outcome: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(FollowUp, ServiceRequest)> {
    let mut tx = begin_write(pool).await?;
    let found = follow_up_in(&mut tx, task)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "follow-up", id: task.to_string() })?;
    if found.done_at.is_some() {
        return Err(StoreError::AlreadyExists { what: "outcome of follow-up", id: task.to_string() });
    }
    let (key, mut r) = load_in(&mut tx, &found.request_id).await?;
    let event = r.follow_up_done(task, outcome, actor.clone(), now)?;
    sqlx::query("UPDATE follow_ups SET done_at = $2, done_by = $3, outcome = $4 WHERE id = $1 AND done_at IS NULL")
        .bind(task)
        .bind(now)
        .bind(actor.to_string())
        .bind(outcome.trim())
        .execute(&mut *tx)
        .await?;
    save_in(&mut tx, key, &mut r, &[event]).await?;
    let done = follow_up_in(&mut tx, task).await?.ok_or_else(|| StoreError::corrupt("follow-up vanished"))?;
    tx.commit().await?;
    Ok((done, r))
}

pub(crate) async fn attach(
    pool: &Pool,
    request: &str,
    id: &str,
    file: &crate::follow_ups::Attachment<'_>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<ServiceRequest> {
    let mut tx = begin_write(pool).await?;
    let (key, mut r) = load_in(&mut tx, request).await?;
    sqlx::query("INSERT INTO media (id, content_type, bytes, created_at, name, public) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(file.content_type)
        .bind(file.bytes)
        .bind(now)
        .bind(file.name)
        .bind(file.public)
        .execute(&mut *tx)
        .await?;
    let event = r.attachment_added(id, file.name, file.content_type, file.public, actor, now)?;
    save_in(&mut tx, key, &mut r, &[event]).await?;
    tx.commit().await?;
    Ok(r)
}

pub(crate) async fn staff_media(pool: &Pool, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT content_type, bytes FROM media WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}
