//! Work orders in external field and asset systems (Cityworks-like). A request asks a field
//! system for work; the order is handed over at least once through an outbox, the field system
//! reports back what happened to it, and every step is an event on the request.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Actor, DomainError, EventKind, RequestEvent, ServiceRequest};

/// Where a work order stands, as far as civic311 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkOrderState {
    /// Waiting in the outbox to be handed over.
    Queued,
    /// The field system accepted it (it has an external id).
    Sent,
    /// A crew is on it.
    InProgress,
    Completed,
    Cancelled,
    /// Handing it over failed for good (dead letter); staff decide what next.
    Failed,
}

impl WorkOrderState {
    pub const ALL: [WorkOrderState; 6] = [
        Self::Queued,
        Self::Sent,
        Self::InProgress,
        Self::Completed,
        Self::Cancelled,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
        }
    }

    /// Completed and cancelled orders do not change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// Whether the field system may report `to` for an order in this state. A report may arrive
    /// before our delivery recorded the acceptance (the receiver answered, the answer was lost),
    /// so a queued or failed order can move too; a final order stays final.
    pub fn check_report(self, to: WorkOrderState) -> Result<(), DomainError> {
        let reportable = matches!(
            to,
            Self::Sent | Self::InProgress | Self::Completed | Self::Cancelled
        );
        if !reportable || self.is_final() {
            return Err(DomainError::InvalidWorkOrderReport {
                from: self.as_str(),
                to: to.as_str(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for WorkOrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkOrderState {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| DomainError::UnknownCode {
                kind: "work order state",
                value: s.to_owned(),
            })
    }
}

/// A work order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkOrder {
    /// Ours, and the idempotency key the field system sees on every delivery attempt.
    pub id: String,
    pub request_id: String,
    /// The field system's name in the configuration.
    pub system: String,
    pub state: WorkOrderState,
    pub external_id: Option<String>,
    pub instructions: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a field system receives for a work order: where, what, and what the request says;
/// never who asked (the requester's personal data stays with the city).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkOrderMessage {
    pub work_order_id: String,
    pub request_id: String,
    pub service_code: String,
    pub department: Option<String>,
    pub description: Option<String>,
    pub instructions: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub requested_at: DateTime<Utc>,
}

impl WorkOrderMessage {
    pub fn new(request: &ServiceRequest, order: &WorkOrder) -> Self {
        let point = request.location.point;
        Self {
            work_order_id: order.id.clone(),
            request_id: request.id.to_string(),
            service_code: request.service_code.to_string(),
            department: request.department.as_ref().map(ToString::to_string),
            description: request.description.clone(),
            instructions: order.instructions.clone(),
            address: request.location.address.clone(),
            lat: point.map(|p| p.lat()),
            long: point.map(|p| p.long()),
            requested_at: order.created_at,
        }
    }
}

/// When to try a failed delivery again: exponential backoff (`base`, doubling, capped at `max`)
/// with a jitter of up to a quarter of the delay taken from the message's key, so messages that
/// failed together do not all come back together; after `max_attempts`, a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 30 s, 1 min, 2 min ... capped at 1 h; 12 attempts span about 5 hours.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            max_attempts: 12,
        }
    }
}

impl Backoff {
    /// The wait before the next attempt after `attempts` failed ones, or `None` when the
    /// message is to be dead-lettered.
    pub fn after_failure(&self, attempts: u32, key: &str) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doubling = 2u32.saturating_pow(attempts.saturating_sub(1));
        let delay = self.base.saturating_mul(doubling).min(self.max);
        // FNV-1a of the key: a stable jitter in [0, delay / 4).
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let quarter = delay.as_millis() / 4;
        let jitter = u64::try_from(u128::from(hash) % quarter.max(1)).unwrap_or(0);
        Some(delay + Duration::from_millis(jitter))
    }
}

impl ServiceRequest {
    /// Asks `system` for work on this request. The order is queued for delivery in the same
    /// transaction as this event (the outbox), so it cannot be lost or sent without a trace.
    pub fn request_work_order(
        &mut self,
        work_order: &str,
        system: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        if self.status.is_closed() {
            return Err(DomainError::Closed);
        }
        Ok(self.record(
            actor,
            now,
            EventKind::WorkOrderRequested {
                work_order: work_order.to_owned(),
                system: system.to_owned(),
            },
        ))
    }

    /// The field system's side of a work order: accepted (with its id), started, finished,
    /// cancelled; or, from the outbox, failed for good.
    pub fn work_order_changed(
        &mut self,
        order: &WorkOrder,
        to: WorkOrderState,
        detail: Option<String>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> RequestEvent {
        let kind = match to {
            WorkOrderState::Sent => EventKind::WorkOrderLinked {
                system: order.system.clone(),
                external_id: order.external_id.clone().unwrap_or_default(),
                work_order: Some(order.id.clone()),
            },
            WorkOrderState::Failed => EventKind::WorkOrderFailed {
                work_order: order.id.clone(),
                system: order.system.clone(),
                error: detail.unwrap_or_default(),
            },
            _ => EventKind::WorkOrderUpdated {
                work_order: order.id.clone(),
                system: order.system.clone(),
                state: to,
                note: detail,
            },
        };
        self.record(actor, now, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_gives_up() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            max_attempts: 5,
        };
        let waits: Vec<_> = (1..=5).map(|n| b.after_failure(n, "wo_1")).collect();
        for (n, base) in [(0, 10), (1, 20), (2, 40), (3, 60)] {
            let w = waits[n].unwrap();
            assert!(
                w >= Duration::from_secs(base) && w < Duration::from_secs(base) * 5 / 4,
                "attempt {}: {w:?}",
                n + 1
            );
        }
        assert_eq!(waits[4], None, "dead letter after max_attempts");
        // Jitter comes from the key: stable for one key, spread across keys.
        assert_eq!(b.after_failure(2, "wo_1"), b.after_failure(2, "wo_1"));
        let spread: std::collections::BTreeSet<_> = (0..50)
            .map(|i| b.after_failure(2, &format!("wo_{i}")))
            .collect();
        assert!(spread.len() > 10, "{spread:?}");
    }

    #[test]
    fn final_orders_take_no_reports() {
        use WorkOrderState::*;
        assert!(Sent.check_report(Completed).is_ok());
        assert!(Queued.check_report(InProgress).is_ok());
        assert!(Failed.check_report(Sent).is_ok());
        assert!(Completed.check_report(InProgress).is_err());
        assert!(Cancelled.check_report(Completed).is_err());
        assert!(Sent.check_report(Queued).is_err());
        assert!(Sent.check_report(Failed).is_err());
        for s in WorkOrderState::ALL {
            assert_eq!(s.as_str().parse::<WorkOrderState>().unwrap(), s);
        }
    }
}
