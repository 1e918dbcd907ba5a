//! GeoReport v2 shapes. Ids and codes are strings; absent optional fields are `null`; times are
//! RFC 3339 in the city's time zone with its offset. Nothing of the requester is ever written.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use civic311_domain::{
    AttributeDatatype, EventKind, Service, ServiceRequest, Status, WorkOrderState,
};
use civic311_store::StoredEvent;
use serde::Serialize;

use crate::catalog::Catalog;

pub fn datetime(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[derive(Serialize)]
pub struct WireService {
    service_code: String,
    service_name: String,
    description: Option<String>,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: Option<String>,
    group: Option<String>,
}

impl From<&Service> for WireService {
    fn from(s: &Service) -> Self {
        WireService {
            service_code: s.code.to_string(),
            service_name: s.name.clone(),
            description: s.description.clone(),
            metadata: !s.attributes.is_empty(),
            // Every request is filed at once; tokens are still given out for clients that use them.
            kind: "realtime",
            keywords: (!s.keywords.is_empty()).then(|| s.keywords.join(",")),
            group: s.group.clone(),
        }
    }
}

#[derive(Serialize)]
pub struct WireValue {
    key: String,
    name: String,
}

#[derive(Serialize)]
pub struct WireAttribute {
    variable: bool,
    code: String,
    datatype: &'static str,
    required: bool,
    datatype_description: Option<String>,
    order: u32,
    description: String,
    values: Vec<WireValue>,
}

#[derive(Serialize)]
pub struct WireDefinition {
    service_code: String,
    attributes: Vec<WireAttribute>,
}

impl From<&Service> for WireDefinition {
    fn from(s: &Service) -> Self {
        let mut attributes: Vec<WireAttribute> = s
            .attributes
            .iter()
            .map(|a| WireAttribute {
                variable: a.variable,
                code: a.code.clone(),
                datatype: match a.datatype {
                    AttributeDatatype::String => "string",
                    AttributeDatatype::Number => "number",
                    AttributeDatatype::Datetime => "datetime",
                    AttributeDatatype::Text => "text",
                    AttributeDatatype::Singlevaluelist => "singlevaluelist",
                    AttributeDatatype::Multivaluelist => "multivaluelist",
                },
                required: a.required,
                datatype_description: a.datatype_description.clone(),
                order: a.order,
                description: a.description.clone(),
                values: a
                    .values
                    .iter()
                    .map(|v| WireValue {
                        key: v.key.clone(),
                        name: v.name.clone(),
                    })
                    .collect(),
            })
            .collect();
        attributes.sort_by_key(|a| a.order);
        WireDefinition {
            service_code: s.code.to_string(),
            attributes,
        }
    }
}

#[derive(Serialize)]
pub struct WireArea {
    layer: String,
    id: String,
}

/// Chicago-style `extended_attributes` (with `extensions=true`).
#[derive(Serialize)]
pub struct Extended {
    channel: &'static str,
    detailed_status: &'static str,
    status_reason: Option<&'static str>,
    priority: &'static str,
    duplicate: bool,
    parent_service_request_id: Option<String>,
    closed_datetime: Option<String>,
    areas: Vec<WireArea>,
}

#[derive(Serialize)]
pub struct WireNote {
    datetime: String,
    #[serde(rename = "type")]
    kind: &'static str,
    summary: String,
    description: Option<String>,
}

#[derive(Serialize)]
pub struct WireRequest {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: Option<String>,
    service_code: String,
    description: Option<String>,
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: String,
    expected_datetime: Option<String>,
    address: Option<String>,
    address_id: Option<String>,
    zipcode: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_attributes: Option<Extended>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<Vec<WireNote>>,
}

/// GeoReport's two states.
pub fn open_or_closed(s: Status) -> &'static str {
    if s.is_closed() { "closed" } else { "open" }
}

fn status_words(s: Status) -> String {
    match s.reason() {
        Some(reason) => format!("{} ({})", s.state(), reason).replace('_', " "),
        None => s.state().replace('_', " "),
    }
}

