//! `GET /api/v1/staff/metrics`: the summary of docs/METRICS.md (volume, time to close, backlog,
//! SLA attainment) of a cohort, as `civic311 metrics` prints it. Staff only: a cohort of years
//! reads every request in it, which a public endpoint would let anyone ask for over and over.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use civic311_analytics::Facet;
use civic311_store::Page;
use serde::Deserialize;
use serde_json::{Value, json};

use super::staff;
use crate::AppState;
use crate::cohort::CohortQuery;
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    /// Comma-separated service codes.
    service_code: Option<String>,
    department: Option<String>,
    /// `LAYER:AREA`.
    area: Option<String>,
    now: Option<String>,
    include_self_generated: Option<bool>,
}

impl MetricsQuery {
    fn cohort(self) -> CohortQuery {
        CohortQuery {
            from: self.from,
            to: self.to,
            service_code: self.service_code,
            department: self.department,
            area: self.area,
            now: self.now,
            include_self_generated: self.include_self_generated.unwrap_or(false),
        }
    }
}

pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<MetricsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<civic311_analytics::Summary>, ApiError> {
    staff(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let options = q.cohort().options(state.open311.timezone)?;
    Ok(Json(
        civic311_analytics::summarize(&state.store, &options).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehindQuery {
    from: Option<String>,
    to: Option<String>,
    service_code: Option<String>,
    department: Option<String>,
    area: Option<String>,
    now: Option<String>,
    include_self_generated: Option<bool>,
    /// Which number (docs/METRICS.md, "The requests behind a number"); all when absent.
    facet: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

/// Requests listed at most per page.
const MAX_LIMIT: u32 = 1_000;

/// `GET /api/v1/staff/metrics/requests`: the requests behind one number of the metrics, e.g.
/// `facet=sla:open_overdue` for the open overdue requests its SLA attainment counts.
pub async fn metrics_requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<BehindQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let facet = Facet::parse(q.facet.as_deref().unwrap_or("all")).map_err(ApiError::bad_request)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit {limit}: write 1 to {MAX_LIMIT}"
        )));
    }
    let page = Page {
        limit,
        offset: q.offset.unwrap_or(0),
    };
    let metrics = MetricsQuery {
        from: q.from,
        to: q.to,
        service_code: q.service_code,
        department: q.department,
        area: q.area,
        now: q.now,
        include_self_generated: q.include_self_generated,
    };
    let options = metrics.cohort().options(state.open311.timezone)?;
    let behind = civic311_analytics::requests_behind(&state.store, &options, &facet, page).await?;
    Ok(Json(json!({
        "facet": facet.to_string(),
        "total": behind.total,
        "requests": behind.requests,
    })))
}
