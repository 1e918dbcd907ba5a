//! `GET /api/v1/staff/reports/monthly?month=2019-10&format=html|pdf|json`: the council's monthly
//! report (docs/METRICS.md), as `civic311 report monthly` writes it; and
//! `GET /api/v1/staff/reports/process?from=..&to=..&format=..`: the process diagnostics of a
//! cohort, as `civic311 report process` writes them. Staff only, like the metrics they are made of.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use civic311_analytics::{Month, MonthlyOptions};
use civic311_report::Format;
use serde::Deserialize;

use super::staff;
use crate::AppState;
use crate::cohort::CohortQuery;
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
    let format = format_of(q.format.as_deref())?;
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
    Ok(respond(format, body, &format!("report-{month}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessQuery {
    from: Option<String>,
    to: Option<String>,
    /// Comma-separated service codes.
    service_code: Option<String>,
    department: Option<String>,
    /// `LAYER:AREA`.
    area: Option<String>,
    /// `json` (default), `html` or `pdf`.
    format: Option<String>,
}

pub async fn process_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ProcessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    staff(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let format = format_of(q.format.as_deref())?;
    let cohort = CohortQuery {
        from: q.from,
        to: q.to,
        service_code: q.service_code,
        department: q.department,
        area: q.area,
        now: None,
        include_self_generated: false,
    };
    let filter = cohort.options(state.open311.timezone)?.filter;
    let report = civic311_analytics::process::process(&state.store, &filter).await?;
    let body = civic311_report::render_process(&report, &state.report_title, format)
        .map_err(ApiError::internal)?;
    Ok(respond(format, body, "process"))
}

fn format_of(asked: Option<&str>) -> Result<Format, ApiError> {
    let asked = asked.unwrap_or("json");
    Format::named(asked)
        .ok_or_else(|| ApiError::bad_request(format!("format {asked:?}: write json, html or pdf")))
}

/// The rendered body with its content type; a PDF is named `{name}.pdf`.
fn respond(format: Format, body: Vec<u8>, name: &str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if format == Format::Pdf {
        let disposition = format!("inline; filename=\"{name}.pdf\"");
        if let Ok(value) = disposition.parse() {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    response
}