/// What the public may read of an event: `None` for internal notes and survey events, and no
/// staff names or internal reasons in what is kept.
pub fn public_note(
    kind: &EventKind,
    names: &Catalog,
) -> Option<(&'static str, String, Option<String>)> {
    let dept = |d: &Option<civic311_domain::DepartmentCode>| {
        d.as_ref()
            .map(|d| {
                names
                    .department_names
                    .get(d.as_str())
                    .cloned()
                    .unwrap_or_else(|| d.to_string())
            })
            .unwrap_or_else(|| "the 311 queue".into())
    };
    let note = match kind {
        EventKind::Created { channel, .. } => {
            format!(
                "Request received via {}",
                channel.as_str().replace('_', " ")
            )
        }
        EventKind::Routed { department, .. } => format!("Routed to {}", dept(department)),
        EventKind::Reassigned { to_department, .. } => {
            format!("Reassigned to {}", dept(to_department))
        }
        EventKind::StatusChanged { to, .. } => format!("Status changed to {}", status_words(*to)),
        EventKind::PriorityChanged { to, .. } => format!("Priority changed to {}", to.as_str()),
        EventKind::NoteAdded { text, public: true } => {
            return Some(("note", "Note".into(), Some(text.clone())));
        }
        EventKind::Escalated { level, .. } => format!("Escalated (level {level})"),
        EventKind::MergedInto { parent } => {
            format!("Closed as a duplicate of request {parent}")
        }
        EventKind::DuplicateMerged { child } => {
            format!("Another report of this problem (request {child}) was merged into this one")
        }
        EventKind::Reopened { .. } => "Reopened".into(),
        EventKind::DueDateChanged { .. } => "Expected completion date changed".into(),
        EventKind::SlaPaused { .. } => "On hold".into(),
        EventKind::SlaResumed => "Work resumed".into(),
        EventKind::Reclassified { to, .. } => format!("Request type changed to {to}"),
        EventKind::WorkOrderLinked { .. } => "Work order created".into(),
        EventKind::WorkOrderUpdated { state, .. } => match state {
            WorkOrderState::InProgress => "Field crew at work".into(),
            WorkOrderState::Completed => "Field work completed".into(),
            WorkOrderState::Cancelled => "Work order cancelled".into(),
            _ => return None,
        },
        EventKind::AppointmentBooked { day, .. } => format!("Scheduled for {day}"),
        EventKind::AppointmentRescheduled { to, .. } => format!("Rescheduled to {to}"),
        EventKind::AppointmentCancelled { .. } => "Appointment cancelled".into(),
        EventKind::AttachmentAdded {
            public: true, name, ..
        } => format!("Photo or document added: {name}"),
        EventKind::NoteAdded { public: false, .. }
        | EventKind::AttachmentAdded { public: false, .. }
        | EventKind::FollowUpOpened { .. }
        | EventKind::FollowUpDone { .. }
        | EventKind::WorkOrderRequested { .. }
        | EventKind::WorkOrderFailed { .. }
        | EventKind::SurveySent { .. }
        | EventKind::SurveyAnswered { .. } => return None,
    };
    Some((kind.name(), note, None))
}

impl WireRequest {
    pub fn new(
        r: ServiceRequest,
        names: &Catalog,
        tz: Tz,
        history: Option<&[StoredEvent]>,
    ) -> WireRequest {
        let extended = history.map(|_| Extended {
            channel: r.channel.as_str(),
            detailed_status: r.status.state(),
            status_reason: r.status.reason(),
            priority: r.priority.as_str(),
            duplicate: r.parent_id.is_some(),
            parent_service_request_id: r.parent_id.as_ref().map(|p| p.to_string()),
            closed_datetime: r.closed_at.map(|t| datetime(t, tz)),
            areas: r
                .location
                .areas
                .iter()
                .map(|a| WireArea {
                    layer: a.layer.to_string(),
                    id: a.area.to_string(),
                })
                .collect(),
        });
        let notes = history.map(|events| {
            events
                .iter()
                .filter_map(|e| {
                    public_note(&e.event.kind, names).map(|(kind, summary, description)| WireNote {
                        datetime: datetime(e.event.at, tz),
                        kind,
                        summary,
                        description,
                    })
                })
                .collect()
        });
        let point = r.location.point;
        WireRequest {
            service_name: names.service_names.get(r.service_code.as_str()).cloned(),
            agency_responsible: r.department.as_ref().map(|d| {
                names
                    .department_names
                    .get(d.as_str())
                    .cloned()
                    .unwrap_or_else(|| d.to_string())
            }),
            service_request_id: r.id.to_string(),
            status: open_or_closed(r.status),
            status_notes: (r.status != Status::Open).then(|| status_words(r.status)),
            service_code: r.service_code.to_string(),
            description: r.description,
            service_notice: None,
            requested_datetime: datetime(r.created_at, tz),
            updated_datetime: datetime(r.updated_at, tz),
            expected_datetime: r.due_at.map(|t| datetime(t, tz)),
            address: r.location.address,
            address_id: r.location.address_id,
            zipcode: r.location.zip,
            lat: point.map(|p| p.lat()),
            long: point.map(|p| p.long()),
            media_url: r.media_url,
            extended_attributes: extended,
            notes,
        }
    }
}
