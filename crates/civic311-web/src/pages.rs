//! Server-rendered pages. The foundation has one: an overview that shows the store's requests.

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use civic311_domain::LayerId;
use civic311_store::{Page, RequestFilter};

use crate::AppState;
use crate::error::ApiError;
use crate::public::PublicRequest;

#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    total: i64,
    events: i64,
    by_state: Vec<(String, i64)>,
    services: Vec<(String, String, i64)>,
    areas: Vec<(String, Option<String>, i64)>,
    recent: Vec<PublicRequest>,
}

/// The layer the overview breaks requests down by, when it has areas.
const OVERVIEW_LAYER: &str = "kc-neighborhoods";

pub async fn index(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let store = &state.store;
    let counts = store.request_counts().await?;
    let layer = LayerId::parse(OVERVIEW_LAYER).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut areas = store.area_counts(&layer).await?;
    areas.truncate(10);
    let recent = store
        .requests(
            &RequestFilter::default(),
            Page {
                limit: 20,
                offset: 0,
            },
        )
        .await?;
    let page = Index {
        total: counts.total,
        events: counts.events,
        by_state: counts.by_state,
        services: store.service_counts(10).await?,
        areas,
        recent: recent.into_iter().map(PublicRequest::from).collect(),
    };
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template");
        ApiError::bad_request("page could not be rendered")
    })?;
    Ok(Html(html))
}
