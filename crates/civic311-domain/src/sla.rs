//! The SLA clock's consequences: due dates in the department's business time, and the
//! escalation chain for requests at risk or past due.
//!
//! Levels: 1 when [`EscalationPolicy::at_risk`] of the time to the due date is used (the
//! assignee, or the queue, is notified), 2 when the due date has passed (the supervisor), 3 when
//! [`EscalationPolicy::head_after`] of the time is used (the department head). Each level reached
//! is one `escalated` event; a sweep that finds a request two levels behind writes both.

use chrono::{DateTime, Duration, Utc};

use crate::{
    Actor, BusinessCalendar, DomainError, EventKind, HoldReason, RequestEvent, Service,
    ServiceRequest, SlaTarget, SlaUnit, Status,
};

/// When to escalate, as shares of the time between receipt and due date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EscalationPolicy {
    pub at_risk: f64,
    pub head_after: f64,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            at_risk: 0.8,
            head_after: 1.5,
        }
    }
}

/// Who each level notifies.
pub const LEVELS: [&str; 3] = ["assignee", "supervisor", "department head"];

impl EscalationPolicy {
    /// The level a request received at `received` and due at `due` has reached at `now`.
    pub fn level(&self, received: DateTime<Utc>, due: DateTime<Utc>, now: DateTime<Utc>) -> u8 {
        let allowed = (due - received).num_seconds().max(1) as f64;
        let used = (now - received).num_seconds() as f64 / allowed;
        if used >= self.head_after {
            3
        } else if now > due {
            2
        } else if used >= self.at_risk {
            1
        } else {
            0
        }
    }

    /// When a request reaches `level`.
    pub fn reached_at(
        &self,
        received: DateTime<Utc>,
        due: DateTime<Utc>,
        level: u8,
    ) -> DateTime<Utc> {
        let allowed = due - received;
        let share =
            |f: f64| received + Duration::seconds((allowed.num_seconds() as f64 * f) as i64);
        match level {
            0 => received,
            1 => share(self.at_risk),
            2 => due + Duration::seconds(1),
            _ => share(self.head_after),
        }
    }
}

/// The due date of a request received at `received` under `target`: calendar days need no
/// calendar; business days and hours need the department's, and are `None` without one.
pub fn due_date(
    target: Option<SlaTarget>,
    calendar: Option<&BusinessCalendar>,
    received: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let target = target?;
    match (target.unit, calendar) {
        (SlaUnit::CalendarDays, _) => Some(received + Duration::days(i64::from(target.amount))),
        (_, Some(c)) => Some(c.due(received, target)),
        (_, None) => None,
    }
}

/// Whether the SLA clock stands still in `status`: while the city waits on the resident or for
/// a scheduled appointment, the time is not the department's.
pub fn clock_stopped(status: Status) -> bool {
    matches!(
        status,
        Status::OnHold(HoldReason::WaitingOnResident | HoldReason::AppointmentScheduled)
    )
}

