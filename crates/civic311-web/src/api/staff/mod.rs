//! The staff API (`/api/v1/staff`): what an agent or a supervisor does to a request. Every call
//! needs a staff key (`civic311 apikey create NAME --staff`) as `Authorization: Bearer KEY`;
//! every change is an event with who (the key's name) and, where the domain asks for it, why.
//! Changes take the request's `version` when the caller has one, and are refused with 409 when
//! someone else changed the request since.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use civic311_domain::{
    Actor, DepartmentCode, DomainError, EventKind, RequestEvent, ServiceCode, ServiceRequest,
    ServiceRequestId, Status,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

mod appointments;
mod catalog;
mod follow_ups;
mod metrics;
mod reports;
mod work_orders;

pub use appointments::{cancel_appointment, reschedule};
pub use catalog::{catalog, catalog_versions, save_catalog};
pub use follow_ups::{attach, attachment, finish_follow_up, follow_ups, open_follow_up};
pub use metrics::{metrics, metrics_requests};
pub use reports::{monthly_report, process_report};
pub use work_orders::{order_work, work_orders};

/// The staff member a request comes from, by their key.
async fn staff(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::unauthorized("send a staff key as Authorization: Bearer KEY"))?;
    match state.store.api_key(key).await? {
        Some((name, civic311_store::KeyRole::Staff)) => Ok(name),
        Some(_) => Err(ApiError::forbidden("this key is not a staff key")),
        None => Err(ApiError::unauthorized("this key is not valid")),
    }
}

/// The body as `T`.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("body: {e}")))
}

fn request_id(id: String) -> Result<ServiceRequestId, ApiError> {
    ServiceRequestId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// What every change starts with: who asks (a staff key), which request, and the body as `B`
/// (read only once the caller is known, so strangers learn nothing from errors).
async fn begin<B: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    id: String,
    bytes: &Bytes,
) -> Result<(Actor, ServiceRequestId, B), ApiError> {
    let who = staff(state, headers).await?;
    Ok((Actor::Staff(who), request_id(id)?, body(bytes)?))
}

/// The request as it stands, or 404.
async fn current(state: &AppState, id: &ServiceRequestId) -> Result<ServiceRequest, ApiError> {
    state
        .store
        .request(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("service request {id} not found")))
}

/// Applies `change` to the request as `who`, at `version` if given.
async fn change<F>(
    state: &AppState,
    id: &ServiceRequestId,
    version: Option<i64>,
    change: F,
) -> Result<Json<Value>, ApiError>
where
    F: FnOnce(&mut ServiceRequest) -> Result<Vec<RequestEvent>, DomainError>,
{
    let request = state.store.update_request(id, version, change).await?;
    Ok(Json(json!({ "request": request })))
}

