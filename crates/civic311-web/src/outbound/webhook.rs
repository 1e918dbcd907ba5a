//! `POST /api/v1/field/{system}/updates`: a field system reports what happened to a work order.
//! The body must be signed with the system's secret (see `signing`); each update carries a
//! `delivery_id` of its own, and a replay is acknowledged without changing anything.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use civic311_domain::WorkOrderState;
use civic311_store::{FieldReport, ReportOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use super::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER, verify};
use crate::AppState;
use crate::error::ApiError;

#[derive(Deserialize)]
struct Update {
    delivery_id: String,
    /// Our work order id, or the field system's own id for it.
    work_order: String,
    state: WorkOrderState,
    note: Option<String>,
}

pub async fn receive(
    State(state): State<AppState>,
    Path(system): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let field = state
        .field_systems
        .get(&system)
        .ok_or_else(|| ApiError::not_found(format!("no field system named {system:?}")))?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    verify(
        &field.secret,
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
        &bytes,
        now.timestamp(),
    )
    .map_err(ApiError::unauthorized)?;
    let update: Update =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
    if update.delivery_id.trim().is_empty() {
        return Err(ApiError::bad_request("delivery_id must not be empty"));
    }
    let report = FieldReport {
        system,
        delivery_id: update.delivery_id,
        work_order: update.work_order,
        state: update.state,
        note: update.note.filter(|n| !n.trim().is_empty()),
        closes_request: field.closes_requests,
    };
    Ok(Json(
        match state.store.apply_field_report(&report, now).await? {
            ReportOutcome::Applied(order) => json!({ "result": "applied", "work_order": order }),
            ReportOutcome::Replay => json!({ "result": "already_received" }),
        },
    ))
}
