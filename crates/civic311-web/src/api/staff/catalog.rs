//! The managed catalog, saved in versions (docs/CATALOG.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{body, staff};
use crate::AppState;
use crate::error::ApiError;

/// `GET /api/v1/staff/catalog`: departments and services with their SLA targets, and the
/// number of the newest saved version.
pub async fn catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    let doc = state.store.catalog().await?;
    let version = state
        .store
        .catalog_versions()
        .await?
        .first()
        .map_or(0, |v| v.version);
    Ok(Json(json!({
        "version": version,
        "departments": doc.departments,
        "services": doc.services,
    })))
}

/// `PUT /api/v1/staff/catalog`: saves departments and services (all or some) as the next
/// catalog version and answers what changed. Requests already filed keep their due dates.
pub async fn save_catalog(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = staff(&state, &headers).await?;
    let doc: civic311_domain::CatalogDocument = body(&bytes)?;
    let (version, changes) = state
        .store
        .save_catalog(&doc, &who, chrono::Utc::now())
        .await?;
    state.catalog.invalidate();
    Ok(Json(json!({ "version": version, "changes": changes })))
}

/// `GET /api/v1/staff/catalog/versions`: every saved version, newest first.
pub async fn catalog_versions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    Ok(Json(
        json!({ "versions": state.store.catalog_versions().await? }),
    ))
}
