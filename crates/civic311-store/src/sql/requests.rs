// Service requests and their event log. Included by backend.rs once per backend.

use chrono::{DateTime, Utc};
use civic311_domain::{
    Actor, DomainError, NewServiceRequest, RequestEvent, ServiceRequest, ServiceRequestId,
};
use sqlx::types::Json;
use sqlx::{Database, QueryBuilder};

use crate::requests::{Page, RequestCounts, RequestFilter, StoredEvent};
use crate::rows::{AreaRow, EventRow, RequestRow, RequesterRow, ServiceRow, request_select};
use crate::{Result, StoreError};

type Pool = sqlx::Pool<Db>;
type Conn = <Db as Database>::Connection;

const NEXT_REQUEST_NUMBER: &str = if POSTGRES {
    "SELECT nextval('service_request_number')"
} else {
    "UPDATE id_counters SET next = next + 1 WHERE name = 'service_request' RETURNING next - 1"
};
const LOCK: &str = if POSTGRES { " FOR UPDATE" } else { "" };

// The columns written on insert and update, as $1..$19 in this order.
const INSERT_REQUEST: &str = "INSERT INTO service_requests (id, service_code, status, \
    status_reason, priority, description, lat, long, address, address_id, zip, channel, \
    department_code, assignee, due_at, parent_key, attributes, updated_at, closed_at, \
    created_at, version) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
    (SELECT key FROM service_requests WHERE id = $16), $17, $18, $19, $20, 0) \
    ON CONFLICT (id) DO NOTHING RETURNING key";
const UPDATE_REQUEST: &str = "UPDATE service_requests SET service_code = $2, status = $3, \
    status_reason = $4, priority = $5, description = $6, lat = $7, long = $8, address = $9, \
    address_id = $10, zip = $11, channel = $12, department_code = $13, assignee = $14, \
    due_at = $15, parent_key = (SELECT key FROM service_requests WHERE id = $16), \
    attributes = $17, updated_at = $18, closed_at = $19, version = version + 1 \
    WHERE id = $1 AND version = $20";

type Query<'q> = sqlx::query::Query<'q, Db, <Db as Database>::Arguments>;

fn bind_request<'q>(q: Query<'q>, r: &'q ServiceRequest) -> Query<'q> {
    let point = r.location.point;
    q.bind(r.id.as_str())
        .bind(r.service_code.as_str())
        .bind(r.status.state())
        .bind(r.status.reason())
        .bind(r.priority.as_str())
        .bind(r.description.as_deref())
        .bind(point.map(|p| p.lat()))
        .bind(point.map(|p| p.long()))
        .bind(r.location.address.as_deref())
        .bind(r.location.address_id.as_deref())
        .bind(r.location.zip.as_deref())
        .bind(r.channel.as_str())
        .bind(r.department.as_ref().map(|d| d.as_str()))
        .bind(r.assignee.as_deref())
        .bind(r.due_at)
        .bind(r.parent_id.as_ref().map(|p| p.as_str()))
        .bind(Json(&r.attributes))
        .bind(r.updated_at)
        .bind(r.closed_at)
}

