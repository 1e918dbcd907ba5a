//! Work orders in field systems, as staff ask for them (docs/WORK_ORDERS.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{begin, current, request_id, staff};
use crate::AppState;
use crate::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderAsk {
    /// A configured field system's name.
    system: String,
    /// What the crew should know beyond the request itself.
    instructions: Option<String>,
}

/// `POST /api/v1/staff/requests/{id}/work-orders`: asks a field system for work on the request.
/// The order is queued in the outbox with the request's event and handed over by the delivery
/// job (at least once, retried with backoff); its state shows in `GET` on the same path.
pub async fn order_work(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, ask): (_, _, WorkOrderAsk) = begin(&state, &headers, id, &bytes).await?;
    if state.field_systems.get(&ask.system).is_none() {
        let known: Vec<_> = state.field_systems.names().collect();
        return Err(ApiError::bad_request(format!(
            "no field system named {:?} is configured (configured: {known:?})",
            ask.system
        )));
    }
    let (order, request) = state
        .store
        .create_work_order(&id, &ask.system, ask.instructions, who, chrono::Utc::now())
        .await?;
    Ok(Json(json!({ "work_order": order, "request": request })))
}

/// `GET /api/v1/staff/requests/{id}/work-orders`: the request's work orders and their states.
pub async fn work_orders(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    let id = request_id(id)?;
    current(&state, &id).await?;
    Ok(Json(
        json!({ "work_orders": state.store.work_orders_of(&id).await? }),
    ))
}
