// Service requests and their event log. Included by backend.rs once per backend.

use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use civic311_domain::outcome::Outcome;
use civic311_domain::{
    Actor, AreaRef, DomainError, Requester, RequestEvent, ServiceRequest, ServiceRequestId,
};
use sqlx::types::Json;
use sqlx::{Database, QueryBuilder};

use crate::requests::{
    Condition, EventFeed, Page, RequestCounts, RequestFilter, StoredEvent, Upserted,
};
use crate::rows::{EventRow, RequestEventRow, RequestRow, RequesterRow, ServiceRow};
use crate::{Result, StoreError};

type Pool = sqlx::Pool<Db>;
type Conn = <Db as Database>::Connection;

// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
// a deferred transaction that read first and then writes fails at once with "database is
// locked" when another process (a second server, the CLI) wrote in between, without waiting
// for the busy timeout; an immediate one waits its turn.
async fn begin_write(pool: &Pool) -> Result<sqlx::Transaction<'static, Db>> {
    Ok(if POSTGRES { pool.begin().await? } else { pool.begin_with("BEGIN IMMEDIATE").await? })
}

// `n` fresh request numbers.
async fn next_numbers(conn: &mut Conn, n: usize) -> Result<Vec<i64>> {
    let n = i64::try_from(n).map_err(StoreError::corrupt)?;
    if POSTGRES {
        Ok(sqlx::query_scalar("SELECT nextval('service_request_number') FROM generate_series(1, $1)")
            .bind(n)
            .fetch_all(&mut *conn)
            .await?)
    } else {
        let first: i64 = sqlx::query_scalar(
            "UPDATE id_counters SET next = next + $1 WHERE name = 'service_request' RETURNING next - $1",
        )
        .bind(n)
        .fetch_one(&mut *conn)
        .await?;
        Ok((first..first + n).collect())
    }
}
const LOCK: &str = if POSTGRES { " FOR UPDATE" } else { "" };
// Reads return a page of requests as ONE text value, a JSON array with an array per request:
// the fields of `rows::RequestRow` in its order (serde reads a struct from a sequence), with its
// parent's id and its areas. SQLite hands every result row from its worker thread to the async
// side and copies each of its values; one value per page instead of ~25 per request made lists
// several times faster (docs/BENCHMARKS.md §2), and arrays instead of objects leave the field
// names out of every request (a third less text to build and parse). `$json` marks SQLite values
// as JSON so that they nest instead of being quoted as strings. SQLite writes JSON numbers with
// 15 significant digits, which loses coordinates; they go as text with 17, which gives back the
// very same f64.
macro_rules! request_json {
    ($array:literal, $agg:literal, $json:literal, $lat:literal, $long:literal) => {
        concat!(
            "SELECT CAST(COALESCE(", $agg, "(", $array, "(",
            "r.key, r.id, r.service_code, r.status, r.status_reason, r.priority, r.description, ",
            $lat, ", ", $long, ", r.address, r.address_id, r.zip, r.channel, r.department_code, ",
            "r.assignee, r.due_at, ",
            "(SELECT p.id FROM service_requests p WHERE p.key = r.parent_key), ",
            $json, "(r.attributes), r.media_url, r.created_at, r.updated_at, r.closed_at, r.version, ",
            $json, "((SELECT COALESCE(", $agg, "(", $array, "(a.layer_id, a.area_id)), '[]') ",
            "FROM request_areas a WHERE a.request_key = r.key)))), '[]') AS TEXT) ",
            "FROM (SELECT * FROM service_requests r"
        )
    };
}
// Followed by a filter, an order and a limit, then `)` and `REQUESTS_END`.
const REQUESTS_JSON: &str = if POSTGRES {
    request_json!("json_build_array", "json_agg", "", "r.lat", "r.long")
} else {
    request_json!(
        "json_array",
        "json_group_array",
        "json",
        "iif(r.lat IS NULL, NULL, printf('%!.17g', r.lat))",
        "iif(r.long IS NULL, NULL, printf('%!.17g', r.long))"
    )
};
const REQUESTS_END: &str = " r";

// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
// Only statements of a full chunk are kept prepared: a short last chunk has a length of its own
// each batch, and keeping each (a prepared statement of thousands of parameters takes megabytes)
// grew an import's memory by hundreds of MB.
const REQUESTS_PER_INSERT: usize = 1_000;
const ROWS_PER_INSERT: usize = 5_000;

// The columns of a request that a change can touch, in the order `push_fields` binds them.
macro_rules! request_fields {
    () => {
        "service_code, status, status_reason, priority, description, lat, long, address, \
         address_id, zip, channel, department_code, assignee, due_at, parent_key, attributes, \
         updated_at, closed_at, media_url, outcome, close_seconds, close_bin"
    };
}
const INSERT_REQUESTS: &str =
    concat!("INSERT INTO service_requests (id, created_at, version, ", request_fields!(), ") ");
const UPDATE_REQUEST: &str = concat!("UPDATE service_requests SET (", request_fields!(), ", version) = (");

// Binds `r`'s values of `request_fields!`; `parent` is the key of its parent, if any.
fn push_fields(row: &mut sqlx::query_builder::Separated<'_, Db, &'static str>, r: &ServiceRequest, parent: Option<i64>) {
    let point = r.location.point;
    row.push_bind(r.service_code.as_str())
        .push_bind(r.status.state())
        .push_bind(r.status.reason())
        .push_bind(r.priority.as_str())
        .push_bind(r.description.as_deref())
        .push_bind(point.map(|p| p.lat()))
        .push_bind(point.map(|p| p.long()))
        .push_bind(r.location.address.as_deref())
        .push_bind(r.location.address_id.as_deref())
        .push_bind(r.location.zip.as_deref())
        .push_bind(r.channel.as_str())
        .push_bind(r.department.as_ref().map(|d| d.as_str()))
        .push_bind(r.assignee.as_deref())
        .push_bind(r.due_at)
        .push_bind(parent)
        .push_bind(Json(&r.attributes))
        .push_bind(r.updated_at)
        .push_bind(r.closed_at)
        .push_bind(r.media_url.as_deref());
    // What the roll-ups count it by (see rollup.rs).
    let outcome = Outcome::of(r);
    row.push_bind(outcome.code()).push_bind(outcome.close_seconds).push_bind(outcome.close_bin());
}

