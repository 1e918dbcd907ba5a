//! The call-back queue and attachments (docs/FOLLOW_UPS.md).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use civic311_domain::Actor;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{begin, body, request_id, staff};
use crate::AppState;
use crate::error::ApiError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpNote {
    note: String,
}

/// `POST /api/v1/staff/requests/{id}/follow-ups`: puts the request in the call-back queue, with
/// why. (Reopened, unable-to-locate, long overdue and unhappy cases are queued by themselves.)
pub async fn open_follow_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let (who, id, f): (_, _, FollowUpNote) = begin(&state, &headers, id, &bytes).await?;
    let (task, request) = state
        .store
        .open_follow_up(&id, &f.note, who, chrono::Utc::now())
        .await?;
    Ok(Json(json!({ "follow_up": task, "request": request })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `open` (default) or `done`.
    state: Option<String>,
}

/// `GET /api/v1/staff/follow-ups[?state=done]`: the call-back queue, oldest first.
pub async fn follow_ups(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<axum::extract::Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    staff(&state, &headers).await?;
    let axum::extract::Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let open = match q.state.as_deref() {
        None | Some("open") => true,
        Some("done") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state {other:?}: use open or done"
            )));
        }
    };
    Ok(Json(
        json!({ "follow_ups": state.store.follow_ups(open, 500).await? }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpOutcome {
    outcome: String,
}

/// `POST /api/v1/staff/follow-ups/{task}/done`: what the officer did; an event on the request.
pub async fn finish_follow_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(task): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = staff(&state, &headers).await?;
    let task: i64 = task
        .parse()
        .map_err(|_| ApiError::bad_request(format!("{task:?} is not a follow-up number")))?;
    let o: FollowUpOutcome = body(&bytes)?;
    let (task, request) = state
        .store
        .finish_follow_up(task, &o.outcome, Actor::Staff(who), chrono::Utc::now())
        .await?;
    Ok(Json(json!({ "follow_up": task, "request": request })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    /// The file's name as staff know it ("crew-photo.jpg").
    name: String,
    /// Shown to residents; internal by default.
    #[serde(default)]
    public: bool,
}

/// `POST /api/v1/staff/requests/{id}/attachments?name=..&public=..` with the file as the body:
/// a photo (JPEG, PNG, GIF, WebP) or a PDF, at most 5 MiB, recognised by its content.
pub async fn attach(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<axum::extract::Query<AttachQuery>, axum::extract::rejection::QueryRejection>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let who = staff(&state, &headers).await?;
    let id = request_id(id)?;
    let axum::extract::Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    if bytes.len() > civic311_store::MAX_MEDIA_BYTES {
        return Err(ApiError::bad_request("the file is larger than 5 MiB"));
    }
    let content_type = crate::media::file_type(&bytes).ok_or_else(|| {
        ApiError::bad_request("the file is not a JPEG, PNG, GIF or WebP photo, nor a PDF")
    })?;
    let file = civic311_store::Attachment {
        name: &q.name,
        content_type,
        bytes: &bytes,
        public: q.public,
    };
    let (media_id, request) = state
        .store
        .attach(&id, &file, Actor::Staff(who), chrono::Utc::now())
        .await?;
    Ok(Json(json!({
        "media_id": media_id,
        "content_type": content_type,
        "url": format!("/api/v1/staff/attachments/{media_id}"),
        "public_url": q.public.then(|| format!("/media/{media_id}")),
        "request": request,
    })))
}

/// `GET /api/v1/staff/attachments/{media_id}`: any attachment, internal ones too.
pub async fn attachment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(media_id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    staff(&state, &headers).await?;
    let (content_type, bytes) = state
        .store
        .staff_media(&media_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no attachment {media_id:?}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
