//! Moving and cancelling bookings of bookable services (docs/APPOINTMENTS.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::begin;
use crate::AppState;
use crate::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    /// The new day, YYYY-MM-DD.
    day: chrono::NaiveDate,
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/staff/requests/{id}/appointment`: moves the request's booking to another day
/// (or books one). The new place is taken before the old one is given back, so a full day
/// refuses the move (422) and leaves the booking as it was.
pub async fn reschedule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, r): (_, _, Reschedule) = begin(&state, &headers, id, &bytes).await?;
    let (appointment, request) = state
        .store
        .reschedule_appointment(&id, r.day, &r.reason, who, chrono::Utc::now())
        .await?;
    Ok(Json(
        json!({ "appointment": appointment, "request": request }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelAppointment {
    reason: String,
}

/// `POST /api/v1/staff/requests/{id}/appointment/cancel`: the place goes back to the day.
pub async fn cancel_appointment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, c): (_, _, CancelAppointment) = begin(&state, &headers, id, &bytes).await?;
    let (appointment, request) = state
        .store
        .cancel_appointment(&id, &c.reason, who, chrono::Utc::now())
        .await?;
    Ok(Json(
        json!({ "appointment": appointment, "request": request }),
    ))
}