// Runs one statement per chunk of `items` (`per` rows; `build` makes a chunk's statement),
// making the next chunk's while the database runs the last: binding a chunk's values (each time
// as text, each event as JSON) is work of the async side that SQLite's thread used to wait for
// (docs/BENCHMARKS.md §6h). Only a full chunk's statement is kept prepared.
async fn insert_chunks<T>(conn: &mut Conn, items: &[T], per: usize, build: impl Fn(&[T]) -> QueryBuilder<Db>) -> Result<()> {
    let make = |chunk: &[T]| (build(chunk), chunk.len() == per);
    let mut chunks = items.chunks(per);
    let mut next = chunks.next().map(make);
    while let Some((mut q, full)) = next.take() {
        let run = q.build().persistent(full).execute(&mut *conn);
        // Polled in order: the statement is on its way to the database before the next is made.
        let (done, made) = futures_util::future::join(run, async { chunks.next().map(make) }).await;
        done?;
        next = made;
    }
    Ok(())
}

// Events in multi-row INSERTs; `insert_events` (one per backend, see backend.rs) calls it.
async fn insert_event_rows(conn: &mut Conn, items: &[(i64, &RequestEvent)]) -> Result<()> {
    insert_chunks(conn, items, ROWS_PER_INSERT, |chunk| {
        let mut q =
            QueryBuilder::<Db>::new("INSERT INTO request_events (request_key, at, actor, kind, payload) ");
        q.push_values(chunk, |mut row, (key, e)| {
            row.push_bind(*key)
                .push_bind(e.at)
                .push_bind(e.actor.to_string())
                .push_bind(e.kind.name())
                .push_bind(Json(&e.kind));
        });
        q
    })
    .await
}

// With the request's creation time and outcome code (an area's requests of a period, and those
// of an outcome, come from its index).
async fn insert_areas(conn: &mut Conn, items: &[(i64, &AreaRef, DateTime<Utc>, i16)]) -> Result<()> {
    insert_chunks(conn, items, ROWS_PER_INSERT, |chunk| {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO request_areas (request_key, layer_id, area_id, created_at, outcome) ",
        );
        q.push_values(chunk, |mut row, (key, a, created_at, outcome)| {
            row.push_bind(*key)
                .push_bind(a.layer.as_str())
                .push_bind(a.area.as_str())
                .push_bind(*created_at)
                .push_bind(*outcome);
        });
        q
    })
    .await
}

async fn insert_requesters(conn: &mut Conn, items: &[(i64, &Requester)]) -> Result<()> {
    insert_chunks(conn, items, ROWS_PER_INSERT / 2, |chunk| {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO requesters (request_key, first_name, last_name, email, phone, \
             account_id, device_id, consent_contact, consent_survey) ",
        );
        q.push_values(chunk, |mut row, (key, p)| {
            row.push_bind(*key)
                .push_bind(p.first_name.as_deref())
                .push_bind(p.last_name.as_deref())
                .push_bind(p.email.as_deref())
                .push_bind(p.phone.as_deref())
                .push_bind(p.account_id.as_deref())
                .push_bind(p.device_id.as_deref())
                .push_bind(p.consent.contact)
                .push_bind(p.consent.survey);
        });
        q
    })
    .await
}

// Writes the areas, requester and events of requests whose rows exist under `key`.
async fn insert_parts(conn: &mut Conn, saved: &[(i64, &ServiceRequest, &[RequestEvent])]) -> Result<()> {
    let areas: Vec<_> = saved
        .iter()
        .flat_map(|(k, r, _)| {
            // Once per request, not per area.
            let outcome = Outcome::of(r).code();
            r.location.areas.iter().map(move |a| (*k, a, r.created_at, outcome))
        })
        .collect();
    insert_areas(conn, &areas).await?;
    let people: Vec<_> =
        saved.iter().filter_map(|(k, r, _)| r.requester.as_ref().map(|p| (*k, p))).collect();
    insert_requesters(conn, &people).await?;
    let events: Vec<_> = saved.iter().flat_map(|(k, _, es)| es.iter().map(move |e| (*k, e))).collect();
    insert_events(conn, &events).await
}

// The keys of the stored parents of a chunk, in one query (a subquery per row would open one
// cursor per row on service_requests, which SQLite pays for on every write).
async fn parent_keys<'a>(
    conn: &mut Conn,
    chunk: impl Iterator<Item = &'a ServiceRequest>,
) -> Result<std::collections::HashMap<String, i64>> {
    let ids: Vec<&str> = chunk.filter_map(|r| r.parent_id.as_ref().map(|p| p.as_str())).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut q = QueryBuilder::<Db>::new("SELECT id, key FROM service_requests WHERE id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id);
    }
    q.push(")");
    let rows: Vec<(String, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().collect())
}

// The INSERT of a chunk of requests, `parents` the keys of their stored parents.
fn requests_insert(chunk: &[(ServiceRequest, Vec<RequestEvent>)], parents: &std::collections::HashMap<String, i64>) -> QueryBuilder<Db> {
    let mut q = QueryBuilder::<Db>::new(INSERT_REQUESTS);
    q.push_values(chunk, |mut row, (r, _)| {
        row.push_bind(r.id.as_str()).push_bind(r.created_at).push_bind(0_i64);
        let parent = r.parent_id.as_ref().and_then(|p| parents.get(p.as_str()).copied());
        push_fields(&mut row, r, parent);
    });
    q.push(" ON CONFLICT (id) DO NOTHING RETURNING id, key");
    q
}

