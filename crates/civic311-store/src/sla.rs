//! The SLA engine's background work: business calendars, and the escalation sweep that one
//! server at a time runs (a lease in the `jobs` table decides which).

use chrono::{DateTime, Duration, Utc};
use civic311_domain::sla::EscalationPolicy;
use civic311_domain::{BusinessCalendar, DepartmentCode};

use crate::pool::dispatch;
use crate::{Result, Store};

/// Requests escalated per write transaction.
const ESCALATIONS_PER_TRANSACTION: usize = 200;
const SWEEP: &str = "sla-sweep";

/// What one escalation sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Open requests with a due date looked at.
    pub checked: usize,
    /// Requests that reached a new level.
    pub escalated: usize,
    /// `escalated` events written (a request two levels behind gets two).
    pub events: usize,
}

/// SLA attainment, counted honestly: a request still open past its due date is a breach, not
/// left out. Only requests with a due date count; those closed as duplicates are left out (their
/// parent carries the work).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlaAttainment {
    /// Closed by the due date.
    pub met: i64,
    /// Closed after the due date.
    pub closed_late: i64,
    /// Still open and past due: breaches already.
    pub open_overdue: i64,
    /// Still open, not yet due: not counted either way.
    pub open_on_time: i64,
}

impl SlaAttainment {
    /// Met / (met + closed late + open overdue); `None` before any request could be judged.
    pub fn rate(&self) -> Option<f64> {
        let judged = self.met + self.closed_late + self.open_overdue;
        (judged > 0).then(|| self.met as f64 / judged as f64)
    }
}

impl Store {
    /// SLA attainment at `now` over every request with a due date.
    pub async fn sla_attainment(&self, now: DateTime<Utc>) -> Result<SlaAttainment> {
        dispatch!(self, read, sla_attainment(now))
    }

    /// Sets a department's business calendar, or the city's (used by departments without one)
    /// when `department` is `None`. Due dates in business time are computed with it at intake.
    pub async fn set_calendar(
        &self,
        department: Option<&DepartmentCode>,
        calendar: &BusinessCalendar,
    ) -> Result<()> {
        dispatch!(
            self,
            write,
            set_calendar(department.map_or("*", |d| d.as_str()), calendar)
        )
    }

    /// The calendar a department works by: its own, else the city's.
    pub async fn calendar(
        &self,
        department: Option<&DepartmentCode>,
    ) -> Result<Option<BusinessCalendar>> {
        dispatch!(self, read, calendar(department.map(|d| d.as_str())))
    }

    /// Escalates every open request that reached a new level by `now` (see
    /// [`EscalationPolicy`]), if `worker` gets the sweep's lease; `None` when another server
    /// holds it. Safe to run from every server: the lease lets one at a time through, and a
    /// request's level is re-read under its write before escalating, so none is escalated twice.
    pub async fn sweep_sla(
        &self,
        worker: &str,
        policy: &EscalationPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<SweepReport>> {
        let until = now + Duration::minutes(5);
        if !dispatch!(self, write, take_lease(SWEEP, worker, now, until))? {
            return Ok(None);
        }
        let result = self.sweep(policy, now).await;
        let summary = match &result {
            Ok(r) => format!(
                "checked {} escalated {} events {}",
                r.checked, r.escalated, r.events
            ),
            Err(e) => format!("failed: {e}"),
        };
        dispatch!(self, write, release_lease(SWEEP, worker, now, &summary))?;
        result.map(Some)
    }

    async fn sweep(&self, policy: &EscalationPolicy, now: DateTime<Utc>) -> Result<SweepReport> {
        let candidates = dispatch!(self, read, escalation_candidates())?;
        let due: Vec<(String, u8, u8)> = candidates
            .iter()
            .filter_map(|(id, received, due, level)| {
                let level = u8::try_from(*level).unwrap_or(0);
                let reached = policy.level(*received, *due, now);
                (reached > level).then(|| (id.clone(), level, reached))
            })
            .collect();
        let mut report = SweepReport {
            checked: candidates.len(),
            ..SweepReport::default()
        };
        for chunk in due.chunks(ESCALATIONS_PER_TRANSACTION) {
            let (requests, events) = dispatch!(self, write, escalate(chunk, policy, now))?;
            report.escalated += requests;
            report.events += events;
        }
        Ok(report)
    }
}
