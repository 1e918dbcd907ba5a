// The SLA engine's storage: calendars, escalation sweeps, job leases. Included by backend.rs once
// per backend.

use civic311_domain::BusinessCalendar;
use civic311_domain::sla::EscalationPolicy;

pub(crate) async fn set_calendar(pool: &Pool, key: &str, calendar: &BusinessCalendar) -> Result<()> {
    sqlx::query(
        "INSERT INTO department_calendars (department_code, calendar) VALUES ($1, $2) \
         ON CONFLICT (department_code) DO UPDATE SET calendar = $2",
    )
    .bind(key)
    .bind(Json(calendar))
    .execute(pool)
    .await?;
    Ok(())
}

// The department's calendar, else the city's ('*'), else none.
async fn calendar_in(conn: &mut Conn, department: Option<&str>) -> Result<Option<BusinessCalendar>> {
    let rows: Vec<(String, Json<BusinessCalendar>)> = sqlx::query_as(
        "SELECT department_code, calendar FROM department_calendars WHERE department_code IN ($1, '*')",
    )
    .bind(department.unwrap_or("*"))
    .fetch_all(&mut *conn)
    .await?;
    let pick = |key: &str| rows.iter().find(|(k, _)| k == key).map(|(_, c)| c.0.clone());
    Ok(department.and_then(pick).or_else(|| pick("*")))
}

pub(crate) async fn calendar(pool: &Pool, department: Option<&str>) -> Result<Option<BusinessCalendar>> {
    let mut conn = pool.acquire().await?;
    calendar_in(&mut conn, department).await
}

// Takes the lease on `job` for `worker` until `until` if nobody holds an unexpired one.
pub(crate) async fn take_lease(
    pool: &Pool,
    job: &str,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool> {
    sqlx::query("INSERT INTO jobs (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(job)
        .execute(pool)
        .await?;
    let taken = sqlx::query(
        "UPDATE jobs SET leased_by = $2, lease_until = $3 \
         WHERE name = $1 AND (lease_until IS NULL OR lease_until < $4 OR leased_by = $2)",
    )
    .bind(job)
    .bind(worker)
    .bind(until)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(taken == 1)
}

pub(crate) async fn release_lease(
    pool: &Pool,
    job: &str,
    worker: &str,
    now: DateTime<Utc>,
    result: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET leased_by = NULL, lease_until = NULL, last_run_at = $3, last_result = $4 \
         WHERE name = $1 AND leased_by = $2",
    )
    .bind(job)
    .bind(worker)
    .bind(now)
    .bind(result)
    .execute(pool)
    .await?;
    Ok(())
}

// (id, received, due, level reached so far) of every open request with a due date below level 3
// whose clock runs. Imported requests are left alone: another system (or another city) owns
// their deadlines, and a go-live must not flood departments with a backlog's escalations.
pub(crate) async fn escalation_candidates(pool: &Pool) -> Result<Vec<(String, DateTime<Utc>, DateTime<Utc>, i32)>> {
    let rows: Vec<(String, DateTime<Utc>, DateTime<Utc>, i32)> = sqlx::query_as(
        "SELECT id, created_at, due_at, CAST(escalation_level AS INTEGER) FROM service_requests \
         WHERE status <> 'closed' AND due_at IS NOT NULL AND escalation_level < 3 \
         AND NOT (status = 'on_hold' AND status_reason IN ('waiting_on_resident', 'appointment_scheduled')) \
         AND NOT EXISTS (SELECT 1 FROM request_events e WHERE e.request_key = service_requests.key \
                         AND e.kind = 'created' AND e.actor LIKE 'import:%')",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows)
}

// Escalates each (id, level reached so far, level due) in one transaction; returns the requests
// escalated and the events written. Each request's level is re-read under the write, so a request
// closed or escalated since the scan is left alone and none is escalated twice.
pub(crate) async fn escalate(
    pool: &Pool,
    due: &[(String, u8, u8)],
    policy: &EscalationPolicy,
    now: DateTime<Utc>,
) -> Result<(usize, usize)> {
    let mut tx = begin_write(pool).await?;
    let (mut requests, mut written) = (0, 0);
    for (id, _, to) in due {
        let (key, mut r) = load_in(&mut tx, id).await?;
        let from: i32 = sqlx::query_scalar("SELECT CAST(escalation_level AS INTEGER) FROM service_requests WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        let from = u8::try_from(from).unwrap_or(0);
        if r.status.is_closed() || from >= *to {
            continue;
        }
        let events = r.escalate(from, *to, policy, now)?;
        save_in(&mut tx, key, &mut r, &events).await?;
        sqlx::query("UPDATE service_requests SET escalation_level = $1 WHERE key = $2")
            .bind(i16::from(*to))
            .bind(key)
            .execute(&mut *tx)
            .await?;
        requests += 1;
        written += events.len();
    }
    tx.commit().await?;
    Ok((requests, written))
}

pub(crate) async fn sla_attainment(pool: &Pool, now: DateTime<Utc>) -> Result<crate::sla::SlaAttainment> {
    let (met, closed_late, open_overdue, open_on_time): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN status = 'closed' AND closed_at <= due_at THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status = 'closed' AND closed_at > due_at THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status <> 'closed' AND due_at < $1 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN status <> 'closed' AND due_at >= $1 THEN 1 ELSE 0 END), 0) \
         FROM service_requests WHERE due_at IS NOT NULL \
         AND NOT (status = 'closed' AND status_reason = 'duplicate')",
    )
    .bind(now)
    .fetch_one(pool)
    .await?;
    Ok(crate::sla::SlaAttainment { met, closed_late, open_overdue, open_on_time })
}
