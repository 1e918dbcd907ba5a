//! `GET /api/v1/requests`, `GET /api/v1/requests/{id}` and its duplicate suggestions.

use axum::Json;
use axum::extract::{Path, Query, State};
use civic311_domain::{DuplicateRules, ServiceCode, ServiceRequest, ServiceRequestId};
use civic311_store::{Page, RequestFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::public::{PublicRequest, public_history};

const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_PAGE_SIZE: u32 = 500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    service_code: Option<String>,
    page: Option<u64>,
    page_size: Option<u32>,
}

fn state_name(s: &str) -> Result<&'static str, ApiError> {
    ["open", "in_progress", "on_hold", "closed"]
        .into_iter()
        .find(|k| *k == s)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "unknown status {s:?}; use open, in_progress, on_hold or closed"
            ))
        })
}

pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut filter = RequestFilter::default();
    for s in q.status.iter().flat_map(|s| s.split(',')) {
        filter.states.push(state_name(s.trim())?);
    }
    for c in q.service_code.iter().flat_map(|s| s.split(',')) {
        filter
            .service_codes
            .push(ServiceCode::parse(c.trim()).map_err(|e| ApiError::bad_request(e.to_string()))?);
    }
    let page_size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(ApiError::bad_request(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let page = q.page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::bad_request("page starts at 1"));
    }
    let total = state.store.count_requests(&filter).await?;
    let rows = state
        .store
        .public_requests(
            &filter,
            Page {
                limit: page_size,
                offset: (page - 1).saturating_mul(u64::from(page_size)),
            },
        )
        .await?;
    let requests: Vec<PublicRequest> = rows.into_iter().map(PublicRequest::from).collect();
    Ok(Json(
        json!({ "total": total, "page": page, "page_size": page_size, "requests": requests }),
    ))
}

/// The request `id` names, without personal data; 400 for a malformed id, 404 for an unknown one.
async fn public_request(
    state: &AppState,
    id: String,
) -> Result<(ServiceRequestId, ServiceRequest), ApiError> {
    let id = ServiceRequestId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let request = state
        .store
        .public_request(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("service request {id} not found")))?;
    Ok((id, request))
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (id, request) = public_request(&state, id).await?;
    let history = public_history(state.store.events(&id).await?);
    Ok(Json(
        json!({ "request": PublicRequest::from(request), "history": history }),
    ))
}

/// `GET /api/v1/requests/{id}/duplicates`: the earlier requests this one most likely
/// duplicates, best first, each with its score and why (see `civic311_domain::duplicates`).
pub async fn duplicates(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (id, request) = public_request(&state, id).await?;
    let catalog = state.catalog.get(&state.store).await?;
    let rules = DuplicateRules::default();
    let suggestions = state
        .store
        .suggest_duplicates(&request, &catalog.services, &rules)
        .await?;
    let suggestions: Vec<Value> = suggestions
        .into_iter()
        .map(|(s, r)| json!({ "suggestion": s, "request": PublicRequest::from(r) }))
        .collect();
    Ok(Json(json!({
        "request_id": id,
        "rules": {
            "radius_m": rules.radius_m,
            "window_days": rules.window_days,
            "grace_days": rules.grace_days,
            "min_score": rules.min_score,
        },
        "suggestions": suggestions,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarQuery {
    service_code: String,
    lat: Option<f64>,
    long: Option<f64>,
    address: Option<String>,
    description: Option<String>,
}

/// `GET /api/v1/requests/similar?service_code=..&lat=..&long=..&description=..`: before filing,
/// the open or recent requests a resident's report most likely duplicates, so an app can offer
/// "is it one of these?" (a "me too" instead of a new request). No personal data.
pub async fn similar(
    State(state): State<AppState>,
    query: Result<Query<SimilarQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let code = ServiceCode::parse(q.service_code.as_str())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let catalog = state.catalog.get(&state.store).await?;
    let service = catalog
        .services
        .iter()
        .find(|s| s.code == code)
        .ok_or_else(|| ApiError::not_found(format!("unknown service {code}")))?;
    let point = match (q.lat, q.long) {
        (Some(lat), Some(long)) => Some(
            civic311_domain::LatLong::new(lat, long)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
        (None, None) => None,
        _ => return Err(ApiError::bad_request("give both lat and long, or neither")),
    };
    if point.is_none() && q.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return Err(ApiError::bad_request(
            "give a location: lat and long, or an address",
        ));
    }
    // A provisional request, scored like a filed one; its questions are not asked here.
    let unasked = civic311_domain::Service {
        attributes: Vec::new(),
        ..service.clone()
    };
    let new = civic311_domain::NewServiceRequest {
        service_code: code,
        description: q.description,
        location: civic311_domain::Location {
            point,
            address: q.address,
            ..Default::default()
        },
        channel: civic311_domain::Channel::Web,
        priority: civic311_domain::Priority::Normal,
        requester: None,
        attributes: Vec::new(),
        media_url: None,
    };
    let placeholder =
        ServiceRequestId::parse("new").map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (draft, _) = ServiceRequest::open(
        placeholder,
        new,
        &unasked,
        civic311_domain::Actor::Resident,
        chrono::Utc::now(),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let suggestions = state
        .store
        .suggest_duplicates(&draft, &catalog.services, &DuplicateRules::default())
        .await?;
    let suggestions: Vec<Value> = suggestions
        .into_iter()
        .map(|(s, r)| json!({ "suggestion": s, "request": PublicRequest::from(r) }))
        .collect();
    Ok(Json(json!({ "suggestions": suggestions })))
}