// Inserts requests with their parts and events in multi-row statements. Returns each request's
// key, or `None` where its id was taken (that request is not written; a repeated id within the
// batch keeps its first occurrence). A parent must already be stored to be linked: a chunk whose
// requests name parents is made after the chunks before it are written, the others while the
// one before is (as `insert_chunks` does).
async fn insert_many(
    conn: &mut Conn,
    batch: &[(ServiceRequest, Vec<RequestEvent>)],
) -> Result<Vec<Option<i64>>> {
    let mut keys = Vec::with_capacity(batch.len());
    let mut chunks = batch.chunks(REQUESTS_PER_INSERT).peekable();
    let mut made: Option<QueryBuilder<Db>> = None;
    while let Some(chunk) = chunks.next() {
        let mut q = match made.take() {
            Some(q) => q,
            None => requests_insert(chunk, &parent_keys(conn, chunk.iter().map(|(r, _)| r)).await?),
        };
        let next = chunks.peek().copied().filter(|c| c.iter().all(|(r, _)| r.parent_id.is_none()));
        let run = q.build_query_as::<(String, i64)>().persistent(chunk.len() == REQUESTS_PER_INSERT).fetch_all(&mut *conn);
        let (returned, next) = futures_util::future::join(run, async {
            next.map(|c| requests_insert(c, &Default::default()))
        })
        .await;
        made = next;
        let mut by_id: std::collections::HashMap<String, i64> = returned?.into_iter().collect();
        keys.extend(chunk.iter().map(|(r, _)| by_id.remove(r.id.as_str())));
    }
    let saved: Vec<_> = batch
        .iter()
        .zip(&keys)
        .filter_map(|((r, es), k)| k.map(|k| (k, r, es.as_slice())))
        .collect();
    insert_parts(conn, &saved).await?;
    Ok(keys)
}

// Saves a changed request if nobody saved it since `r.version`, then bumps `r.version`.
async fn save_in(conn: &mut Conn, key: i64, r: &mut ServiceRequest, events: &[RequestEvent]) -> Result<()> {
    update_row(conn, r).await?;
    replace_parts(conn, &[(key, &*r, events)]).await?;
    after_save(conn, key, r, events).await
}

// Writes a changed request's row if nobody saved it since `r.version`, then bumps `r.version`.
// Its areas, requester and events are written by `replace_parts`.
async fn update_row(conn: &mut Conn, r: &mut ServiceRequest) -> Result<()> {
    let parent: Option<i64> = match &r.parent_id {
        Some(p) => sqlx::query_scalar("SELECT key FROM service_requests WHERE id = $1")
            .bind(p.as_str())
            .fetch_optional(&mut *conn)
            .await?,
        None => None,
    };
    let mut q = QueryBuilder::<Db>::new(UPDATE_REQUEST);
    let mut row = q.separated(", ");
    push_fields(&mut row, r, parent);
    row.push("version + 1");
    q.push(") WHERE id = ").push_bind(r.id.as_str()).push(" AND version = ").push_bind(r.version);
    let done = q.build().execute(&mut *conn).await?.rows_affected();
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
    r.version += 1;
    Ok(())
}

// PostgreSQL: the changed rows of an import's batch in one UPDATE a thousand, from a JSON array
// of their columns, so that the roll-ups' statement triggers fire once for them all instead of
// once a request (4.7 ms each, docs/BENCHMARKS.md §6f). Each request's version is checked as
// `update_row` does, and bumped once; each key once, in its state at the end of the batch.
async fn update_rows(conn: &mut Conn, rows: &mut [(i64, &mut ServiceRequest)]) -> Result<()> {
    static FIELDS: std::sync::LazyLock<Vec<&str>> =
        std::sync::LazyLock::new(|| request_fields!().split(',').map(str::trim).collect());
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let from: Vec<String> = FIELDS.iter().map(|c| format!("v.{c}")).collect();
        format!(
            "UPDATE service_requests r SET ({}, version) = ({}, r.version + 1) \
             FROM jsonb_populate_recordset(NULL::service_requests, ",
            request_fields!(),
            from.join(", ")
        )
    });
    use serde_json::json;
    for chunk in rows.chunks_mut(REQUESTS_PER_INSERT) {
        let parents = parent_keys(conn, chunk.iter().map(|(_, r)| &**r)).await?;
        let values: Vec<serde_json::Value> = chunk
            .iter()
            .map(|(key, r)| {
                let point = r.location.point;
                let outcome = Outcome::of(r);
                // In `push_fields`' order, named by `request_fields!`.
                let values = [
                    json!(r.service_code.as_str()),
                    json!(r.status.state()),
                    json!(r.status.reason()),
                    json!(r.priority.as_str()),
                    json!(r.description),
                    json!(point.map(|p| p.lat())),
                    json!(point.map(|p| p.long())),
                    json!(r.location.address),
                    json!(r.location.address_id),
                    json!(r.location.zip),
                    json!(r.channel.as_str()),
                    json!(r.department.as_ref().map(|d| d.as_str())),
                    json!(r.assignee),
                    json!(r.due_at),
                    json!(r.parent_id.as_ref().and_then(|p| parents.get(p.as_str()))),
                    json!(r.attributes),
                    json!(r.updated_at),
                    json!(r.closed_at),
                    json!(r.media_url),
                    json!(outcome.code()),
                    json!(outcome.close_seconds),
                    json!(outcome.close_bin()),
                ];
                debug_assert_eq!(values.len(), FIELDS.len());
                let mut row: serde_json::Map<String, serde_json::Value> =
                    FIELDS.iter().map(|f| f.to_string()).zip(values).collect();
                row.insert("key".into(), (*key).into());
                row.insert("version".into(), r.version.into());
                serde_json::Value::Object(row)
            })
            .collect();
        let mut q = QueryBuilder::<Db>::new(SQL.as_str());
        q.push_bind(Json(values)).push(") v WHERE r.key = v.key AND r.version = v.version RETURNING r.key");
        let updated: std::collections::HashSet<i64> = q.build_query_scalar().fetch_all(&mut *conn).await?.into_iter().collect();
        for (key, r) in chunk.iter_mut() {
            if !updated.contains(key) {
                // Saved by someone else since it was read: `update_row` says by whom.
                return update_row(conn, r).await;
            }
            r.version += 1;
        }
    }
    Ok(())
}