impl ServiceRequest {
    /// [`ServiceRequest::change_status`] with the SLA clock: entering a status that stops it
    /// records `sla_paused`; leaving one records `sla_resumed` and moves the due date on by the
    /// time stopped (`paused_since` is when the clock stopped, from the history), logged as
    /// `due_date_changed`.
    pub fn change_status_on_the_clock(
        &mut self,
        to: Status,
        paused_since: Option<DateTime<Utc>>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestEvent>, DomainError> {
        let from = self.status;
        let mut events = vec![self.change_status(to, actor, now)?];
        match (clock_stopped(from), clock_stopped(to)) {
            (false, true) => {
                let reason = to.reason().unwrap_or("on hold").replace('_', " ");
                events.push(self.record(Actor::System, now, EventKind::SlaPaused { reason }));
            }
            (true, false) => {
                events.push(self.record(Actor::System, now, EventKind::SlaResumed));
                if let (Some(since), Some(due)) = (paused_since, self.due_at) {
                    let stopped = now - since;
                    if stopped > Duration::zero() {
                        let moved = due + stopped;
                        self.due_at = Some(moved);
                        let reason = format!(
                            "the clock stood still for {} h {} min ({})",
                            stopped.num_hours(),
                            stopped.num_minutes() % 60,
                            from.reason().unwrap_or("on hold").replace('_', " ")
                        );
                        events.push(self.record(
                            Actor::System,
                            now,
                            EventKind::DueDateChanged {
                                from: Some(due),
                                to: Some(moved),
                                reason,
                            },
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(events)
    }

    /// Files the request under another service (it was filed under the wrong one). The due date
    /// is recomputed from the original receipt under the new service's target (in `calendar`,
    /// the department's), logged as `due_date_changed`; the answers to the old service's
    /// questions are kept as they were given.
    pub fn reclassify(
        &mut self,
        service: &Service,
        calendar: Option<&BusinessCalendar>,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestEvent>, DomainError> {
        if self.status.is_closed() {
            return Err(DomainError::Closed);
        }
        if !service.active {
            return Err(DomainError::ServiceInactive(service.code.to_string()));
        }
        if service.code == self.service_code {
            return Err(DomainError::NoChange(self.status));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::Empty {
                field: "reclassification reason",
            });
        }
        let from = std::mem::replace(&mut self.service_code, service.code.clone());
        let mut events = vec![self.record(
            actor,
            now,
            EventKind::Reclassified {
                from: from.clone(),
                to: service.code.clone(),
                reason: reason.to_owned(),
            },
        )];
        let due = due_date(service.sla_for(self.priority), calendar, self.created_at);
        if due != self.due_at {
            let before = std::mem::replace(&mut self.due_at, due);
            events.push(self.record(
                Actor::System,
                now,
                EventKind::DueDateChanged {
                    from: before,
                    to: due,
                    reason: format!("reclassified from {from} to {}", service.code),
                },
            ));
        }
        Ok(events)
    }

    /// Changes the priority (triage). When the service's target differs by priority, the due
    /// date is recomputed from receipt under the new one and logged as `due_date_changed`.
    pub fn reprioritize(
        &mut self,
        to: crate::Priority,
        service: &Service,
        calendar: Option<&BusinessCalendar>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestEvent>, DomainError> {
        if service.code != self.service_code {
            return Err(DomainError::UnknownService(service.code.to_string()));
        }
        let from = self.priority;
        let mut events = vec![self.set_priority(to, actor, now)?];
        if service.sla_for(from) != service.sla_for(to) {
            let due = due_date(service.sla_for(to), calendar, self.created_at);
            let before = std::mem::replace(&mut self.due_at, due);
            events.push(self.record(
                Actor::System,
                now,
                EventKind::DueDateChanged {
                    from: before,
                    to: due,
                    reason: format!("priority changed from {from} to {to}"),
                },
            ));
        }
        Ok(events)
    }

    /// The `escalated` events that take the request from level `from` to `to`, each stamped
    /// when its level was reached (never after `now`). Closed requests are not escalated.
    pub fn escalate(
        &mut self,
        from: u8,
        to: u8,
        policy: &EscalationPolicy,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestEvent>, DomainError> {
        if self.status.is_closed() {
            return Err(DomainError::InvalidTransition {
                from: self.status,
                to: self.status,
            });
        }
        let Some(due) = self.due_at else {
            return Ok(Vec::new());
        };
        let received = self.created_at;
        let who = self
            .assignee
            .clone()
            .or_else(|| self.department.as_ref().map(|d| d.to_string()))
            .unwrap_or_else(|| "311 supervisor".into());
        let mut events = Vec::new();
        for level in (from + 1)..=to.min(3) {
            let at = policy.reached_at(received, due, level).min(now);
            let notified = match level {
                1 => format!("{} ({who})", LEVELS[0]),
                2 => format!("{} of {who}", LEVELS[1]),
                _ => format!(
                    "{} of {}",
                    LEVELS[2],
                    self.department.as_ref().map_or("311", |d| d.as_str())
                ),
            };
            let reason = match level {
                1 => format!(
                    "{:.0}% of the time to the due date {due} is used",
                    policy.at_risk * 100.0
                ),
                2 => format!("past the due date {due}"),
                _ => format!("past the due date {due} by half the time allowed"),
            };
            events.push(self.record(
                Actor::System,
                at,
                EventKind::Escalated {
                    level,
                    notified,
                    reason,
                },
            ));
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn levels_follow_the_time_used() {
        let p = EscalationPolicy::default();
        let received = Utc.with_ymd_and_hms(2024, 5, 1, 9, 0, 0).unwrap();
        let due = received + Duration::days(10);
        let at = |days: f64| received + Duration::minutes((days * 1440.0) as i64);
        assert_eq!(p.level(received, due, at(7.9)), 0);
        assert_eq!(p.level(received, due, at(8.0)), 1);
        assert_eq!(p.level(received, due, at(10.0)), 1);
        assert_eq!(p.level(received, due, at(10.01)), 2);
        assert_eq!(p.level(received, due, at(15.0)), 3);
        for level in 1..=3 {
            let t = p.reached_at(received, due, level);
            assert_eq!(p.level(received, due, t), level, "{t}");
        }
    }

    #[test]
    fn due_dates_need_a_calendar_for_business_time() {
        let t = |amount, unit| Some(SlaTarget { amount, unit });
        let received = Utc.with_ymd_and_hms(2024, 5, 3, 21, 30, 0).unwrap();
        assert_eq!(
            due_date(t(3, SlaUnit::CalendarDays), None, received),
            Some(received + Duration::days(3))
        );
        assert_eq!(due_date(t(8, SlaUnit::BusinessHours), None, received), None);
        assert_eq!(due_date(None, None, received), None);
    }
}