/// `GET /api/v1/staff/requests/{id}`: the whole request, requester included, with its whole
/// history (internal notes too) and how many residents reported it (itself and merged duplicates).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    let id = request_id(id)?;
    let request = current(&state, &id).await?;
    let history = state.store.events(&id).await?;
    let merged = history
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::DuplicateMerged { .. }))
        .count();
    let work_orders = state.store.work_orders_of(&id).await?;
    let appointment = state.store.appointment(&id).await?;
    let follow_ups = state.store.follow_ups_of(&id).await?;
    Ok(Json(json!({
        "request": request,
        "reports": 1 + merged,
        "work_orders": work_orders,
        "appointment": appointment,
        "follow_ups": follow_ups,
        "history": history.iter().map(|e| json!({
            "seq": e.seq,
            "at": e.event.at,
            "actor": e.event.actor.to_string(),
            "event": e.event.kind,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `{"state": "closed", "reason": "resolved"}`, `{"state": "on_hold", "reason":
    /// "waiting_on_resident"}`, `{"state": "in_progress"}`...
    status: Status,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/status`. Waiting on the resident or for an appointment
/// stops the SLA clock; leaving that status moves the due date on by the time stopped.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, c): (_, _, StatusChange) = begin(&state, &headers, id, &bytes).await?;
    let now = chrono::Utc::now();
    // When the SLA clock stopped, if it stands still now: the history says.
    let current = current(&state, &id).await?;
    let paused_since = state
        .store
        .events(&id)
        .await?
        .iter()
        .rev()
        .find_map(|e| match e.event.kind {
            EventKind::SlaPaused { .. } => Some(Some(e.event.at)),
            EventKind::SlaResumed => Some(None),
            _ => None,
        })
        .flatten();
    // The history read above belongs to this version: a change in between is a conflict.
    let version = c.version.or(Some(current.version));
    change(&state, &id, version, |r| {
        r.change_status_on_the_clock(c.status, paused_since, who, now)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    department: Option<DepartmentCode>,
    assignee: Option<String>,
    reason: String,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/assign`: to another department or person, with why. A move
/// between departments is a misroute in the reports.
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, a): (_, _, Assignment) = begin(&state, &headers, id, &bytes).await?;
    if let Some(d) = &a.department
        && !state
            .store
            .departments()
            .await?
            .iter()
            .any(|k| &k.code == d)
    {
        return Err(ApiError::bad_request(format!("unknown department {d}")));
    }
    let now = chrono::Utc::now();
    change(&state, &id, a.version, |r| {
        Ok(vec![r.assign(
            a.department,
            a.assignee,
            &a.reason,
            who,
            now,
        )?])
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    text: String,
    /// Shown to residents (Open311, the public pages); internal otherwise.
    #[serde(default)]
    public: bool,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/notes`.
pub async fn note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, n): (_, _, Note) = begin(&state, &headers, id, &bytes).await?;
    let now = chrono::Utc::now();
    change(&state, &id, n.version, |r| {
        Ok(vec![r.add_note(&n.text, n.public, who, now)?])
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reopen {
    reason: String,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/reopen`: counted against closure quality.
pub async fn reopen(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, r): (_, _, Reopen) = begin(&state, &headers, id, &bytes).await?;
    let now = chrono::Utc::now();
    change(&state, &id, r.version, |req| {
        Ok(vec![req.reopen(&r.reason, who, now)?])
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    parent: String,
}

/// `POST /api/v1/staff/requests/{id}/merge`: this request is a duplicate of `parent`. It is
/// closed as a duplicate and keeps its own history; the parent counts one more report.
pub async fn merge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, m): (_, _, Merge) = begin(&state, &headers, id, &bytes).await?;
    let parent = request_id(m.parent)?;
    let (child, parent) = state
        .store
        .merge_requests(&id, &parent, who, chrono::Utc::now())
        .await?;
    Ok(Json(json!({ "request": child, "parent": parent })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reclassify {
    service_code: String,
    reason: String,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/reclassify`: file the request under the right service; its
/// due date is recomputed from receipt under the new target, and the change logged.
pub async fn reclassify(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, c): (_, _, Reclassify) = begin(&state, &headers, id, &bytes).await?;
    let unknown = || ApiError::bad_request(format!("unknown service {:?}", c.service_code));
    let code = ServiceCode::parse(c.service_code.as_str()).map_err(|_| unknown())?;
    let service = state.store.service(&code).await?.ok_or_else(unknown)?;
    let current = current(&state, &id).await?;
    let calendar = state.store.calendar(current.department.as_ref()).await?;
    let version = c.version.or(Some(current.version));
    let now = chrono::Utc::now();
    change(&state, &id, version, |r| {
        r.reclassify(&service, calendar.as_ref(), &c.reason, who, now)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    service_code: String,
    /// How the resident reached the agent: phone, walk_in, email...
    channel: civic311_domain::Channel,
    #[serde(default = "normal")]
    priority: civic311_domain::Priority,
    description: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    address: Option<String>,
    requester: Option<civic311_domain::Requester>,
    #[serde(default)]
    attributes: Vec<civic311_domain::AttributeAnswer>,
    /// For a bookable service: the day the caller picked (YYYY-MM-DD).
    appointment_date: Option<String>,
}

fn normal() -> civic311_domain::Priority {
    civic311_domain::Priority::Normal
}

/// `POST /api/v1/staff/requests`: an agent files a request for a caller, for any service (no
/// wrong door): it is placed in its areas, routed, given its due date, and the answer lists the
/// earlier requests it most likely duplicates so the agent can merge it at once.
pub async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = staff(&state, &headers).await?;
    let i: Intake = body(&bytes)?;
    let unknown = || ApiError::bad_request(format!("unknown service {:?}", i.service_code));
    let service_code = ServiceCode::parse(i.service_code.as_str()).map_err(|_| unknown())?;
    let catalog = state.catalog.get(&state.store).await?;
    if !catalog.services.iter().any(|s| s.code == service_code) {
        return Err(unknown());
    }
    let point = match (i.lat, i.long) {
        (Some(lat), Some(long)) => Some(
            civic311_domain::LatLong::new(lat, long)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
        (None, None) => None,
        _ => return Err(ApiError::bad_request("give both lat and long, or neither")),
    };
    if point.is_none() && i.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "give a location: lat and long, or an address",
        ));
    }
    let location = civic311_domain::Location {
        point,
        address: i.address,
        address_id: None,
        zip: None,
        areas: point.map(|p| catalog.areas.locate(p)).unwrap_or_default(),
    };
    let mut attributes = i.attributes;
    if let Some(day) = i.appointment_date {
        let code = civic311_domain::appointments::APPOINTMENT_ATTRIBUTE;
        attributes.retain(|a| a.code != code);
        attributes.push(civic311_domain::AttributeAnswer {
            code: code.to_owned(),
            values: vec![day],
        });
    }
    let new = civic311_domain::NewServiceRequest {
        service_code,
        description: i.description,
        location,
        channel: i.channel,
        priority: i.priority,
        requester: i.requester,
        attributes,
        media_url: None,
    };
    let request = state
        .store
        .create_request(new, Actor::Staff(who), chrono::Utc::now())
        .await?;
    let duplicates = state
        .store
        .suggest_duplicates(
            &request,
            &catalog.services,
            &civic311_domain::DuplicateRules::default(),
        )
        .await?;
    let duplicates: Vec<_> = duplicates.into_iter().map(|(s, _)| s).collect();
    Ok(Json(
        json!({ "request": request, "duplicates": duplicates }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reprioritize {
    priority: civic311_domain::Priority,
    version: Option<i64>,
}

/// `POST /api/v1/staff/requests/{id}/priority`: triage. When the service's SLA target differs
/// by priority, the due date is recomputed from receipt and the change logged.
pub async fn reprioritize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, p): (_, _, Reprioritize) = begin(&state, &headers, id, &bytes).await?;
    let current = current(&state, &id).await?;
    let service = state
        .store
        .service(&current.service_code)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("service {} not found", current.service_code))
        })?;
    let calendar = state.store.calendar(current.department.as_ref()).await?;
    let version = p.version.or(Some(current.version));
    let now = chrono::Utc::now();
    change(&state, &id, version, |r| {
        r.reprioritize(p.priority, &service, calendar.as_ref(), who, now)
    })
    .await
}