// Writes the areas and requesters of saved requests again, and their new events, for many at
// once: on PostgreSQL the roll-ups' statement triggers fire once per statement, 2-3 ms each
// whatever its rows (docs/BENCHMARKS.md §6f). Each key once.
async fn replace_parts(conn: &mut Conn, saved: &[(i64, &ServiceRequest, &[RequestEvent])]) -> Result<()> {
    let keys: Vec<i64> = saved.iter().map(|(k, ..)| *k).collect();
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        for table in ["DELETE FROM request_areas WHERE request_key IN ", "DELETE FROM requesters WHERE request_key IN "] {
            let mut q = QueryBuilder::<Db>::new(table);
            push_keys(&mut q, chunk);
            q.build().execute(&mut *conn).await?;
        }
    }
    insert_parts(conn, saved).await
}

// What follows a save: notifications, follow-ups, and a new escalation sweep after a new due
// date (reclassified, clock resumed).
async fn after_save(conn: &mut Conn, key: i64, r: &ServiceRequest, events: &[RequestEvent]) -> Result<()> {
    notify_in(conn, key, r, events).await?;
    follow_ups_in(conn, key, r, events).await?;
    if events.iter().any(|e| matches!(e.kind, civic311_domain::EventKind::DueDateChanged { .. })) {
        sqlx::query("UPDATE service_requests SET escalation_level = 0 WHERE key = $1")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// Loads one request (locked for update on PostgreSQL) with its parts.
async fn load_in(conn: &mut Conn, id: &str) -> Result<(i64, ServiceRequest)> {
    let found = load_many(conn, &[id]).await?.remove(id);
    found.ok_or_else(|| StoreError::NotFound { what: "service request", id: id.into() })
}

// Loads the requests stored under `ids` (locked for update on PostgreSQL) with their parts, by
// id, in one read per thousand: a re-import finds most of its rows already stored, and one read
// each was a round trip to SQLite's thread or the server per row (docs/BENCHMARKS.md §6f).
async fn load_many(conn: &mut Conn, ids: &[&str]) -> Result<std::collections::HashMap<String, (i64, ServiceRequest)>> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(REQUESTS_PER_INSERT) {
        let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
        q.push(" WHERE r.id IN (");
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(")").push(LOCK).push(")").push(REQUESTS_END);
        for (key, r) in fetch_requests(conn, q, true).await? {
            found.insert(r.id.to_string(), (key, r));
        }
    }
    Ok(found)
}

// Appends `(k1, k2, ...)` as bound parameters.
fn push_keys<'a>(q: &'a mut QueryBuilder<Db>, keys: &[i64]) -> &'a mut QueryBuilder<Db> {
    q.push("(");
    let mut list = q.separated(", ");
    for k in keys {
        list.push_bind(*k);
    }
    q.push(")")
}

// Runs a `REQUESTS_JSON` query and returns its requests (with their keys) newest first, with
// their requesters when `people` is set.
async fn fetch_requests(
    conn: &mut Conn,
    mut q: QueryBuilder<Db>,
    people: bool,
) -> Result<Vec<(i64, ServiceRequest)>> {
    let page: String = q.build_query_scalar().fetch_one(&mut *conn).await?;
    let rows: Vec<RequestRow> =
        serde_json::from_str(&page).map_err(|e| StoreError::corrupt(format!("request page: {e}")))?;
    let mut requests = rows
        .into_iter()
        .map(|row| Ok((row.key, row.into_request()?)))
        .collect::<Result<Vec<_>>>()?;
    requests.sort_by(|(ka, a), (kb, b)| (b.created_at, kb).cmp(&(a.created_at, ka)));
    if people && !requests.is_empty() {
        let keys: Vec<i64> = requests.iter().map(|(k, _)| *k).collect();
        let mut q = QueryBuilder::<Db>::new("SELECT * FROM requesters WHERE request_key IN ");
        push_keys(&mut q, &keys);
        let people: Vec<RequesterRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        let mut by_key: std::collections::HashMap<i64, RequesterRow> =
            people.into_iter().map(|p| (p.request_key, p)).collect();
        for (key, r) in &mut requests {
            r.requester = by_key.remove(key).map(Into::into);
        }
    }
    Ok(requests)
}

pub(crate) async fn request(pool: &Pool, id: &str, people: bool) -> Result<Option<ServiceRequest>> {
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    q.push(" WHERE r.id = ").push_bind(id).push(")").push(REQUESTS_END);
    let mut conn = pool.acquire().await?;
    Ok(fetch_requests(&mut conn, q, people).await?.pop().map(|(_, r)| r))
}

// Appends ` AND r.service_code IN (...)` unless `codes` is empty.
fn push_service_codes(q: &mut QueryBuilder<Db>, codes: &[civic311_domain::ServiceCode]) {
    if !codes.is_empty() {
        q.push(" AND r.service_code IN (");
        let mut list = q.separated(", ");
        for c in codes {
            list.push_bind(c.as_str().to_owned());
        }
        q.push(")");
    }
}

fn push_filter(q: &mut QueryBuilder<Db>, f: &RequestFilter) {
    push_filter_by(q, f, false);
}

