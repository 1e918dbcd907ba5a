//! `GET /api/v1/staff/reports/monthly?month=2019-10&format=html|pdf|json`: the council's monthly
//! report (docs/METRICS.md), as `civic311 report monthly` writes it. Staff only, like the metrics
//! it is made of.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use civic311_analytics::{Month, MonthlyOptions};
use civic311_report::Format;
use serde::Deserialize;

use super::staff;
use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `YYYY-MM`; the last complete month when absent.
    month: Option<String>,
    /// `json` (default), `html` or `pdf`.
    format: Option<String>,
    now: Option<String>,
    include_self_generated: Option<bool>,
}

pub async fn monthly_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    staff(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let tz = state.open311.timezone;
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => Format::Json,
        "html" => Format::Html,
        "pdf" => Format::Pdf,
        other => {
            return Err(ApiError::bad_request(format!(
                "format {other:?}: write json, html or pdf"
            )));
        }
    };
    let now = match q.now.filter(|v| !v.is_empty()) {
        Some(v) => civic311_domain::time::parse_w3c(&v, tz).ok_or_else(|| {
            ApiError::bad_request(format!(
                "now {v:?}: write a date (2019-10-01) or a W3C time"
            ))
        })?,
        None => chrono::Utc::now(),
    };
    let month = match q.month.filter(|m| !m.is_empty()) {
        Some(m) => m
            .parse::<Month>()
            .map_err(|e| ApiError::bad_request(format!("month: {e}")))?,
        None => Month::last_complete(now, tz),
    };
    let options = MonthlyOptions {
        month,
        now,
        timezone: tz,
        include_self_generated: q.include_self_generated.unwrap_or(false),
        score_card: (*state.score_card).clone(),
    };
    let report = civic311_analytics::monthly_report(&state.store, &options).await?;
    let body = civic311_report::render(&report, &state.report_title, format)
        .map_err(ApiError::internal)?;
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if format == Format::Pdf {
        let disposition = format!("inline; filename=\"report-{month}.pdf\"");
        if let Ok(value) = disposition.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}
