//! The JSON API (`/api/v1`), for the web UI and for other tools.

pub mod appointments;
pub mod requests;
pub mod staff;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

/// Liveness and what the server runs on.
pub async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let schema = state.store.schema_status().await?;
    Ok(Json(json!({
        "status": "ok",
        "database": state.store.backend_name(),
        "schema_version": schema.database,
    })))
}

pub async fn services(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let services = state.store.services().await?;
    Ok(Json(json!({ "services": services })))
}

pub async fn stats(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let counts = state.store.request_counts().await?;
    let by_state: serde_json::Map<String, Value> = counts
        .by_state
        .into_iter()
        .map(|(s, n)| (s, json!(n)))
        .collect();
    let contacts = state.store.contact_counts().await?;
    let sla = state.store.sla_attainment(chrono::Utc::now()).await?;
    Ok(Json(json!({
        "requests": counts.total,
        "by_status": by_state,
        "events": counts.events,
        "reassignments": counts.reassignments,
        "misroutes": counts.misroutes,
        "reopened_within_30_days": counts.reopened_within_30_days,
        "informational_contacts": contacts.iter().map(|(_, n)| n).sum::<i64>(),
        // Open requests past due count as breaches; the rate is null until one can be judged.
        "sla": { "counts": sla, "attainment": sla.rate() },
    })))
}

/// The OpenAPI 3.1 document of the whole HTTP API, kept true by schemathesis in the tests.
pub const OPENAPI: &str = include_str!("../../openapi/openapi.json");

pub async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such page: {}", uri.path()))
}