// As `push_filter`; with `open_index`, on SQLite, a filter of open states only (none closed, no
// area) is written so that the index of the open requests can serve it: SQLite, which keeps no
// statistics, took the status index and read every open request of the period from the table
// to test the rest (a list of New York's open overdue requests of a year at 1M, 22,275 of
// 116,007 open: 0.10 s of statements, 0.03 s from the open index, which covers what the lists
// test). The open index's own condition (`status <> 'closed'`, redundant here) is written out,
// and a unary `+` keeps the status index out.
fn push_filter_by(q: &mut QueryBuilder<Db>, f: &RequestFilter, open_index: bool) {
    q.push(" WHERE 1 = 1");
    if !f.ids.is_empty() {
        q.push(" AND r.id IN (");
        let mut list = q.separated(", ");
        for id in &f.ids {
            list.push_bind(id.as_str().to_owned());
        }
        q.push(")");
    }
    push_service_codes(q, &f.service_codes);
    // An area's requests are found through its own index of creation times (below). SQLite,
    // which keeps no statistics, would rather take the city's status or creation-time index
    // and test each request of it for the area (4x the work for a neighborhood's closed
    // requests of a year); a unary `+` keeps it off those two.
    let city = if f.area.is_some() && !POSTGRES { " AND +r." } else { " AND r." };
    if !f.states.is_empty() {
        let through_open =
            open_index && !POSTGRES && f.area.is_none() && f.states.iter().all(|s| *s != "closed");
        q.push(if through_open { " AND +r." } else { city }).push("status IN (");
        let mut list = q.separated(", ");
        for s in &f.states {
            list.push_bind(*s);
        }
        q.push(")");
        if through_open {
            q.push(" AND r.status <> 'closed'");
        }
    }
    if let Some(d) = &f.department {
        q.push(" AND r.department_code = ").push_bind(d.as_str().to_owned());
    }
    if let Some(t) = f.created_from {
        q.push(city).push("created_at >= ").push_bind(t);
    }
    if let Some(t) = f.created_before {
        q.push(city).push("created_at < ").push_bind(t);
    }
    if let Some(t) = f.updated_after {
        q.push(" AND r.updated_at > ").push_bind(t);
    }
    if let Some(t) = f.updated_before {
        q.push(" AND r.updated_at < ").push_bind(t);
    }
    if let Some(a) = &f.area {
        // The area's requests of the period from its index by creation time: a few thousand
        // keys, where testing each request of the period for the area would read them all.
        q.push(" AND r.key IN (SELECT a.request_key FROM request_areas a WHERE a.layer_id = ")
            .push_bind(a.layer.as_str().to_owned())
            .push(" AND a.area_id = ")
            .push_bind(a.area.as_str().to_owned());
        if let Some(t) = f.created_from {
            q.push(" AND a.created_at >= ").push_bind(t);
        }
        if let Some(t) = f.created_before {
            q.push(" AND a.created_at < ").push_bind(t);
        }
        q.push(")");
    }
}

pub(crate) async fn requests(
    pool: &Pool,
    f: &RequestFilter,
    page: Page,
    people: bool,
) -> Result<Vec<ServiceRequest>> {
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    push_filter(&mut q, f);
    q.push(" ORDER BY r.created_at DESC, r.key DESC LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX))
        .push(")")
        .push(REQUESTS_END);
    let mut conn = pool.acquire().await?;
    Ok(fetch_requests(&mut conn, q, people).await?.into_iter().map(|(_, r)| r).collect())
}

// PostgreSQL's bulk reads (the pages of an export or of a metric over a whole cohort): each
// request's columns as they are (in the order of `RequestRow`), its parent's id by a join, and
// the page's areas by a second query over the same keys, joined here. Building a JSON document
// per request kept the server busy for most of a 10M export (docs/BENCHMARKS.md §7d);
// PostgreSQL sends plain columns in its binary format. SQLite keeps the JSON page: one value per
// page is what makes its reads fast.
const REQUEST_COLUMNS: &str = "SELECT r.key, r.id, r.service_code, r.status, r.status_reason, r.priority, \
     r.description, r.lat, r.long, r.address, r.address_id, r.zip, r.channel, r.department_code, r.assignee, \
     r.due_at, p.id AS parent_id, r.attributes, r.media_url, r.created_at, r.updated_at, r.closed_at, r.version \
     FROM service_requests r LEFT JOIN service_requests p ON p.key = r.parent_key";
// The areas of the same requests as a `REQUEST_COLUMNS` query, followed by a condition on the key.
const AREAS_OF_KEYS: &str = "SELECT request_key, layer_id, area_id FROM request_areas WHERE request_key ";

// Runs a `REQUEST_COLUMNS` query, and `areas` (key, layer, area) for the same keys, of at most
// `keys` requests; returns the requests in key order. Without parallel workers: a page is an
// index range of a few thousand rows, and on two cores starting two workers a page made a 10M
// export 20% slower.
async fn fetch_columns(
    pool: &Pool,
    mut q: QueryBuilder<Db>,
    mut areas: QueryBuilder<Db>,
    keys: usize,
) -> Result<Vec<(i64, ServiceRequest)>> {
    use futures_util::TryStreamExt;
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL max_parallel_workers_per_gather = 0").execute(&mut *tx).await?;
    // Decoded as they arrive, by position and without checking each value's type against the
    // column's (three columns the query names).
    let mut by_key: std::collections::HashMap<i64, Vec<(String, String)>> =
        std::collections::HashMap::with_capacity(keys);
    {
        let mut found = areas.build().fetch(&mut *tx);
        while let Some(row) = found.try_next().await? {
            use sqlx::Row;
            let key: i64 = row.try_get_unchecked(0)?;
            let area = (row.try_get_unchecked(1)?, row.try_get_unchecked(2)?);
            by_key.entry(key).or_default().push(area);
        }
    }
    // Each row made a request as it arrives: collecting the rows first, then the requests, moved
    // and reallocated every page twice (a fifth of an export's time).
    let mut requests = Vec::with_capacity(keys);
    {
        let mut rows = q.build_query_as::<RequestRow>().fetch(&mut *tx);
        while let Some(mut row) = rows.try_next().await? {
            row.areas = by_key.remove(&row.key).unwrap_or_default();
            requests.push((row.key, row.into_request()?));
        }
    }
    tx.commit().await?;
    // A range read through the key index comes in key order already.
    if !requests.is_sorted_by_key(|(key, _)| *key) {
        requests.sort_unstable_by_key(|(key, _)| *key);
    }
    Ok(requests)
}

pub(crate) async fn export_page(
    pool: &Pool,
    f: &RequestFilter,
    keys: std::ops::Range<i64>,
) -> Result<Vec<(i64, ServiceRequest)>> {
    if POSTGRES {
        let mut q = QueryBuilder::<Db>::new(REQUEST_COLUMNS);
        push_filter(&mut q, f);
        q.push(" AND r.key >= ").push_bind(keys.start).push(" AND r.key < ").push_bind(keys.end);
        let mut areas = QueryBuilder::<Db>::new(AREAS_OF_KEYS);
        areas.push(">= ").push_bind(keys.start).push(" AND request_key < ").push_bind(keys.end);
        let span = usize::try_from(keys.end.saturating_sub(keys.start)).unwrap_or_default();
        return fetch_columns(pool, q, areas, span).await;
    }
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    push_filter(&mut q, f);
    q.push(" AND r.key >= ")
        .push_bind(keys.start)
        .push(" AND r.key < ")
        .push_bind(keys.end)
        .push(")")
        .push(REQUESTS_END);
    let mut conn = pool.acquire().await?;
    let mut page = fetch_requests(&mut conn, q, false).await?;
    page.sort_unstable_by_key(|(key, _)| *key);
    Ok(page)
}

pub(crate) async fn cohort_keys(pool: &Pool, f: &RequestFilter) -> Result<Vec<i64>> {
    let mut q = QueryBuilder::<Db>::new("SELECT r.key FROM service_requests r");
    push_filter(&mut q, f);
    // No ORDER BY: SQLite would walk the table in key order to avoid the sort instead of
    // taking the creation-time index; sorting a cohort's keys here is cheap.
    let mut keys: Vec<i64> = q.build_query_scalar().fetch_all(pool).await?;
    keys.sort_unstable();
    Ok(keys)
}

pub(crate) async fn export_keys(pool: &Pool, keys: &[i64]) -> Result<Vec<(i64, ServiceRequest)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    if POSTGRES {
        let mut q = QueryBuilder::<Db>::new(REQUEST_COLUMNS);
        q.push(" WHERE r.key IN ");
        push_keys(&mut q, keys);
        let mut areas = QueryBuilder::<Db>::new(AREAS_OF_KEYS);
        push_keys(areas.push("IN "), keys);
        return fetch_columns(pool, q, areas, keys.len()).await;
    }
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    q.push(" WHERE r.key IN ");
    push_keys(&mut q, keys).push(")").push(REQUESTS_END);
    let mut conn = pool.acquire().await?;
    let mut page = fetch_requests(&mut conn, q, false).await?;
    page.sort_unstable_by_key(|(key, _)| *key);
    Ok(page)
}

