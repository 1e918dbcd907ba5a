//! Open311 GeoReport v2 at `/open311/v2`, in JSON and XML, strict on the wire: discovery,
//! services and their definitions, requests (list with every filter, one by id, POST with
//! attributes and media), tokens, and mySociety-style `servicerequestupdates` so FixMyStreet-type
//! clients can sync status and comments. Chicago-style `extensions=true` adds channel, detailed
//! status, duplicate parent and the public history as `notes`.
//!
//! Errors are always GeoReport error arrays with the HTTP status as `code`: 400 for a missing
//! or malformed parameter or a request the rules refuse, 403 for a wrong API key, 404 for an
//! unknown jurisdiction, service, request, token or path.

mod cache;
mod error;
mod format;
mod handlers;
mod params;
mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use chrono_tz::Tz;

pub use cache::ReplyCache;
pub use error::Open311Error;
pub use format::{Format, to_xml};

use crate::AppState;

/// How this city's Open311 endpoint behaves.
#[derive(Debug, Clone)]
pub struct Open311Config {
    /// The jurisdiction this server answers for (e.g. `kcmo.gov`). Requests naming another get
    /// 404; requests naming none are served.
    pub jurisdiction_id: Option<String>,
    /// Whether POSTs need an API key (`civic311 apikey create`). On by default.
    pub require_api_key: bool,
    /// The city's time zone: output times carry its offset; input times without a zone are in it.
    pub timezone: Tz,
    /// The public base URL (e.g. `https://311.example.gov`); otherwise taken from the Host header.
    pub public_url: Option<String>,
    /// Discovery's contact line.
    pub contact: String,
    /// Discovery's `key_service`: where developers get an API key.
    pub key_service: String,
    /// How long a GET reply may be served again to other clients asking the same URL; any write
    /// through this server ends it sooner. Zero turns the cache off.
    pub cache_ttl: std::time::Duration,
}

impl Default for Open311Config {
    fn default() -> Self {
        Open311Config {
            jurisdiction_id: None,
            require_api_key: true,
            timezone: Tz::UTC,
            public_url: None,
            contact: "Your city's 311 office".into(),
            key_service: "Ask the city's 311 office for an API key".into(),
            cache_ttl: std::time::Duration::from_secs(1),
        }
    }
}

/// Largest POST body: a photo plus the form fields.
const MAX_POST_BYTES: usize = civic311_store::MAX_MEDIA_BYTES + 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/open311/v2/{file}",
            get(handlers::get_top)
                .post(handlers::post_top)
                .fallback(handlers::method_not_allowed)
                .layer(DefaultBodyLimit::max(MAX_POST_BYTES)),
        )
        .route(
            "/open311/v2/{dir}/{file}",
            get(handlers::get_item).fallback(handlers::method_not_allowed),
        )
        .route("/open311/{*rest}", any(handlers::not_found))
        .route("/media/{id}", get(handlers::media))
}
