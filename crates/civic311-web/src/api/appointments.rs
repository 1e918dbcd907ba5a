//! Bookable services over HTTP: the free days a resident can pick (public), and staff moving or
//! cancelling a booking. Booking itself happens at intake, with the request.

use axum::Json;
use axum::extract::{Query, State};
use civic311_domain::{LatLong, ServiceCode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotsQuery {
    service_code: String,
    /// Where the resident is: the zone is found from it...
    lat: Option<f64>,
    long: Option<f64>,
    /// ...or given directly (an area id of the schedule's layer).
    zone: Option<String>,
}

/// `GET /api/v1/appointments/slots?service_code=bulky-item&lat=..&long=..`: the days open to
/// booking in the resident's zone, with places left. No personal data.
pub async fn slots(
    State(state): State<AppState>,
    query: Result<Query<SlotsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let code = ServiceCode::parse(q.service_code.as_str())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let schedule = state
        .store
        .appointment_schedule(&code)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{code} is not a bookable service")))?;
    let zone = match (&schedule.layer, q.zone, q.lat, q.long) {
        (None, _, _, _) => civic311_domain::appointments::CITY_WIDE.to_owned(),
        (Some(_), Some(zone), None, None) => zone,
        (Some(layer), None, Some(lat), Some(long)) => {
            let point =
                LatLong::new(lat, long).map_err(|e| ApiError::bad_request(e.to_string()))?;
            let catalog = state.catalog.get(&state.store).await?;
            catalog
                .areas
                .locate(point)
                .into_iter()
                .find(|a| a.layer == *layer)
                .map(|a| a.area.as_str().to_owned())
                .ok_or_else(|| ApiError::not_found("this location is outside every service zone"))?
        }
        _ => return Err(ApiError::bad_request("give lat and long, or zone")),
    };
    let now = chrono::Utc::now();
    let slots = state.store.appointment_slots(&schedule, &zone, now).await?;
    Ok(Json(json!({
        "service_code": code,
        "zone": zone,
        "slots": slots.iter().map(|s| json!({
            "day": s.day,
            "capacity": s.capacity,
            "booked": s.booked,
            "free": s.capacity.saturating_sub(s.booked),
        })).collect::<Vec<_>>(),
    })))
}