// Appends `c` as an SQL condition on the columns of table `t`: the requests (`r`), or, for a
// condition `kept_with_areas`, the areas (`fa`), which keep the creation time and outcome too.
fn push_condition(q: &mut QueryBuilder<Db>, c: &Condition, t: &'static str) {
    let column = |q: &mut QueryBuilder<Db>, name: &'static str| {
        q.push(t).push(".").push(name);
    };
    match c {
        Condition::All(list) | Condition::Any(list) => {
            // An empty `All` holds, an empty `Any` does not.
            let (none, join) =
                if matches!(c, Condition::All(_)) { ("(1 = 1", " AND ") } else { ("(1 = 0", " OR ") };
            q.push(none);
            for c in list {
                q.push(join);
                push_condition(q, c, t);
            }
            q.push(")");
        }
        Condition::Not(c) => {
            q.push("NOT ");
            push_condition(q, c, t);
        }
        Condition::Channels(channels) => {
            column(q, "channel");
            q.push(" IN (''");
            for c in channels {
                q.push(", ").push_bind(c.clone());
            }
            q.push(")");
        }
        Condition::Service(code) => {
            column(q, "service_code");
            q.push(" = ").push_bind(code.clone());
        }
        Condition::Department(None) => {
            column(q, "department_code");
            q.push(" IS NULL");
        }
        Condition::Department(Some(d)) => {
            column(q, "department_code");
            q.push(" = ").push_bind(d.clone());
        }
        Condition::Status(state) => {
            column(q, "status");
            q.push(" = ").push_bind(state.clone());
        }
        Condition::Outcomes(codes) => {
            column(q, "outcome");
            q.push(" IN (-1");
            for c in codes {
                q.push(", ").push_bind(*c);
            }
            q.push(")");
        }
        Condition::CloseSeconds(cmp, seconds) => {
            column(q, "close_seconds");
            q.push(cmp.sql()).push_bind(*seconds);
        }
        Condition::Created(cmp, at) => {
            column(q, "created_at");
            q.push(cmp.sql()).push_bind(*at);
        }
        Condition::Due(cmp, at) => {
            column(q, "due_at");
            q.push(cmp.sql()).push_bind(*at);
        }
        Condition::InArea { layer, area } => {
            q.push("EXISTS (SELECT 1 FROM request_areas x WHERE x.request_key = ");
            column(q, "key");
            q.push(" AND x.layer_id = ")
                .push_bind(layer.clone())
                .push(" AND x.area_id = ")
                .push_bind(area.clone())
                .push(")");
        }
    }
}

