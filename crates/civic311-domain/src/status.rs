//! The status of a request and which moves between statuses are allowed.
//!
//! ```text
//!   Open ⇄ InProgress ⇄ OnHold      (any of the three can move to any other)
//!     └──────┴───────────┴──→ Closed(reason) ──reopen──→ Open
//! ```
//! A closed request only leaves `Closed` through [`crate::ServiceRequest::reopen`], which is its
//! own event so that reopen rates can be counted.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Why a request is waiting. While on hold the SLA clock may stop (see the SLA engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    WaitingOnResident,
    AppointmentScheduled,
    WaitingOnThirdParty,
}

/// Why a request was closed. Closing without a reason is not representable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// The city did the work.
    Resolved,
    /// Merged into another request that tracks the same problem.
    Duplicate,
    /// Withdrawn by the resident or entered in error.
    Cancelled,
    /// Inspected; nothing to do (e.g. no violation found).
    NoActionNeeded,
    /// Handed to another agency outside this system.
    Referred,
    /// The crew could not find the problem at the given location.
    UnableToLocate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Status {
    Open,
    InProgress,
    OnHold(HoldReason),
    Closed(ClosureReason),
}

impl Status {
    pub fn is_closed(&self) -> bool {
        matches!(self, Status::Closed(_))
    }

    /// The coarse state name stored in the `status` column and shown on the wire.
    pub fn state(&self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::OnHold(_) => "on_hold",
            Status::Closed(_) => "closed",
        }
    }

    /// The reason that qualifies the state, if any, as stored in `status_reason`.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Status::OnHold(r) => Some(match r {
                HoldReason::WaitingOnResident => "waiting_on_resident",
                HoldReason::AppointmentScheduled => "appointment_scheduled",
                HoldReason::WaitingOnThirdParty => "waiting_on_third_party",
            }),
            Status::Closed(r) => Some(match r {
                ClosureReason::Resolved => "resolved",
                ClosureReason::Duplicate => "duplicate",
                ClosureReason::Cancelled => "cancelled",
                ClosureReason::NoActionNeeded => "no_action_needed",
                ClosureReason::Referred => "referred",
                ClosureReason::UnableToLocate => "unable_to_locate",
            }),
            _ => None,
        }
    }

    /// Rebuilds a status from its stored columns; `None` when they do not form a valid status
    /// (e.g. `closed` without a reason).
    pub fn from_parts(state: &str, reason: Option<&str>) -> Option<Status> {
        let hold = |r: &str| match r {
            "waiting_on_resident" => Some(HoldReason::WaitingOnResident),
            "appointment_scheduled" => Some(HoldReason::AppointmentScheduled),
            "waiting_on_third_party" => Some(HoldReason::WaitingOnThirdParty),
            _ => None,
        };
        let closure = |r: &str| match r {
            "resolved" => Some(ClosureReason::Resolved),
            "duplicate" => Some(ClosureReason::Duplicate),
            "cancelled" => Some(ClosureReason::Cancelled),
            "no_action_needed" => Some(ClosureReason::NoActionNeeded),
            "referred" => Some(ClosureReason::Referred),
            "unable_to_locate" => Some(ClosureReason::UnableToLocate),
            _ => None,
        };
        match (state, reason) {
            ("open", None) => Some(Status::Open),
            ("in_progress", None) => Some(Status::InProgress),
            ("on_hold", Some(r)) => hold(r).map(Status::OnHold),
            ("closed", Some(r)) => closure(r).map(Status::Closed),
            _ => None,
        }
    }

    /// Like [`Status::from_parts`], with an error that names both parts.
    pub fn parse(state: &str, reason: Option<&str>) -> Result<Status, DomainError> {
        Status::from_parts(state, reason).ok_or_else(|| DomainError::InvalidStatus {
            state: state.to_owned(),
            reason: reason.map(str::to_owned),
        })
    }

    /// Checks a direct status change. Reopening is not a status change: see `reopen`.
    pub fn check_transition(self, to: Status) -> Result<(), DomainError> {
        if self == to {
            return Err(DomainError::NoChange(self));
        }
        if self.is_closed() {
            return Err(DomainError::InvalidTransition { from: self, to });
        }
        if to == Status::Closed(ClosureReason::Duplicate) {
            // Only a merge closes a request as a duplicate, so the parent is always known.
            return Err(DomainError::InvalidTransition { from: self, to });
        }
        Ok(())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason() {
            Some(r) => write!(f, "{} ({r})", self.state()),
            None => f.write_str(self.state()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_status() -> impl Strategy<Value = Status> {
        prop_oneof![
            Just(Status::Open),
            Just(Status::InProgress),
            Just(Status::OnHold(HoldReason::WaitingOnResident)),
            Just(Status::OnHold(HoldReason::AppointmentScheduled)),
            Just(Status::OnHold(HoldReason::WaitingOnThirdParty)),
            Just(Status::Closed(ClosureReason::Resolved)),
            Just(Status::Closed(ClosureReason::Duplicate)),
            Just(Status::Closed(ClosureReason::Cancelled)),
            Just(Status::Closed(ClosureReason::NoActionNeeded)),
            Just(Status::Closed(ClosureReason::Referred)),
            Just(Status::Closed(ClosureReason::UnableToLocate)),
        ]
    }

    proptest! {
        #[test]
        fn stored_parts_round_trip(s in any_status()) {
            prop_assert_eq!(Status::from_parts(s.state(), s.reason()), Some(s));
        }

        #[test]
        fn closed_is_final_for_plain_transitions(reason in any_status(), to in any_status()) {
            if let Status::Closed(_) = reason {
                prop_assert!(reason.check_transition(to).is_err());
            }
        }

        #[test]
        fn open_states_may_move_anywhere_but_duplicate(from in any_status(), to in any_status()) {
            let allowed = !from.is_closed() && from != to
                && to != Status::Closed(ClosureReason::Duplicate);
            prop_assert_eq!(from.check_transition(to).is_ok(), allowed);
        }
    }

    #[test]
    fn closed_needs_a_reason_in_storage() {
        assert_eq!(Status::from_parts("closed", None), None);
        assert_eq!(Status::from_parts("open", Some("resolved")), None);
        assert_eq!(Status::from_parts("closed", Some("nonsense")), None);
    }
}
