//! Follow-up tasks for customer service officers: a queue of requests where a person should
//! call the resident back. Opened automatically when a case goes wrong (reopened, closed without
//! finding the problem, long overdue, an unhappy survey answer) or by staff; closed with what
//! was done, as an event on the request.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Actor, ClosureReason, DomainError, EventKind, RequestEvent, ServiceRequest, Status};

/// Why a case needs a call back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpReason {
    /// The resident said the problem came back.
    Reopened,
    /// Closed because the crew could not find the problem: the resident may know where it is.
    UnableToLocate,
    /// Half again the time allowed has passed (the last escalation level).
    LongOverdue,
    /// A satisfaction survey answered 1 or 2 out of 5.
    Unhappy,
    /// Opened by staff.
    Manual,
}

impl FollowUpReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reopened => "reopened",
            Self::UnableToLocate => "unable_to_locate",
            Self::LongOverdue => "long_overdue",
            Self::Unhappy => "unhappy",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        [
            Self::Reopened,
            Self::UnableToLocate,
            Self::LongOverdue,
            Self::Unhappy,
            Self::Manual,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| DomainError::UnknownCode {
            kind: "follow-up reason",
            value: s.to_owned(),
        })
    }
}

impl fmt::Display for FollowUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub id: i64,
    pub request_id: String,
    pub reason: FollowUpReason,
    /// What staff wrote when opening it by hand.
    pub note: Option<String>,
    pub opened_at: DateTime<Utc>,
    /// `None` while open.
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
    pub outcome: Option<String>,
}

/// The tasks `events` call for. Imports open none.
pub fn triggered(events: &[RequestEvent]) -> Vec<FollowUpReason> {
    let mut out = Vec::new();
    for e in events {
        if matches!(e.actor, Actor::Import(_)) {
            continue;
        }
        let reason = match &e.kind {
            EventKind::Reopened { .. } => Some(FollowUpReason::Reopened),
            EventKind::StatusChanged {
                to: Status::Closed(ClosureReason::UnableToLocate),
                ..
            } => Some(FollowUpReason::UnableToLocate),
            EventKind::Escalated { level: 3, .. } => Some(FollowUpReason::LongOverdue),
            EventKind::SurveyAnswered { score: Some(s), .. } if *s <= 2 => {
                Some(FollowUpReason::Unhappy)
            }
            _ => None,
        };
        if let Some(r) = reason
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}

impl ServiceRequest {
    /// Records a follow-up opened by staff (automatic ones are explained by the event that
    /// opened them).
    pub fn follow_up_opened(
        &mut self,
        task: i64,
        note: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        let note = note.trim();
        if note.is_empty() {
            return Err(DomainError::Empty {
                field: "follow-up note",
            });
        }
        let kind = EventKind::FollowUpOpened {
            task,
            reason: FollowUpReason::Manual,
            note: Some(note.to_owned()),
        };
        Ok(self.record(actor, now, kind))
    }

    /// Records what the officer did (called back, rescheduled, explained...).
    pub fn follow_up_done(
        &mut self,
        task: i64,
        outcome: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        let outcome = outcome.trim();
        if outcome.is_empty() {
            return Err(DomainError::Empty {
                field: "follow-up outcome",
            });
        }
        let kind = EventKind::FollowUpDone {
            task,
            outcome: outcome.to_owned(),
        };
        Ok(self.record(actor, now, kind))
    }
}

impl ServiceRequest {
    /// Records a file staff attached (its bytes are stored beside the request).
    pub fn attachment_added(
        &mut self,
        media_id: &str,
        name: &str,
        content_type: &str,
        public: bool,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DomainError::Empty {
                field: "attachment name",
            });
        }
        let kind = EventKind::AttachmentAdded {
            media_id: media_id.to_owned(),
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            public,
        };
        Ok(self.record(actor, now, kind))
    }
}