pub(crate) async fn cohort_page(
    pool: &Pool,
    f: &RequestFilter,
    c: &Condition,
    page: Page,
) -> Result<(u64, Vec<ServiceRequest>)> {
    // `SELECT` the key, then this: the requests that hold. An area's requests of a period that
    // hold a condition on what the areas keep (its closed requests of a year) are found in the
    // area's index alone (a covering index on both stores: no request read to test it);
    // otherwise the requests of the cohort are tested.
    let in_area = f.area_alone().filter(|_| c.kept_with_areas());
    let found = |q: &mut QueryBuilder<Db>| match in_area {
        Some(a) => {
            q.push(" FROM request_areas fa WHERE fa.layer_id = ")
                .push_bind(a.layer.as_str().to_owned())
                .push(" AND fa.area_id = ")
                .push_bind(a.area.as_str().to_owned());
            if let Some(t) = f.created_from {
                q.push(" AND fa.created_at >= ").push_bind(t);
            }
            if let Some(t) = f.created_before {
                q.push(" AND fa.created_at < ").push_bind(t);
            }
            q.push(" AND ");
            push_condition(q, c, "fa");
        }
        None => {
            q.push(" FROM service_requests r");
            push_filter_by(q, f, true);
            q.push(" AND ");
            push_condition(q, c, "r");
        }
    };
    let mut q = if in_area.is_some() {
        // From the area's index: the page's keys kept by a sort of the page's size, and the
        // count a scan of the index on its own (half the time of counting with a window,
        // which sorts every key). Sorted by `key + 0`, not by the key's own index:
        // PostgreSQL walked the whole table in key order for the first 50 (1.8 s at 10M).
        let mut q = QueryBuilder::<Db>::new("SELECT fa.request_key, (SELECT count(*)");
        found(&mut q);
        q.push(")");
        found(&mut q);
        q.push(" ORDER BY fa.request_key + 0 LIMIT ");
        q
    } else {
        // The keys found first, then counted and sorted: ordered by key in the same
        // statement, SQLite would walk the whole table in key order instead of taking the
        // cohort's index.
        let mut q = QueryBuilder::<Db>::new("WITH found AS MATERIALIZED (SELECT r.key");
        found(&mut q);
        q.push(") SELECT key, count(*) OVER () FROM found ORDER BY key LIMIT ");
        q
    };
    q.push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let rows: Vec<(i64, i64)> = q.build_query_as().fetch_all(pool).await?;
    let total = match rows.first() {
        Some(&(_, total)) => total,
        // A page past the last: counted alone.
        None if page.offset > 0 => {
            let mut q = QueryBuilder::<Db>::new("SELECT count(*)");
            found(&mut q);
            q.build_query_scalar().fetch_one(pool).await?
        }
        None => 0,
    };
    let keys: Vec<i64> = rows.into_iter().map(|(key, _)| key).collect();
    let requests = export_keys(pool, &keys).await?.into_iter().map(|(_, r)| r).collect();
    Ok((u64::try_from(total).unwrap_or_default(), requests))
}

pub(crate) async fn duplicate_candidates(
    pool: &Pool,
    c: &crate::duplicates::CandidateQuery,
) -> Result<Vec<ServiceRequest>> {
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    q.push(" WHERE r.service_code IN (");
    let mut list = q.separated(", ");
    for code in &c.service_codes {
        list.push_bind(code.as_str().to_owned());
    }
    q.push(") AND r.created_at >= ")
        .push_bind(c.from)
        .push(" AND r.created_at < ")
        .push_bind(c.before)
        .push(" AND NOT (r.status = 'closed' AND r.status_reason = 'duplicate') AND (1 = 0");
    if let Some((south, north, west, east)) = c.bbox {
        q.push(" OR (r.lat BETWEEN ")
            .push_bind(south)
            .push(" AND ")
            .push_bind(north)
            .push(" AND r.long BETWEEN ")
            .push_bind(west)
            .push(" AND ")
            .push_bind(east)
            .push(")");
    }
    if let Some(address) = &c.address {
        // Exact match here; the scoring compares normalized addresses.
        q.push(" OR UPPER(r.address) = UPPER(").push_bind(address.clone()).push(")");
    }
    q.push(") ORDER BY r.created_at DESC LIMIT ")
        .push_bind(i64::from(c.limit))
        .push(")")
        .push(REQUESTS_END);
    let mut conn = pool.acquire().await?;
    Ok(fetch_requests(&mut conn, q, false).await?.into_iter().map(|(_, r)| r).collect())
}

pub(crate) async fn request_keys(pool: &Pool) -> Result<Option<std::ops::Range<i64>>> {
    let (low, high): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(key), MAX(key) FROM service_requests").fetch_one(pool).await?;
    Ok(low.zip(high).map(|(low, high)| low..high + 1))
}

pub(crate) async fn count_requests(pool: &Pool, f: &RequestFilter) -> Result<i64> {
    let mut q = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM service_requests r");
    push_filter(&mut q, f);
    Ok(q.build_query_scalar().fetch_one(pool).await?)
}

// (reassignments, of which between departments).
macro_rules! moves {
    ($from:literal, $to:literal) => {
        concat!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN COALESCE(", $from, ", '') <> COALESCE(", $to,
            ", '') THEN 1 ELSE 0 END), 0) FROM request_events WHERE kind = 'reassigned'"
        )
    };
}
const MOVES: &str = if POSTGRES {
    moves!("payload->>'from_department'", "payload->>'to_department'")
} else {
    moves!("json_extract(payload, '$.from_department')", "json_extract(payload, '$.to_department')")
};

pub(crate) async fn request_counts(pool: &Pool) -> Result<RequestCounts> {
    let by_state: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM service_requests GROUP BY status ORDER BY status")
            .fetch_all(pool)
            .await?;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_events").fetch_one(pool).await?;
    let (reassignments, misroutes): (i64, i64) = sqlx::query_as(MOVES).fetch_one(pool).await?;
    // The closings and reopens of requests that were ever reopened, in order: a reopen follows
    // its closing (a status change to closed, or a merge), whose time decides.
    let steps: Vec<(i64, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT request_key, kind, at FROM request_events WHERE kind IN ('status_changed', 'merged_into', 'reopened') \
         AND request_key IN (SELECT request_key FROM request_events WHERE kind = 'reopened') ORDER BY request_key, seq",
    )
    .fetch_all(pool)
    .await?;
    let mut reopened_within_30_days = 0;
    for pair in steps.windows(2) {
        let ((key, _, closed), (next_key, kind, at)) = (&pair[0], &pair[1]);
        if key == next_key && kind == "reopened" && *at - *closed <= chrono::Duration::days(30) {
            reopened_within_30_days += 1;
        }
    }
    Ok(RequestCounts {
        total: by_state.iter().map(|(_, n)| n).sum(),
        by_state,
        events,
        reassignments,
        misroutes,
        reopened_within_30_days,
    })
}

pub(crate) async fn events(pool: &Pool, id: &str) -> Result<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT e.seq, e.at, e.actor, e.payload FROM request_events e \
         JOIN service_requests r ON r.key = e.request_key WHERE r.id = $1 ORDER BY e.seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(EventRow::into_stored).collect()
}