async fn append_events(conn: &mut Conn, key: i64, events: &[RequestEvent]) -> Result<()> {
    for e in events {
        sqlx::query(
            "INSERT INTO request_events (request_key, at, actor, kind, payload) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key)
        .bind(e.at)
        .bind(e.actor.to_string())
        .bind(e.kind.name())
        .bind(Json(&e.kind))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// Areas and requester live in their own tables; they are rewritten with the request.
async fn write_parts(conn: &mut Conn, key: i64, r: &ServiceRequest) -> Result<()> {
    sqlx::query("DELETE FROM request_areas WHERE request_key = $1")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    for a in &r.location.areas {
        sqlx::query("INSERT INTO request_areas (request_key, layer_id, area_id) VALUES ($1, $2, $3)")
            .bind(key)
            .bind(a.layer.as_str())
            .bind(a.area.as_str())
            .execute(&mut *conn)
            .await?;
    }
    match &r.requester {
        None => {
            sqlx::query("DELETE FROM requesters WHERE request_key = $1")
                .bind(key)
                .execute(&mut *conn)
                .await?;
        }
        Some(p) => {
            sqlx::query(
                "INSERT INTO requesters (request_key, first_name, last_name, email, phone, \
                 account_id, device_id, consent_contact, consent_survey) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (request_key) DO UPDATE SET first_name = $2, last_name = $3, \
                 email = $4, phone = $5, account_id = $6, device_id = $7, \
                 consent_contact = $8, consent_survey = $9",
            )
            .bind(key)
            .bind(p.first_name.as_deref())
            .bind(p.last_name.as_deref())
            .bind(p.email.as_deref())
            .bind(p.phone.as_deref())
            .bind(p.account_id.as_deref())
            .bind(p.device_id.as_deref())
            .bind(p.consent.contact)
            .bind(p.consent.survey)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

// Inserts a request with its events; `None` when its id is taken (nothing written then).
async fn insert_in(
    conn: &mut Conn,
    r: &ServiceRequest,
    events: &[RequestEvent],
) -> Result<Option<i64>> {
    let key: Option<i64> = bind_request(sqlx::query(INSERT_REQUEST), r)
        .bind(r.created_at)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| sqlx::Row::try_get(&row, 0))
        .transpose()?;
    if let Some(key) = key {
        write_parts(conn, key, r).await?;
        append_events(conn, key, events).await?;
    }
    Ok(key)
}

// Saves a changed request if nobody saved it since `r.version`, then bumps `r.version`.
async fn save_in(conn: &mut Conn, key: i64, r: &mut ServiceRequest, events: &[RequestEvent]) -> Result<()> {
    let done = bind_request(sqlx::query(UPDATE_REQUEST), r)
        .bind(r.version)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if done == 0 {
        let actual: Option<i64> =
            sqlx::query_scalar("SELECT version FROM service_requests WHERE id = $1")
                .bind(r.id.as_str())
                .fetch_optional(&mut *conn)
                .await?;
        return Err(match actual {
            Some(actual) => {
                StoreError::Conflict { id: r.id.to_string(), expected: r.version, actual }
            }
            None => StoreError::NotFound { what: "service request", id: r.id.to_string() },
        });
    }
    write_parts(conn, key, r).await?;
    append_events(conn, key, events).await?;
    r.version += 1;
    Ok(())
}

// Loads one request (locked for update on PostgreSQL) with its parts.
async fn load_in(conn: &mut Conn, id: &str) -> Result<(i64, ServiceRequest)> {
    let sql = format!("{} WHERE r.id = $1{LOCK}", request_select!());
    let row: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| StoreError::NotFound { what: "service request", id: id.into() })?;
    let key = row.key;
    let mut all = attach(conn, vec![row]).await?;
    Ok((key, all.remove(0)))
}

// Turns rows into requests, loading their areas and requesters in two queries.
async fn attach(conn: &mut Conn, rows: Vec<RequestRow>) -> Result<Vec<ServiceRequest>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<i64> = rows.iter().map(|r| r.key).collect();
    let mut q = QueryBuilder::<Db>::new(
        "SELECT request_key, layer_id, area_id FROM request_areas WHERE request_key IN (",
    );
    let mut list = q.separated(", ");
    for k in &keys {
        list.push_bind(*k);
    }
    q.push(") ORDER BY layer_id");
    let areas: Vec<AreaRow> = q.build_query_as().fetch_all(&mut *conn).await?;
    let mut q = QueryBuilder::<Db>::new("SELECT * FROM requesters WHERE request_key IN (");
    let mut list = q.separated(", ");
    for k in &keys {
        list.push_bind(*k);
    }
    q.push(")");
    let mut people: Vec<RequesterRow> = q.build_query_as().fetch_all(&mut *conn).await?;
    let mut areas_by_key: std::collections::HashMap<i64, Vec<_>> = Default::default();
    for a in areas {
        areas_by_key.entry(a.request_key).or_default().push(a);
    }
    rows.into_iter()
        .map(|row| {
            let key = row.key;
            let mut r = row.into_request()?;
            for a in areas_by_key.remove(&key).unwrap_or_default() {
                r.location.areas.push(a.into_ref()?);
            }
            if let Some(i) = people.iter().position(|p| p.request_key == key) {
                r.requester = Some(people.swap_remove(i).into());
            }
            Ok(r)
        })
        .collect()
}

pub(crate) async fn request(pool: &Pool, id: &str) -> Result<Option<ServiceRequest>> {
    let mut conn = pool.acquire().await?;
    match load_in(&mut conn, id).await {
        Ok((_, r)) => Ok(Some(r)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn push_filter(q: &mut QueryBuilder<Db>, f: &RequestFilter) {
    q.push(" WHERE 1 = 1");
    if !f.ids.is_empty() {
        q.push(" AND r.id IN (");
        let mut list = q.separated(", ");
        for id in &f.ids {
            list.push_bind(id.as_str().to_owned());
        }
        q.push(")");
    }
    if !f.service_codes.is_empty() {
        q.push(" AND r.service_code IN (");
        let mut list = q.separated(", ");
        for c in &f.service_codes {
            list.push_bind(c.as_str().to_owned());
        }
        q.push(")");
    }
    if !f.states.is_empty() {
        q.push(" AND r.status IN (");
        let mut list = q.separated(", ");
        for s in &f.states {
            list.push_bind(*s);
        }
        q.push(")");
    }
    if let Some(d) = &f.department {
        q.push(" AND r.department_code = ").push_bind(d.as_str().to_owned());
    }
    if let Some(t) = f.created_from {
        q.push(" AND r.created_at >= ").push_bind(t);
    }
    if let Some(t) = f.created_before {
        q.push(" AND r.created_at < ").push_bind(t);
    }
    if let Some(t) = f.updated_after {
        q.push(" AND r.updated_at > ").push_bind(t);
    }
    if let Some(t) = f.updated_before {
        q.push(" AND r.updated_at < ").push_bind(t);
    }
    if let Some(a) = &f.area {
        q.push(" AND EXISTS (SELECT 1 FROM request_areas a WHERE a.request_key = r.key AND a.layer_id = ")
            .push_bind(a.layer.as_str().to_owned())
            .push(" AND a.area_id = ")
            .push_bind(a.area.as_str().to_owned())
            .push(")");
    }
}

pub(crate) async fn requests(pool: &Pool, f: &RequestFilter, page: Page) -> Result<Vec<ServiceRequest>> {
    let mut q = QueryBuilder::<Db>::new(request_select!());
    push_filter(&mut q, f);
    q.push(" ORDER BY r.created_at DESC, r.key DESC LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let mut conn = pool.acquire().await?;
    let rows: Vec<RequestRow> = q.build_query_as().fetch_all(&mut *conn).await?;
    attach(&mut conn, rows).await
}

pub(crate) async fn count_requests(pool: &Pool, f: &RequestFilter) -> Result<i64> {
    let mut q = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM service_requests r");
    push_filter(&mut q, f);
    Ok(q.build_query_scalar().fetch_one(pool).await?)
}

pub(crate) async fn request_counts(pool: &Pool) -> Result<RequestCounts> {
    let by_state: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM service_requests GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_events").fetch_one(pool).await?;
    Ok(RequestCounts { total: by_state.iter().map(|(_, n)| n).sum(), by_state, events })
}

pub(crate) async fn events(pool: &Pool, id: &str) -> Result<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.seq, e.at, e.actor, e.payload FROM request_events e \
         JOIN service_requests r ON r.key = e.request_key WHERE r.id = $1 ORDER BY e.seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let actor: Actor = row.actor.parse().map_err(StoreError::corrupt)?;
            Ok(StoredEvent {
                seq: row.seq,
                event: RequestEvent { at: row.at, actor, kind: row.payload.0 },
            })
        })
        .collect()
}

pub(crate) async fn create_request(
    pool: &Pool,
    new: NewServiceRequest,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<ServiceRequest> {
    let mut tx = pool.begin().await?;
    let service: Option<ServiceRow> = sqlx::query_as("SELECT * FROM services WHERE code = $1")
        .bind(new.service_code.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let service = service
        .ok_or_else(|| DomainError::UnknownService(new.service_code.to_string()))?
        .into_service()?;
    // Imported requests keep their source's ids, which may collide with our numbers: skip taken ones.
    let placeholder = ServiceRequestId::parse("new").map_err(StoreError::corrupt)?;
    let (mut request, events) = ServiceRequest::open(placeholder, new, &service, actor, now)?;
    loop {
        let number: i64 = sqlx::query_scalar(NEXT_REQUEST_NUMBER).fetch_one(&mut *tx).await?;
        request.id = ServiceRequestId::parse(number.to_string()).map_err(StoreError::corrupt)?;
        if insert_in(&mut tx, &request, &events).await?.is_some() {
            break;
        }
    }
    tx.commit().await?;
    Ok(request)
}

pub(crate) async fn insert_requests(
    pool: &Pool,
    batch: &[(ServiceRequest, Vec<RequestEvent>)],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    for (r, events) in batch {
        if insert_in(&mut tx, r, events).await?.is_none() {
            return Err(StoreError::AlreadyExists { what: "service request", id: r.id.to_string() });
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn save_request(
    pool: &Pool,
    r: &mut ServiceRequest,
    events: &[RequestEvent],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let key: Option<i64> = sqlx::query_scalar("SELECT key FROM service_requests WHERE id = $1")
        .bind(r.id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    let key = key.ok_or_else(|| StoreError::NotFound { what: "service request", id: r.id.to_string() })?;
    save_in(&mut tx, key, r, events).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn update_request<F>(
    pool: &Pool,
    id: &str,
    expected_version: Option<i64>,
    change: F,
) -> Result<ServiceRequest>
where
    F: FnOnce(&mut ServiceRequest) -> std::result::Result<Vec<RequestEvent>, DomainError>,
{
    let mut tx = pool.begin().await?;
    let (key, mut r) = load_in(&mut tx, id).await?;
    if let Some(expected) = expected_version.filter(|v| *v != r.version) {
        return Err(StoreError::Conflict { id: id.into(), expected, actual: r.version });
    }
    let events = change(&mut r)?;
    save_in(&mut tx, key, &mut r, &events).await?;
    tx.commit().await?;
    Ok(r)
}

pub(crate) async fn merge_requests(
    pool: &Pool,
    child_id: &str,
    parent_id: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(ServiceRequest, ServiceRequest)> {
    let mut tx = pool.begin().await?;
    let (child_key, mut child) = load_in(&mut tx, child_id).await?;
    let (parent_key, mut parent) = load_in(&mut tx, parent_id).await?;
    let (child_events, parent_event) = child.merge_into(&mut parent, actor, now)?;
    save_in(&mut tx, child_key, &mut child, &child_events).await?;
    save_in(&mut tx, parent_key, &mut parent, &[parent_event]).await?;
    tx.commit().await?;
    Ok((child, parent))
}
