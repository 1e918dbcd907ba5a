//! The whole URL space in one place: state, routes and layers.

use std::future::Future;

use axum::Router;
use axum::routing::get;
use civic311_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::{api, pages};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/health", get(api::health))
        .route("/api/v1/requests", get(api::requests::list))
        .route("/api/v1/requests/{id}", get(api::requests::show))
        .route("/api/v1/services", get(api::services))
        .route("/api/v1/stats", get(api::stats))
        .fallback(api::not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
