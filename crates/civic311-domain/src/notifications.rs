//! Who is told what when a request changes: residents when their problem is closed (every
//! resident who reported it, merged duplicates included) or their appointment moves; the
//! department at each escalation step. This decides the messages; the store finds the
//! addresses (only of residents who agreed to be contacted) and queues them in the outbox in the
//! same transaction as the change.

use serde::{Deserialize, Serialize};

use crate::{Actor, ClosureReason, EventKind, RequestEvent, ServiceRequest, Status};

/// Who a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The request's requester and the requesters of every request merged into it.
    Reporters,
    /// The department the request is with (its e-mail address in the catalog).
    Department,
}

/// A message before it has an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub audience: Audience,
    pub subject: String,
    pub body: String,
}

fn closure_phrase(reason: ClosureReason) -> &'static str {
    match reason {
        ClosureReason::Resolved => "the work is done",
        ClosureReason::Duplicate => "it duplicated another report",
        ClosureReason::Cancelled => "it was withdrawn",
        ClosureReason::NoActionNeeded => "the city inspected and found nothing to do",
        ClosureReason::Referred => "it was handed to the agency responsible",
        ClosureReason::UnableToLocate => {
            "the crew could not find the problem at the location given"
        }
    }
}

/// The messages `events` (just applied to `request`) call for. Imports tell no one: history
/// loaded from another system already happened.
pub fn drafts(request: &ServiceRequest, service_name: &str, events: &[RequestEvent]) -> Vec<Draft> {
    let id = &request.id;
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if matches!(e.actor, Actor::Import(_)) {
            continue;
        }
        match &e.kind {
            // A merged child is closed as a duplicate: its reporter hears when the parent closes.
            EventKind::StatusChanged {
                to: Status::Closed(reason),
                ..
            } if *reason != ClosureReason::Duplicate => out.push(Draft {
                audience: Audience::Reporters,
                subject: format!("311 request {id} is closed"),
                body: format!(
                    "Your 311 request {id} ({service_name}) was closed: {}.\n\n\
                     If the problem is still there, reply with the request number and we will \
                     reopen it.",
                    closure_phrase(*reason)
                ),
            }),
            EventKind::AppointmentRescheduled { to, .. } => out.push(Draft {
                audience: Audience::Reporters,
                subject: format!("311 request {id}: new date {to}"),
                body: format!(
                    "Your appointment for 311 request {id} ({service_name}) is now on {to}."
                ),
            }),
            EventKind::AppointmentCancelled { day, .. } => out.push(Draft {
                audience: Audience::Reporters,
                subject: format!("311 request {id}: appointment cancelled"),
                body: format!(
                    "Your appointment on {day} for 311 request {id} ({service_name}) is cancelled."
                ),
            }),
            // A request two levels behind escalates twice at once: one message, the higher.
            EventKind::Escalated { .. }
                if events[i + 1..]
                    .iter()
                    .any(|l| matches!(l.kind, EventKind::Escalated { .. })) => {}
            EventKind::Escalated {
                level,
                notified,
                reason,
            } => out.push(Draft {
                audience: Audience::Department,
                subject: format!(
                    "[311 escalation {level}: {notified}] request {id} ({service_name})"
                ),
                body: format!(
                    "Request {id} ({service_name}): {reason}.\nDue: {}\nAssignee: {}",
                    request
                        .due_at
                        .map_or_else(|| "none".to_owned(), |d| d.to_rfc3339()),
                    request.assignee.as_deref().unwrap_or("none"),
                ),
            }),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Channel, LatLong, Location, NewServiceRequest, Priority, Service, ServiceCode,
        ServiceRequestId,
    };
    use chrono::TimeZone;

    fn request() -> ServiceRequest {
        let service = Service {
            code: ServiceCode::parse("pothole").unwrap(),
            name: "Pothole".into(),
            description: None,
            group: None,
            keywords: vec![],
            department: None,
            attributes: vec![],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        };
        let new = NewServiceRequest {
            service_code: service.code.clone(),
            description: None,
            location: Location {
                point: Some(LatLong::new(39.1, -94.6).unwrap()),
                ..Location::default()
            },
            channel: Channel::Web,
            priority: Priority::Normal,
            requester: None,
            attributes: vec![],
            media_url: None,
        };
        let now = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap();
        let id = ServiceRequestId::parse("77").unwrap();
        ServiceRequest::open(id, new, &service, Actor::Resident, now)
            .unwrap()
            .0
    }

    #[test]
    fn closing_tells_reporters_and_imports_tell_no_one() {
        let mut r = request();
        let now = r.created_at;
        let close = r
            .change_status(
                Status::Closed(ClosureReason::Resolved),
                Actor::Staff("ann".into()),
                now,
            )
            .unwrap();
        let d = drafts(&r, "Pothole", std::slice::from_ref(&close));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].audience, Audience::Reporters);
        assert!(d[0].subject.contains("77") && d[0].body.contains("the work is done"));
        let imported = RequestEvent {
            actor: Actor::Import("kc".into()),
            ..close
        };
        assert!(drafts(&r, "Pothole", &[imported]).is_empty());
        // A duplicate's own closure says nothing: its reporter hears when the parent closes.
        let (mut child, mut parent) = (request(), request());
        parent.id = ServiceRequestId::parse("78").unwrap();
        let (merged, _) = child.merge_into(&mut parent, Actor::System, now).unwrap();
        assert!(drafts(&child, "Pothole", &merged).is_empty());
    }

    #[test]
    fn a_double_escalation_sends_one_message() {
        let r = request();
        let esc = |level: u8| RequestEvent {
            at: r.created_at,
            actor: Actor::System,
            kind: EventKind::Escalated {
                level,
                notified: format!("level {level}"),
                reason: "late".into(),
            },
        };
        let d = drafts(&r, "Pothole", &[esc(1), esc(2)]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].audience, Audience::Department);
        assert!(d[0].subject.contains("escalation 2"), "{}", d[0].subject);
    }
}
