//! The whole URL space in one place: state, routes and layers.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use civic311_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::catalog::CatalogCache;
use crate::open311::{Open311Config, ReplyCache};
use crate::outbound::FieldSystems;
use crate::{api, open311, outbound, pages, staff_ui};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub open311: Arc<Open311Config>,
    pub catalog: Arc<CatalogCache>,
    /// Open311 GET replies served again to clients asking the same URL.
    pub replies: Arc<ReplyCache>,
    /// Where work orders go and whose signed updates are taken.
    pub field_systems: Arc<FieldSystems>,
    /// The name on reports, e.g. "Kansas City 311".
    pub report_title: Arc<str>,
    /// The city score's targets.
    pub score_card: Arc<civic311_analytics::cityscore::ScoreCard>,
}

impl AppState {
    pub fn new(store: Store, open311: Open311Config) -> AppState {
        AppState {
            store,
            replies: Arc::new(ReplyCache::new(open311.cache_ttl)),
            open311: Arc::new(open311),
            catalog: Arc::new(CatalogCache::default()),
            field_systems: Arc::new(FieldSystems::default()),
            report_title: Arc::from("City 311"),
            score_card: Arc::default(),
        }
    }

    /// The name on reports and the city score's targets.
    pub fn with_reports(
        mut self,
        title: &str,
        score_card: civic311_analytics::cityscore::ScoreCard,
    ) -> AppState {
        self.report_title = Arc::from(title);
        self.score_card = Arc::new(score_card);
        self
    }

    pub fn with_field_systems(mut self, systems: FieldSystems) -> AppState {
        self.field_systems = Arc::new(systems);
        self
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/staff", get(staff_ui::dashboard))
        .route(
            "/staff/login",
            get(staff_ui::login_form).post(staff_ui::login),
        )
        .route("/staff/logout", post(staff_ui::logout))
        .route("/staff/requests", get(staff_ui::requests))
        .route("/staff/requests/{id}", get(staff_ui::request))
        .route("/health", get(api::health))
        .route("/openapi.json", get(api::openapi))
        .route("/api/v1/requests", get(api::requests::list))
        .route("/api/v1/requests/similar", get(api::requests::similar))
        .route("/api/v1/requests/{id}", get(api::requests::show))
        .route(
            "/api/v1/requests/{id}/duplicates",
            get(api::requests::duplicates),
        )
        .route("/api/v1/staff/requests", post(api::staff::file))
        .route("/api/v1/staff/requests/{id}", get(api::staff::show))
        .route(
            "/api/v1/staff/requests/{id}/status",
            post(api::staff::status),
        )
        .route(
            "/api/v1/staff/requests/{id}/assign",
            post(api::staff::assign),
        )
        .route("/api/v1/staff/requests/{id}/notes", post(api::staff::note))
        .route(
            "/api/v1/staff/requests/{id}/reopen",
            post(api::staff::reopen),
        )
        .route("/api/v1/staff/requests/{id}/merge", post(api::staff::merge))
        .route(
            "/api/v1/staff/requests/{id}/reclassify",
            post(api::staff::reclassify),
        )
        .route(
            "/api/v1/staff/requests/{id}/work-orders",
            get(api::staff::work_orders).post(api::staff::order_work),
        )
        .route(
            "/api/v1/staff/requests/{id}/appointment",
            post(api::staff::reschedule),
        )
        .route(
            "/api/v1/staff/requests/{id}/appointment/cancel",
            post(api::staff::cancel_appointment),
        )
        .route(
            "/api/v1/staff/requests/{id}/priority",
            post(api::staff::reprioritize),
        )
        .route(
            "/api/v1/staff/requests/{id}/follow-ups",
            post(api::staff::open_follow_up),
        )
        .route("/api/v1/staff/follow-ups", get(api::staff::follow_ups))
        .route("/api/v1/staff/metrics", get(api::staff::metrics))
        .route(
            "/api/v1/staff/metrics/requests",
            get(api::staff::metrics_requests),
        )
        .route(
            "/api/v1/staff/reports/monthly",
            get(api::staff::monthly_report),
        )
        .route(
            "/api/v1/staff/reports/process",
            get(api::staff::process_report),
        )
        .route(
            "/api/v1/staff/follow-ups/{task}/done",
            post(api::staff::finish_follow_up),
        )
        .route(
            "/api/v1/staff/requests/{id}/attachments",
            post(api::staff::attach).layer(axum::extract::DefaultBodyLimit::max(
                civic311_store::MAX_MEDIA_BYTES + 1,
            )),
        )
        .route(
            "/api/v1/staff/attachments/{media_id}",
            get(api::staff::attachment),
        )
        .route(
            "/api/v1/staff/catalog",
            get(api::staff::catalog).put(api::staff::save_catalog),
        )
        .route(
            "/api/v1/staff/catalog/versions",
            get(api::staff::catalog_versions),
        )
        .route("/api/v1/appointments/slots", get(api::appointments::slots))
        .route("/api/v1/field/{system}/updates", post(outbound::receive))
        .route("/api/v1/services", get(api::services))
        .route("/api/v1/stats", get(api::stats))
        .merge(open311::routes())
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
