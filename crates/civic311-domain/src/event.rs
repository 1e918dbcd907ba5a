//! The append-only history of a request. Every change writes one or more events in the same
//! transaction as the new state; nothing ever edits or deletes an event. Audits, process
//! diagnostics (paths, reassignments) and time-to-close analysis read this log, not the current
//! state.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    DepartmentCode, DomainError, Priority, ServiceCode, ServiceRequestId, Status, channel::Channel,
};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// civic311 itself (SLA engine, escalation job, routing).
    System,
    /// The resident who filed the request, through a public channel.
    Resident,
    /// A named staff member or agent.
    Staff(String),
    /// An API client, by the name its key was issued to.
    ApiClient(String),
    /// An import from a source dataset, by source name.
    Import(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::Resident => f.write_str("resident"),
            Actor::Staff(who) => write!(f, "staff:{who}"),
            Actor::ApiClient(who) => write!(f, "api:{who}"),
            Actor::Import(source) => write!(f, "import:{source}"),
        }
    }
}

impl FromStr for Actor {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || DomainError::UnknownCode {
            kind: "actor",
            value: s.to_owned(),
        };
        match s.split_once(':') {
            None if s == "system" => Ok(Actor::System),
            None if s == "resident" => Ok(Actor::Resident),
            Some(("staff", who)) if !who.is_empty() => Ok(Actor::Staff(who.to_owned())),
            Some(("api", who)) if !who.is_empty() => Ok(Actor::ApiClient(who.to_owned())),
            Some(("import", src)) if !src.is_empty() => Ok(Actor::Import(src.to_owned())),
            _ => Err(unknown()),
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What happened. Stored as JSON with its `type` beside it, so new kinds can be added without
/// touching old rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Created {
        service_code: ServiceCode,
        channel: Channel,
        status: Status,
    },
    Routed {
        department: Option<DepartmentCode>,
        assignee: Option<String>,
        rule: Option<String>,
    },
    Reassigned {
        from_department: Option<DepartmentCode>,
        to_department: Option<DepartmentCode>,
        from_assignee: Option<String>,
        to_assignee: Option<String>,
        reason: String,
    },
    StatusChanged {
        from: Status,
        to: Status,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    NoteAdded {
        text: String,
        public: bool,
    },
    Escalated {
        level: u8,
        notified: String,
        reason: String,
    },
    /// On the child: it was merged into `parent` and closed as a duplicate.
    MergedInto {
        parent: ServiceRequestId,
    },
    /// On the parent: another resident's report of the same problem was merged into it.
    DuplicateMerged {
        child: ServiceRequestId,
    },
    Reopened {
        from: Status,
        reason: String,
    },
    DueDateChanged {
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        reason: String,
    },
    SlaPaused {
        reason: String,
    },
    SlaResumed,
    /// Staff found the request was filed under the wrong service.
    Reclassified {
        from: ServiceCode,
        to: ServiceCode,
        reason: String,
    },
    /// A work order was queued for a field system (see `work_orders`).
    WorkOrderRequested {
        work_order: String,
        system: String,
    },
    /// The field system accepted a work order under its own id (or an import linked one).
    WorkOrderLinked {
        system: String,
        external_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        work_order: Option<String>,
    },
    /// The field system reported progress on a work order.
    WorkOrderUpdated {
        work_order: String,
        system: String,
        state: crate::work_orders::WorkOrderState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Handing a work order over failed for good (dead letter).
    WorkOrderFailed {
        work_order: String,
        system: String,
        error: String,
    },
    /// A bookable service's day was booked (at intake, or later by staff).
    AppointmentBooked {
        day: chrono::NaiveDate,
        zone: String,
    },
    AppointmentRescheduled {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        reason: String,
    },
    AppointmentCancelled {
        day: chrono::NaiveDate,
        reason: String,
    },
    /// A customer service officer should call the resident back.
    FollowUpOpened {
        task: i64,
        reason: crate::follow_ups::FollowUpReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    FollowUpDone {
        task: i64,
        outcome: String,
    },
    /// A file (photo, document) attached by staff; `public` ones are shown to residents.
    AttachmentAdded {
        media_id: String,
        name: String,
        content_type: String,
        public: bool,
    },
    SurveySent {
        survey: String,
    },
    SurveyAnswered {
        survey: String,
        score: Option<u8>,
    },
}

impl EventKind {
    /// The name stored in the `kind` column, the same as the JSON `type` tag.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::Routed { .. } => "routed",
            EventKind::Reassigned { .. } => "reassigned",
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::PriorityChanged { .. } => "priority_changed",
            EventKind::NoteAdded { .. } => "note_added",
            EventKind::Escalated { .. } => "escalated",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::DuplicateMerged { .. } => "duplicate_merged",
            EventKind::Reopened { .. } => "reopened",
            EventKind::DueDateChanged { .. } => "due_date_changed",
            EventKind::SlaPaused { .. } => "sla_paused",
            EventKind::SlaResumed => "sla_resumed",
            EventKind::Reclassified { .. } => "reclassified",
            EventKind::WorkOrderRequested { .. } => "work_order_requested",
            EventKind::WorkOrderLinked { .. } => "work_order_linked",
            EventKind::WorkOrderUpdated { .. } => "work_order_updated",
            EventKind::WorkOrderFailed { .. } => "work_order_failed",
            EventKind::AppointmentBooked { .. } => "appointment_booked",
            EventKind::AppointmentRescheduled { .. } => "appointment_rescheduled",
            EventKind::AppointmentCancelled { .. } => "appointment_cancelled",
            EventKind::FollowUpOpened { .. } => "follow_up_opened",
            EventKind::FollowUpDone { .. } => "follow_up_done",
            EventKind::AttachmentAdded { .. } => "attachment_added",
            EventKind::SurveySent { .. } => "survey_sent",
            EventKind::SurveyAnswered { .. } => "survey_answered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEvent {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_round_trips_through_text() {
        for a in [
            Actor::System,
            Actor::Resident,
            Actor::Staff("jdoe".into()),
            Actor::ApiClient("fixmystreet".into()),
            Actor::Import("kansas-city".into()),
        ] {
            assert_eq!(a.to_string().parse::<Actor>(), Ok(a));
        }
        assert!("staff:".parse::<Actor>().is_err());
        assert!("robot".parse::<Actor>().is_err());
    }

    #[test]
    fn kind_name_matches_json_tag() {
        let kind = EventKind::StatusChanged {
            from: Status::Open,
            to: Status::Closed(crate::ClosureReason::Resolved),
        };
        let json = serde_json::to_value(&kind).unwrap();
        assert_eq!(json["type"], kind.name());
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), kind);
    }
}