pub(crate) async fn events_of(pool: &Pool, ids: &[ServiceRequestId]) -> Result<Vec<(String, StoredEvent)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT r.id AS request_id, e.seq, e.at, e.actor, e.payload FROM request_events e \
         JOIN service_requests r ON r.key = e.request_key WHERE r.id IN (",
    );
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(id.as_str().to_owned());
    }
    q.push(") ORDER BY e.seq");
    let rows: Vec<RequestEventRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(|r| Ok((r.request_id, r.event.into_stored()?))).collect()
}

pub(crate) async fn event_feed(pool: &Pool, f: &EventFeed) -> Result<Vec<(String, StoredEvent)>> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT r.id AS request_id, e.seq, e.at, e.actor, e.payload FROM request_events e \
         JOIN service_requests r ON r.key = e.request_key WHERE e.kind IN (",
    );
    let mut list = q.separated(", ");
    for k in &f.kinds {
        list.push_bind(*k);
    }
    q.push(")");
    if let Some(t) = f.from {
        q.push(" AND e.at >= ").push_bind(t);
    }
    if let Some(t) = f.before {
        q.push(" AND e.at < ").push_bind(t);
    }
    if let Some(seq) = f.after_seq {
        q.push(" AND e.seq > ").push_bind(seq);
    }
    q.push(" ORDER BY e.seq LIMIT ").push_bind(i64::from(f.limit));
    let rows: Vec<RequestEventRow> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(|r| Ok((r.request_id, r.event.into_stored()?))).collect()
}

pub(crate) async fn insert_requests(
    pool: &Pool,
    batch: &[(ServiceRequest, Vec<RequestEvent>)],
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    let keys = insert_many(&mut tx, batch).await?;
    if let Some(((r, _), _)) = batch.iter().zip(&keys).find(|(_, k)| k.is_none()) {
        return Err(StoreError::AlreadyExists { what: "service request", id: r.id.to_string() });
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn upsert_requests(
    pool: &Pool,
    batch: &[(ServiceRequest, Vec<RequestEvent>)],
    source: &str,
    fresh_keys: i64,
) -> Result<Upserted> {
    let mut tx = begin_write(pool).await?;
    let keys = insert_many(&mut tx, batch).await?;
    let mut done = Upserted::default();
    let counts = &mut done.counts;
    // Those already stored, read at once; an id repeated in the batch meets what its previous
    // row left (`current` is kept up to date by `update_row`).
    let taken: Vec<&str> = batch.iter().zip(&keys).filter(|(_, k)| k.is_none()).map(|((r, _), _)| r.id.as_str()).collect();
    let mut stored = load_many(&mut tx, &taken).await?;
    // The rows of those that changed are written one by one on SQLite, by the thousand on
    // PostgreSQL (each checks its version), their parts once for the batch: ids in order of
    // first change, with their events in order.
    let mut changed: Vec<(&str, Vec<RequestEvent>)> = Vec::new();
    let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (at, ((fresh, _), key)) in batch.iter().zip(&keys).enumerate() {
        if key.is_some() {
            counts.inserted += 1;
            continue;
        }
        let (key, current) = stored
            .get_mut(fresh.id.as_str())
            .ok_or_else(|| StoreError::NotFound { what: "service request", id: fresh.id.to_string() })?;
        if *key >= fresh_keys {
            done.repeated.push(at);
        }
        match current.refresh_from_source(fresh, source) {
            None => counts.unchanged += 1,
            Some(events) => {
                if !POSTGRES {
                    update_row(&mut tx, current).await?;
                }
                counts.updated += 1;
                match position.entry(fresh.id.as_str()) {
                    Entry::Occupied(slot) => changed[*slot.get()].1.extend(events),
                    Entry::Vacant(slot) => {
                        slot.insert(changed.len());
                        changed.push((fresh.id.as_str(), events));
                    }
                }
            }
        }
    }
    if POSTGRES {
        let mut rows: Vec<(i64, &mut ServiceRequest)> = stored
            .iter_mut()
            .filter(|(id, _)| position.contains_key(id.as_str()))
            .map(|(_, (key, r))| (*key, r))
            .collect();
        update_rows(&mut tx, &mut rows).await?;
    }
    let saved: Vec<(i64, &ServiceRequest, &[RequestEvent])> = changed
        .iter()
        .filter_map(|(id, events)| stored.get(*id).map(|(key, r)| (*key, r, events.as_slice())))
        .collect();
    replace_parts(&mut tx, &saved).await?;
    // Told of in the request's state at the end of the batch (an id changed twice in one batch
    // is told of both changes at once).
    for (key, r, events) in &saved {
        after_save(&mut tx, *key, r, events).await?;
    }
    tx.commit().await?;
    Ok(done)
}

pub(crate) async fn link_duplicates(pool: &Pool, pairs: &[(ServiceRequestId, ServiceRequestId)]) -> Result<u64> {
    let mut tx = begin_write(pool).await?;
    let mut linked = 0;
    for (child, parent) in pairs {
        linked += sqlx::query(
            "UPDATE service_requests SET parent_key = (SELECT p.key FROM service_requests p WHERE p.id = $2) \
             WHERE id = $1 AND parent_key IS NULL",
        )
        .bind(child.as_str())
        .bind(parent.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    tx.commit().await?;
    Ok(linked)
}

pub(crate) async fn save_request(
    pool: &Pool,
    r: &mut ServiceRequest,
    events: &[RequestEvent],
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
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
    let mut tx = begin_write(pool).await?;
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
    let mut tx = begin_write(pool).await?;
    let (child_key, mut child) = load_in(&mut tx, child_id).await?;
    let (parent_key, mut parent) = load_in(&mut tx, parent_id).await?;
    let (child_events, parent_event) = child.merge_into(&mut parent, actor, now)?;
    save_in(&mut tx, child_key, &mut child, &child_events).await?;
    save_in(&mut tx, parent_key, &mut parent, &[parent_event]).await?;
    tx.commit().await?;
    Ok((child, parent))
}
