//! GeoReport errors: always the array `[{"code": 400, "description": "..."}]` (or
//! `<errors><error>...`), with the HTTP status as its code, never HTML.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use civic311_store::StoreError;
use serde_json::json;

use super::format::{Format, Reply};

#[derive(Debug)]
pub struct Open311Error {
    pub status: StatusCode,
    pub description: String,
    pub format: Format,
    /// For 405: the methods the resource does allow.
    pub allow: Option<&'static str>,
}

impl Open311Error {
    pub fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
            format: Format::Json,
            allow: None,
        }
    }

    pub fn method_not_allowed(description: impl Into<String>, allow: &'static str) -> Self {
        let mut e = Self::new(StatusCode::METHOD_NOT_ALLOWED, description);
        e.allow = Some(allow);
        e
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    pub fn in_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
}

impl From<StoreError> for Open311Error {
    fn from(e: StoreError) -> Self {
        match e {
            // A request that breaks a domain rule is the client's mistake: say which rule.
            StoreError::Domain(d) => Self::bad_request(d.to_string()),
            StoreError::NotFound { .. } => Self::not_found(e.to_string()),
            StoreError::Conflict { .. } => Self::new(StatusCode::CONFLICT, e.to_string()),
            other => {
                tracing::error!(error = %other, "store error on the Open311 API");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let allow = self.allow;
        let mut response = Reply {
            status: self.status,
            format: self.format,
            root: "errors",
            body: json!([{ "code": self.status.as_u16(), "description": self.description }]),
        }
        .into_response();
        if let Some(allow) = allow {
            response
                .headers_mut()
                .insert(axum::http::header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}
