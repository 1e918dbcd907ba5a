//! The service request and every change that can happen to it. Each change method checks the
//! rules, updates the request and returns the event(s) to append; the caller stores both in one
//! transaction. The `version` is owned by the store (optimistic concurrency).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::channel::Channel;
use crate::channel::code_enum;
use crate::{
    Actor, AttributeAnswer, ClosureReason, DepartmentCode, DomainError, EventKind, Location,
    MAX_DESCRIPTION_CHARS, RequestEvent, Service, ServiceCode, ServiceRequestId, Status,
};

code_enum!(
    /// Triage priority; SLA targets may differ by priority.
    Priority, "priority" {
        Low = "low",
        Normal = "normal",
        High = "high",
        /// A hazard to life or property that still belongs to 311, not 911.
        Urgent = "urgent",
    }
);

/// What the resident agreed to. Absent consent means "no".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// May the city contact them about this request (status, follow-up)?
    pub contact: bool,
    /// May the city send a satisfaction survey?
    pub survey: bool,
}

/// The person who asked. Personal data: never in a public output unless the viewer's role
/// allows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requester {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// An account in the city's resident portal.
    pub account_id: Option<String>,
    /// A mobile device id sent by Open311 clients.
    pub device_id: Option<String>,
    pub consent: Consent,
}

/// A request as it is being filed, before the city accepts it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewServiceRequest {
    pub service_code: ServiceCode,
    pub description: Option<String>,
    pub location: Location,
    pub channel: Channel,
    pub priority: Priority,
    pub requester: Option<Requester>,
    pub attributes: Vec<AttributeAnswer>,
    /// A photo of the problem, as an http(s) URL (Open311 `media_url`).
    pub media_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRequest {
    pub id: ServiceRequestId,
    pub service_code: ServiceCode,
    pub status: Status,
    pub priority: Priority,
    pub description: Option<String>,
    pub location: Location,
    pub channel: Channel,
    pub requester: Option<Requester>,
    pub department: Option<DepartmentCode>,
    /// A staff member or work group.
    pub assignee: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// Set when this request was merged into another as a duplicate.
    pub parent_id: Option<ServiceRequestId>,
    pub attributes: Vec<AttributeAnswer>,
    pub media_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Bumped by the store on every saved change; a save with a stale version is refused.
    pub version: i64,
}

/// A request as a source system last saw it (an import row or a feed item), with its history
/// reduced to what the source kept: when it was opened and when, if ever, it was closed.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoricalRequest {
    pub id: ServiceRequestId,
    pub service_code: ServiceCode,
    pub status: Status,
    pub priority: Priority,
    pub description: Option<String>,
    pub location: Location,
    pub channel: Channel,
    pub department: Option<DepartmentCode>,
    pub assignee: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

fn check_description(description: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(d) = description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
    else {
        return Ok(None);
    };
    let actual = d.chars().count();
    if actual > MAX_DESCRIPTION_CHARS {
        return Err(DomainError::DescriptionTooLong {
            max: MAX_DESCRIPTION_CHARS,
            actual,
        });
    }
    Ok(Some(d))
}

/// Longest accepted media URL, in bytes.
pub const MAX_MEDIA_URL_BYTES: usize = 2048;

fn check_media_url(url: Option<String>) -> Result<Option<String>, DomainError> {
    let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let lower = url.to_ascii_lowercase();
    let reason = if url.len() > MAX_MEDIA_URL_BYTES {
        Some("longer than 2048 bytes")
    } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        Some("not an http(s) URL")
    } else if url.chars().any(char::is_whitespace) {
        Some("contains spaces")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(DomainError::InvalidMediaUrl { url, reason }),
        None => Ok(Some(url)),
    }
}

