//! What the public may see of a request: no requester, no internal notes, no staff names.
//! Every public output goes through these types, so personal data cannot leak by a new field.

use chrono::{DateTime, Utc};
use civic311_domain::{Actor, EventKind, ServiceRequest};
use civic311_store::StoredEvent;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct PublicArea {
    pub layer: String,
    pub id: String,
}

#[derive(Debug, Serialize)]
pub struct PublicRequest {
    pub id: String,
    pub service_code: String,
    pub status: &'static str,
    pub status_reason: Option<&'static str>,
    pub priority: &'static str,
    pub description: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address: Option<String>,
    pub zip: Option<String>,
    pub areas: Vec<PublicArea>,
    pub channel: &'static str,
    pub department: Option<String>,
    pub parent_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<ServiceRequest> for PublicRequest {
    fn from(r: ServiceRequest) -> Self {
        PublicRequest {
            id: r.id.into(),
            service_code: r.service_code.into(),
            status: r.status.state(),
            status_reason: r.status.reason(),
            priority: r.priority.as_str(),
            description: r.description,
            lat: r.location.point.map(|p| p.lat()),
            long: r.location.point.map(|p| p.long()),
            address: r.location.address,
            zip: r.location.zip,
            areas: r
                .location
                .areas
                .into_iter()
                .map(|a| PublicArea {
                    layer: a.layer.into(),
                    id: a.area.into(),
                })
                .collect(),
            channel: r.channel.as_str(),
            department: r.department.map(String::from),
            parent_id: r.parent_id.map(String::from),
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            due_at: r.due_at,
            version: r.version,
        }
    }
}

/// One entry of the public history. Internal notes are left out; staff appear as "staff".
#[derive(Debug, Serialize)]
pub struct PublicEvent {
    pub at: DateTime<Utc>,
    pub by: &'static str,
    #[serde(flatten)]
    pub kind: EventKind,
}

pub fn public_history(events: Vec<StoredEvent>) -> Vec<PublicEvent> {
    events
        .into_iter()
        // Internal notes, and the outbox's own bookkeeping (its errors name internal systems).
        .filter(|e| {
            !matches!(
                e.event.kind,
                EventKind::NoteAdded { public: false, .. }
                    | EventKind::AttachmentAdded { public: false, .. }
                    | EventKind::FollowUpOpened { .. }
                    | EventKind::FollowUpDone { .. }
                    | EventKind::WorkOrderRequested { .. }
                    | EventKind::WorkOrderFailed { .. }
            )
        })
        .map(|e| PublicEvent {
            at: e.event.at,
            by: match e.event.actor {
                Actor::System => "system",
                Actor::Resident => "resident",
                Actor::Staff(_) => "staff",
                Actor::ApiClient(_) => "api",
                Actor::Import(_) => "import",
            },
            kind: e.event.kind,
        })
        .collect()
}
