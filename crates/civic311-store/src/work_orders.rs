//! Work orders and the transactional outbox that hands them to field systems.
//!
//! A work order and its outbox message are written in the same transaction as the request's
//! `work_order_requested` event, so an order is never lost nor sent without a trace. Delivery
//! claims due messages under a short lease (several servers may deliver; each message goes to one
//! at a time), and records the outcome together with the work order and its request event.

use chrono::{DateTime, Duration, Utc};
use civic311_domain::{
    Actor, ServiceRequest, ServiceRequestId, WorkOrder, WorkOrderMessage, WorkOrderState,
};
use serde::Serialize;

use crate::intake::random_hex;
use crate::pool::dispatch;
use crate::{Result, Store};

/// The outbox topic of work orders.
pub const WORK_ORDER_TOPIC: &str = "work_order";
/// The outbox topic of messages to residents and departments (destination `email` or `sms`).
pub const NOTIFICATION_TOPIC: &str = "notification";

/// The outbox topic of reports mailed to a distribution list (destination `email`).
pub const REPORT_TOPIC: &str = "report";

/// A report mailed to one person, as queued: plain text for every mail reader, the report
/// itself as HTML beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReportMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A message to one person, as queued (see `civic311_domain::notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Notification {
    /// `email` or `sms`.
    pub channel: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub request_id: String,
}

/// A message waiting in (or gone from) the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    /// The field system (or other receiver) it goes to.
    pub destination: String,
    /// The same on every attempt, so a receiver that dedups sees each message once.
    pub idempotency_key: String,
    /// The JSON body, exactly as sent.
    pub payload: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The receiver took the message (and, for a work order, gave its own id).
    Delivered { external_id: Option<String> },
    /// Try again at `retry_at`, or never (`None`: the message is dead-lettered).
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// A signed update from a field system, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReport {
    pub system: String,
    /// Unique per update from that system; a replay is acknowledged and ignored.
    pub delivery_id: String,
    /// Our work order id, or the field system's own id for it.
    pub work_order: String,
    pub state: WorkOrderState,
    pub note: Option<String>,
    /// Whether completing the request's last open work order closes the request as resolved
    /// (the field system's setting).
    pub closes_request: bool,
}

/// What a field report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    Applied(WorkOrder),
    /// The same delivery id was received before: nothing changed.
    Replay,
}

impl Store {
    /// Queues `mail` under `key` unless a message with that key was queued before, whatever
    /// became of it: each report goes once to each recipient however often servers ask. True
    /// when queued now.
    pub async fn queue_report_mail(
        &self,
        key: &str,
        mail: &ReportMail,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, write, queue_report_mail(key, mail, now))
    }

    /// Whether a message was ever queued under `key`.
    pub async fn outbox_has(&self, key: &str) -> Result<bool> {
        dispatch!(self, read, outbox_has(key))
    }

    /// Queues a work order for `request` in `system`: the order, its outbox message and the
    /// request's event in one transaction. Refused for a closed request.
    pub async fn create_work_order(
        &self,
        request: &ServiceRequestId,
        system: &str,
        instructions: Option<String>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(WorkOrder, ServiceRequest)> {
        let order = WorkOrder {
            id: format!("wo_{}", random_hex(8)?),
            request_id: request.to_string(),
            system: system.to_owned(),
            state: WorkOrderState::Queued,
            external_id: None,
            instructions: instructions
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty()),
            created_at: now,
            updated_at: now,
        };
        dispatch!(self, write, create_work_order(order, actor, now))
    }

    pub async fn work_order(&self, id: &str) -> Result<Option<WorkOrder>> {
        dispatch!(self, read, work_order(id))
    }

    /// A request's work orders, oldest first.
    pub async fn work_orders_of(&self, request: &ServiceRequestId) -> Result<Vec<WorkOrder>> {
        dispatch!(self, read, work_orders_of(request.as_str()))
    }

    /// Every work order `system` has an id for (what reconciliation compares).
    pub async fn linked_work_orders(&self, system: &str) -> Result<Vec<(WorkOrder, String)>> {
        dispatch!(self, read, linked_work_orders(system))
    }

    /// Takes up to `limit` due messages for `worker` for `lease`; a message whose lease ran out
    /// (its worker died mid-delivery) is due again, which is why delivery is at least once.
    pub async fn claim_outbox(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>> {
        dispatch!(
            self,
            write,
            claim_outbox(worker, now, now + lease, i64::from(limit))
        )
    }

    /// Records how an attempt ended, with what it means for the work order and its request
    /// (linked with the external id, or failed for good), in one transaction.
    pub async fn finish_attempt(
        &self,
        message: &OutboxMessage,
        attempt: Attempt,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, write, finish_attempt(message, attempt, now))
    }

    /// Outbox messages in `state` (`pending`, `delivered`, `dead`), oldest first.
    pub async fn outbox(&self, state: &str, limit: u32) -> Result<Vec<OutboxMessage>> {
        dispatch!(self, read, outbox(state, i64::from(limit)))
    }

    /// Puts a dead letter back in the queue (after the receiver was fixed): attempts start over
    /// and its work order is queued again. Returns whether there was such a dead letter.
    pub async fn retry_dead_letter(
        &self,
        idempotency_key: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        dispatch!(self, write, retry_dead_letter(idempotency_key, now))
    }

    /// Applies a field system's update to its work order and the request's history, once per
    /// delivery id.
    pub async fn apply_field_report(
        &self,
        report: &FieldReport,
        now: DateTime<Utc>,
    ) -> Result<ReportOutcome> {
        dispatch!(self, write, apply_field_report(report, now))
    }
}

/// The body a field system receives for `order` of `request`.
pub(crate) fn work_order_payload(request: &ServiceRequest, order: &WorkOrder) -> Result<String> {
    serde_json::to_string(&WorkOrderMessage::new(request, order))
        .map_err(crate::StoreError::corrupt)
}
