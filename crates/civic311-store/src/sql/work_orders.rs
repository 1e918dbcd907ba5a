// Work orders and the outbox. Included by backend.rs once per backend.

use civic311_domain::{ClosureReason, Status, WorkOrder, WorkOrderState};

use crate::work_orders::{
    Attempt, FieldReport, OutboxMessage, REPORT_TOPIC, ReportMail, ReportOutcome, WORK_ORDER_TOPIC,
    work_order_payload,
};

const WORK_ORDER_COLUMNS: &str = "SELECT w.id, r.id, w.system, w.state, w.external_id, w.instructions, \
     w.created_at, w.updated_at FROM work_orders w JOIN service_requests r ON r.key = w.request_key";
const OUTBOX_COLUMNS: &str = "id, topic, destination, idempotency_key, payload, state, \
     CAST(attempts AS INTEGER), next_attempt_at, last_error, created_at";

type WorkOrderRow = (String, String, String, String, Option<String>, Option<String>, DateTime<Utc>, DateTime<Utc>);
type OutboxRow = (i64, String, String, String, String, String, i32, DateTime<Utc>, Option<String>, DateTime<Utc>);

fn work_order_from(row: WorkOrderRow) -> Result<WorkOrder> {
    let (id, request_id, system, state, external_id, instructions, created_at, updated_at) = row;
    Ok(WorkOrder {
        state: state.parse().map_err(StoreError::corrupt)?,
        id,
        request_id,
        system,
        external_id,
        instructions,
        created_at,
        updated_at,
    })
}

fn outbox_from(row: OutboxRow) -> OutboxMessage {
    let (id, topic, destination, idempotency_key, payload, state, attempts, next_attempt_at, last_error, created_at) =
        row;
    OutboxMessage {
        id,
        topic,
        destination,
        idempotency_key,
        payload,
        state,
        attempts,
        next_attempt_at,
        last_error,
        created_at,
    }
}

async fn work_order_in(conn: &mut Conn, filter: &str, system: Option<&str>, key: &str) -> Result<Option<WorkOrder>> {
    let sql = format!("{WORK_ORDER_COLUMNS} WHERE {filter}");
    let mut q = sqlx::query_as::<_, WorkOrderRow>(sqlx::AssertSqlSafe(sql)).bind(key);
    if let Some(system) = system {
        q = q.bind(system);
    }
    q.fetch_optional(&mut *conn).await?.map(work_order_from).transpose()
}

