//! `GET /api/v1/staff/metrics`: the summary of docs/METRICS.md (volume, time to close, backlog,
//! SLA attainment) of a cohort, as `civic311 metrics` prints it. Staff only: a cohort of years
//! reads every request in it, which a public endpoint would let anyone ask for over and over.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use civic311_domain::{AreaRef, ServiceCode};
use civic311_store::RequestFilter;
use serde::Deserialize;

use super::staff;
use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    /// Comma-separated service codes.
    service_code: Option<String>,
    /// `LAYER:AREA`.
    area: Option<String>,
    now: Option<String>,
    include_self_generated: Option<bool>,
}

pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<MetricsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<civic311_analytics::Summary>, ApiError> {
    staff(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let tz = state.open311.timezone;
    let time = |name: &str, v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .map(|v| {
                civic311_domain::time::parse_w3c(&v, tz).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "{name} {v:?}: write a date (2019-10-01) or a W3C time"
                    ))
                })
            })
            .transpose()
    };
    let bad = |e: civic311_domain::DomainError| ApiError::bad_request(e.to_string());
    let service_codes = q
        .service_code
        .iter()
        .flat_map(|s| s.split(','))
        .filter(|c| !c.trim().is_empty())
        .map(|c| ServiceCode::parse(c.trim()).map_err(bad))
        .collect::<Result<Vec<_>, _>>()?;
    let area = q
        .area
        .filter(|a| !a.is_empty())
        .map(|a| AreaRef::parse(&a).map_err(bad))
        .transpose()?;
    let options = civic311_analytics::Options {
        filter: RequestFilter {
            service_codes,
            created_from: time("from", q.from)?,
            created_before: time("to", q.to)?,
            area,
            ..Default::default()
        },
        now: time("now", q.now)?.unwrap_or_else(chrono::Utc::now),
        timezone: tz,
        include_self_generated: q.include_self_generated.unwrap_or(false),
    };
    Ok(Json(
        civic311_analytics::summarize(&state.store, &options).await?,
    ))
}