impl ServiceRequest {
    /// Accepts a new request for `service`: checks the service takes requests, the description
    /// fits and the attribute answers match the service's questions; routes it to the service's
    /// department (when it has one) and sets the due date of a calendar-day SLA (business-time targets are set by
    /// the SLA engine, which knows the department's calendar).
    pub fn open(
        id: ServiceRequestId,
        new: NewServiceRequest,
        service: &Service,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(ServiceRequest, Vec<RequestEvent>), DomainError> {
        let route = crate::Route::service_default(service);
        ServiceRequest::open_routed(id, new, service, route, None, actor, now)
    }

    /// [`ServiceRequest::open`], sending the request where `route` says (a routing table's
    /// decision, see [`crate::RoutingTable::route`]) instead of to the service's department,
    /// with a due date in business time when the department's `calendar` is given.
    pub fn open_routed(
        id: ServiceRequestId,
        new: NewServiceRequest,
        service: &Service,
        route: Option<crate::Route>,
        calendar: Option<&crate::BusinessCalendar>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(ServiceRequest, Vec<RequestEvent>), DomainError> {
        if new.service_code != service.code {
            return Err(DomainError::UnknownService(new.service_code.to_string()));
        }
        if !service.active {
            return Err(DomainError::ServiceInactive(service.code.to_string()));
        }
        let description = check_description(new.description)?;
        let attributes = service.check_answers(new.attributes)?;
        let media_url = check_media_url(new.media_url)?;
        let due_at = crate::sla::due_date(service.sla_for(new.priority), calendar, now);
        let request = ServiceRequest {
            id,
            service_code: new.service_code,
            status: Status::Open,
            priority: new.priority,
            description,
            location: new.location,
            channel: new.channel,
            requester: new.requester,
            department: route.as_ref().and_then(|r| r.department.clone()),
            assignee: route.as_ref().and_then(|r| r.queue.clone()),
            due_at,
            parent_id: None,
            attributes,
            media_url,
            created_at: now,
            updated_at: now,
            closed_at: None,
            version: 0,
        };
        let mut events = vec![RequestEvent {
            at: now,
            actor: actor.clone(),
            kind: EventKind::Created {
                service_code: request.service_code.clone(),
                channel: request.channel,
                status: request.status,
            },
        }];
        if let Some(route) = route {
            events.push(RequestEvent {
                at: now,
                actor: Actor::System,
                kind: EventKind::Routed {
                    department: request.department.clone(),
                    assignee: request.assignee.clone(),
                    rule: Some(route.rule),
                },
            });
        }
        Ok((request, events))
    }

    /// Rebuilds a request from a source system's record, with the events its history implies:
    /// `created` at creation, and a status change at closing time for closed requests (at
    /// creation time for other non-open statuses, whose date the source did not keep).
    pub fn from_history(
        h: HistoricalRequest,
        source: &str,
    ) -> Result<(ServiceRequest, Vec<RequestEvent>), DomainError> {
        let actor = Actor::Import(source.to_owned());
        let description = check_description(h.description)?;
        let closed_at = if h.status.is_closed() {
            h.closed_at
        } else {
            None
        };
        let mut events = vec![RequestEvent {
            at: h.created_at,
            actor: actor.clone(),
            kind: EventKind::Created {
                service_code: h.service_code.clone(),
                channel: h.channel,
                status: Status::Open,
            },
        }];
        if h.department.is_some() || h.assignee.is_some() {
            events.push(RequestEvent {
                at: h.created_at,
                actor: actor.clone(),
                kind: EventKind::Routed {
                    department: h.department.clone(),
                    assignee: h.assignee.clone(),
                    rule: None,
                },
            });
        }
        if h.status != Status::Open {
            events.push(RequestEvent {
                at: closed_at.unwrap_or(h.created_at),
                actor,
                kind: EventKind::StatusChanged {
                    from: Status::Open,
                    to: h.status,
                },
            });
        }
        let updated_at = events.iter().map(|e| e.at).max().unwrap_or(h.created_at);
        let request = ServiceRequest {
            id: h.id,
            service_code: h.service_code,
            status: h.status,
            priority: h.priority,
            description,
            location: h.location,
            channel: h.channel,
            requester: None,
            department: h.department,
            assignee: h.assignee,
            due_at: h.due_at,
            parent_id: None,
            attributes: Vec::new(),
            media_url: None,
            created_at: h.created_at,
            updated_at,
            closed_at,
            version: 0,
        };
        Ok((request, events))
    }

    /// Brings a request imported earlier up to date with a newer record of the same request from
    /// its source (a newer extract, a feed sync). The state follows the source; what changed in
    /// status or routing is written as events at the source's update time, so history says when
    /// the city did it. Returns `None` when the source says nothing new.
    pub fn refresh_from_source(
        &mut self,
        fresh: &ServiceRequest,
        source: &str,
    ) -> Option<Vec<RequestEvent>> {
        let actor = Actor::Import(source.to_owned());
        let at = fresh.updated_at.max(self.created_at);
        let mut events = Vec::new();
        if fresh.status != self.status {
            let from = self.status;
            let kind = if from.is_closed() && !fresh.status.is_closed() {
                EventKind::Reopened {
                    from,
                    reason: format!("{source} reports it {} again", fresh.status.state()),
                }
            } else {
                EventKind::StatusChanged {
                    from,
                    to: fresh.status,
                }
            };
            let at = fresh
                .closed_at
                .filter(|_| fresh.status.is_closed())
                .unwrap_or(at);
            events.push(RequestEvent {
                at,
                actor: actor.clone(),
                kind,
            });
        }
        if fresh.department != self.department || fresh.assignee != self.assignee {
            events.push(RequestEvent {
                at,
                actor,
                kind: EventKind::Reassigned {
                    from_department: self.department.clone(),
                    to_department: fresh.department.clone(),
                    from_assignee: self.assignee.clone(),
                    to_assignee: fresh.assignee.clone(),
                    reason: format!("{source} reassigned it"),
                },
            });
        }
        let mut location = fresh.location.clone();
        if location.areas.is_empty() {
            location.areas = self.location.areas.clone();
        }
        // Areas are a set: a mapping lists its layers in its own order, the store in layer order.
        location.areas.sort();
        self.location.areas.sort();
        let unchanged = events.is_empty()
            && fresh.service_code == self.service_code
            && fresh.description == self.description
            && location == self.location
            && fresh.due_at == self.due_at
            && fresh.media_url == self.media_url
            && fresh.closed_at == self.closed_at;
        if unchanged {
            return None;
        }
        self.service_code = fresh.service_code.clone();
        self.status = fresh.status;
        self.description = fresh.description.clone();
        self.location = location;
        self.department = fresh.department.clone();
        self.assignee = fresh.assignee.clone();
        self.due_at = fresh.due_at;
        self.media_url = fresh.media_url.clone();
        self.closed_at = fresh.closed_at;
        self.updated_at = self.updated_at.max(fresh.updated_at);
        Some(events)
    }

    pub(crate) fn record(
        &mut self,
        actor: Actor,
        now: DateTime<Utc>,
        kind: EventKind,
    ) -> RequestEvent {
        self.event(actor, now, kind)
    }

    fn event(&mut self, actor: Actor, now: DateTime<Utc>, kind: EventKind) -> RequestEvent {
        self.updated_at = self.updated_at.max(now);
        RequestEvent {
            at: now,
            actor,
            kind,
        }
    }

    fn ensure_not_closed(&self) -> Result<(), DomainError> {
        if self.status.is_closed() {
            Err(DomainError::Closed)
        } else {
            Ok(())
        }
    }

    /// Moves to another status. Closing needs a reason (it is part of `Closed`); a closed request
    /// leaves `Closed` only through [`ServiceRequest::reopen`]; a duplicate only through a merge.
    pub fn change_status(
        &mut self,
        to: Status,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        self.status.check_transition(to)?;
        let from = self.status;
        self.status = to;
        self.closed_at = to.is_closed().then_some(now);
        Ok(self.event(actor, now, EventKind::StatusChanged { from, to }))
    }

    /// Reopens a closed request (e.g. the resident says the pothole is back). Counted against
    /// closure quality, so it is its own event rather than a status change.
    pub fn reopen(
        &mut self,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        if !self.status.is_closed() {
            return Err(DomainError::NotClosed(self.status));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::Empty {
                field: "reopen reason",
            });
        }
        let from = self.status;
        self.status = Status::Open;
        self.closed_at = None;
        self.parent_id = None;
        Ok(self.event(
            actor,
            now,
            EventKind::Reopened {
                from,
                reason: reason.to_owned(),
            },
        ))
    }

    /// Adds a note; allowed on closed requests too (a late call-back is still history).
    pub fn add_note(
        &mut self,
        text: &str,
        public: bool,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DomainError::Empty { field: "note" });
        }
        let actual = text.chars().count();
        if actual > MAX_DESCRIPTION_CHARS {
            return Err(DomainError::DescriptionTooLong {
                max: MAX_DESCRIPTION_CHARS,
                actual,
            });
        }
        Ok(self.event(
            actor,
            now,
            EventKind::NoteAdded {
                text: text.to_owned(),
                public,
            },
        ))
    }

    /// Gives the request to a department and/or assignee. The first assignment is `routed`;
    /// later ones are `reassigned` with who and why, so misroutes can be counted.
    pub fn assign(
        &mut self,
        department: Option<DepartmentCode>,
        assignee: Option<String>,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        self.ensure_not_closed()?;
        let assignee = assignee
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty());
        if department == self.department && assignee == self.assignee {
            return Err(DomainError::NoChange(self.status));
        }
        let kind = if self.department.is_none() && self.assignee.is_none() {
            EventKind::Routed {
                department: department.clone(),
                assignee: assignee.clone(),
                rule: Some(reason.trim().to_owned()).filter(|r| !r.is_empty()),
            }
        } else {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(DomainError::Empty {
                    field: "reassignment reason",
                });
            }
            EventKind::Reassigned {
                from_department: self.department.clone(),
                to_department: department.clone(),
                from_assignee: self.assignee.clone(),
                to_assignee: assignee.clone(),
                reason: reason.to_owned(),
            }
        };
        self.department = department;
        self.assignee = assignee;
        Ok(self.event(actor, now, kind))
    }

    pub fn set_priority(
        &mut self,
        to: Priority,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        self.ensure_not_closed()?;
        if to == self.priority {
            return Err(DomainError::NoChange(self.status));
        }
        let from = std::mem::replace(&mut self.priority, to);
        Ok(self.event(actor, now, EventKind::PriorityChanged { from, to }))
    }

    /// Merges this request into `parent` as a duplicate: this one closes as `duplicate` and keeps
    /// its own history; the parent gains a `duplicate_merged` event (its "me too" count). Returns
    /// (event for self, event for parent).
    pub fn merge_into(
        &mut self,
        parent: &mut ServiceRequest,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(Vec<RequestEvent>, RequestEvent), DomainError> {
        if parent.id == self.id {
            return Err(DomainError::MergeIntoSelf);
        }
        if parent.parent_id.is_some() {
            return Err(DomainError::ParentIsMerged(parent.id.to_string()));
        }
        self.ensure_not_closed()?;
        let from = self.status;
        let to = Status::Closed(ClosureReason::Duplicate);
        self.status = to;
        self.closed_at = Some(now);
        self.parent_id = Some(parent.id.clone());
        let merged = self.event(
            actor.clone(),
            now,
            EventKind::MergedInto {
                parent: parent.id.clone(),
            },
        );
        let closed = self.event(actor.clone(), now, EventKind::StatusChanged { from, to });
        let on_parent = parent.event(
            actor,
            now,
            EventKind::DuplicateMerged {
                child: self.id.clone(),
            },
        );
        Ok((vec![merged, closed], on_parent))
    }
}

#[cfg(test)]
mod tests;