async fn set_work_order(conn: &mut Conn, order: &WorkOrder) -> Result<()> {
    sqlx::query("UPDATE work_orders SET state = $2, external_id = $3, updated_at = $4 WHERE id = $1")
        .bind(&order.id)
        .bind(order.state.as_str())
        .bind(&order.external_id)
        .bind(order.updated_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) async fn create_work_order(
    pool: &Pool,
    order: WorkOrder,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(WorkOrder, ServiceRequest)> {
    let mut tx = begin_write(pool).await?;
    let (key, mut request) = load_in(&mut tx, &order.request_id).await?;
    let event = request.request_work_order(&order.id, &order.system, actor, now)?;
    save_in(&mut tx, key, &mut request, &[event]).await?;
    sqlx::query(
        "INSERT INTO work_orders (id, request_key, system, state, instructions, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&order.id)
    .bind(key)
    .bind(&order.system)
    .bind(order.state.as_str())
    .bind(&order.instructions)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox (topic, destination, idempotency_key, payload, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(WORK_ORDER_TOPIC)
    .bind(&order.system)
    .bind(&order.id)
    .bind(work_order_payload(&request, &order)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((order, request))
}

pub(crate) async fn work_order(pool: &Pool, id: &str) -> Result<Option<WorkOrder>> {
    let mut conn = pool.acquire().await?;
    work_order_in(&mut conn, "w.id = $1", None, id).await
}

pub(crate) async fn work_orders_of(pool: &Pool, request: &str) -> Result<Vec<WorkOrder>> {
    let sql = format!("{WORK_ORDER_COLUMNS} WHERE r.id = $1 ORDER BY w.created_at, w.id");
    let rows: Vec<WorkOrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(request).fetch_all(pool).await?;
    rows.into_iter().map(work_order_from).collect()
}

// Every work order of `system` with an external id, with the status of its request.
pub(crate) async fn linked_work_orders(pool: &Pool, system: &str) -> Result<Vec<(WorkOrder, String)>> {
    let sql = format!(
        "{} WHERE w.system = $1 AND w.external_id IS NOT NULL ORDER BY w.created_at, w.id",
        WORK_ORDER_COLUMNS.replace(" FROM", ", r.status FROM")
    );
    type Row = (String, String, String, String, Option<String>, Option<String>, DateTime<Utc>, DateTime<Utc>, String);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(system).fetch_all(pool).await?;
    rows.into_iter()
        .map(|(a, b, c, d, e, f, g, h, status)| Ok((work_order_from((a, b, c, d, e, f, g, h))?, status)))
        .collect()
}

pub(crate) async fn claim_outbox(
    pool: &Pool,
    worker: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxMessage>> {
    // The outer condition is checked again on the locked row, so two servers claiming at once
    // on PostgreSQL never both take a message (the second sees the first's lease).
    let sql = format!(
        "UPDATE outbox SET leased_by = $1, lease_until = $2 WHERE id IN (\
           SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $3 \
           AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_attempt_at, id LIMIT $4) \
         AND state = 'pending' AND (lease_until IS NULL OR lease_until < $3) \
         RETURNING {OUTBOX_COLUMNS}"
    );
    let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(worker)
        .bind(until)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    let mut messages: Vec<_> = rows.into_iter().map(outbox_from).collect();
    messages.sort_by_key(|m| (m.next_attempt_at, m.id));
    Ok(messages)
}

pub(crate) async fn finish_attempt(
    pool: &Pool,
    message: &OutboxMessage,
    attempt: Attempt,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let (state, next, error, external_id) = match attempt {
        Attempt::Delivered { external_id } => ("delivered", now, None, external_id),
        Attempt::Failed { error, retry_at: Some(at) } => ("pending", at, Some(error), None),
        Attempt::Failed { error, retry_at: None } => ("dead", now, Some(error), None),
    };
    let done = sqlx::query(
        "UPDATE outbox SET state = $2, attempts = attempts + 1, next_attempt_at = $3, last_error = $4, \
         delivered_at = CASE WHEN $2 = 'delivered' THEN $5 ELSE NULL END, leased_by = NULL, lease_until = NULL \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(message.id)
    .bind(state)
    .bind(next)
    .bind(&error)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Finished by another worker whose lease ran out under us, or not a work order: the
    // outbox row is all there is.
    if done == 0 || message.topic != WORK_ORDER_TOPIC || state == "pending" {
        tx.commit().await?;
        return Ok(());
    }
    let Some(mut order) = work_order_in(&mut tx, "w.id = $1", None, &message.idempotency_key).await? else {
        return Err(StoreError::NotFound { what: "work order", id: message.idempotency_key.clone() });
    };
    let to = if state == "dead" { WorkOrderState::Failed } else { WorkOrderState::Sent };
    let linked = order.external_id.is_none() && external_id.is_some();
    let moves = matches!(order.state, WorkOrderState::Queued | WorkOrderState::Failed);
    if linked {
        order.external_id = external_id;
    }
    if moves {
        order.state = to;
    }
    if linked || moves {
        order.updated_at = now;
        set_work_order(&mut tx, &order).await?;
        let (key, mut request) = load_in(&mut tx, &order.request_id).await?;
        let event = request.work_order_changed(&order, to, error, Actor::System, now);
        save_in(&mut tx, key, &mut request, &[event]).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn outbox(pool: &Pool, state: &str, limit: i64) -> Result<Vec<OutboxMessage>> {
    let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = $1 ORDER BY created_at, id LIMIT $2");
    let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(state).bind(limit).fetch_all(pool).await?;
    Ok(rows.into_iter().map(outbox_from).collect())
}

pub(crate) async fn retry_dead_letter(pool: &Pool, key: &str, now: DateTime<Utc>) -> Result<bool> {
    let mut tx = begin_write(pool).await?;
    let done = sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $2, leased_by = NULL, lease_until = NULL \
         WHERE idempotency_key = $1 AND state = 'dead'",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("UPDATE work_orders SET state = 'queued', updated_at = $2 WHERE id = $1 AND state = 'failed'")
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done == 1)
}

pub(crate) async fn apply_field_report(pool: &Pool, report: &FieldReport, now: DateTime<Utc>) -> Result<ReportOutcome> {
    let mut tx = begin_write(pool).await?;
    let fresh = sqlx::query(
        "INSERT INTO webhook_receipts (system, delivery_id, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (system, delivery_id) DO NOTHING",
    )
    .bind(&report.system)
    .bind(&report.delivery_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if fresh == 0 {
        return Ok(ReportOutcome::Replay);
    }
    let filter = format!("w.system = $2 AND (w.id = $1 OR w.external_id = $1){LOCK}");
    let mut order = work_order_in(&mut tx, &filter, Some(&report.system), &report.work_order)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "work order", id: report.work_order.clone() })?;
    order.state.check_report(report.state)?;
    order.state = report.state;
    order.updated_at = now;
    set_work_order(&mut tx, &order).await?;
    let (key, mut request) = load_in(&mut tx, &order.request_id).await?;
    let actor = Actor::ApiClient(format!("field:{}", report.system));
    let mut events = vec![request.work_order_changed(&order, report.state, report.note.clone(), actor.clone(), now)];
    // The field system finished the last open work order: the request is resolved.
    if report.state == WorkOrderState::Completed && report.closes_request && !request.status.is_closed() {
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM work_orders WHERE request_key = $1 AND id <> $2 \
             AND state NOT IN ('completed', 'cancelled')",
        )
        .bind(key)
        .bind(&order.id)
        .fetch_one(&mut *tx)
        .await?;
        if open == 0 {
            events.push(request.change_status(Status::Closed(ClosureReason::Resolved), actor, now)?);
        }
    }
    save_in(&mut tx, key, &mut request, &events).await?;
    tx.commit().await?;
    Ok(ReportOutcome::Applied(order))
}

pub(crate) async fn queue_report_mail(
    pool: &Pool,
    key: &str,
    mail: &ReportMail,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO outbox (topic, destination, idempotency_key, payload, next_attempt_at, created_at) \
         VALUES ($1, 'email', $2, $3, $4, $4) ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(REPORT_TOPIC)
    .bind(key)
    .bind(serde_json::to_string(mail).map_err(StoreError::corrupt)?)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn outbox_has(pool: &Pool, key: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE idempotency_key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}
