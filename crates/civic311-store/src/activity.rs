//! What happened in a period, from the event log and the contact log (not a cohort: an
//! escalation counts in the month it happened, whenever its request was filed).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::pool::dispatch;
use crate::{Result, Store};

/// Counts of events and contacts in `[from, before)`, by their own time (docs/METRICS.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Calls and messages answered without a service request.
    pub informational_contacts: i64,
    /// SLA escalations (every level counts).
    pub escalations: i64,
    /// Requests moved after their first routing.
    pub reassignments: i64,
    /// Reassignments to another department: the first routing was wrong.
    pub misroutes: i64,
    pub reopened: i64,
    /// Satisfaction surveys answered with a score (1 to 5).
    pub surveys_answered: i64,
    /// Of those, scored 1 or 2.
    pub dissatisfied: i64,
}

impl Store {
    /// What happened between `from` and `before`, through the event log's (kind, time) index.
    pub async fn activity(&self, from: DateTime<Utc>, before: DateTime<Utc>) -> Result<Activity> {
        dispatch!(self, read, activity(from, before))
    }
}
