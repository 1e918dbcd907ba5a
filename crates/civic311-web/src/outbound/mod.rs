//! What civic311 sends out through the outbox, and what comes back: work orders to field
//! systems (Cityworks-like work-order and asset systems) and their signed updates (`webhook`),
//! reconciliation with them (`reconcile`), and notifications by e-mail (`mail`) or through an SMS
//! gateway. `deliver` hands every due outbox message to where it goes. The wire contracts are in
//! docs/WORK_ORDERS.md and docs/NOTIFICATIONS.md.

mod deliver;
mod mail;
mod reconcile;
pub mod signing;
mod webhook;

use std::time::Duration;

pub use deliver::{DeliveryReport, deliver_due};
pub use mail::{Mailer, is_mail_address};
pub use reconcile::{Disagreement, reconcile};
pub use webhook::receive;

/// A field system civic311 sends work orders to and takes updates from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSystem {
    /// Its name in requests' histories and in the webhook's URL.
    pub name: String,
    /// Work orders are POSTed here; `{endpoint}/{external_id}` answers a work order's state.
    pub endpoint: String,
    /// Shared secret for HMAC signatures, both ways.
    pub secret: String,
    /// Completing a request's last open work order closes the request as resolved.
    pub closes_requests: bool,
    /// How long one delivery may take before it counts as failed (and is retried).
    pub timeout: Duration,
}

/// The configured field systems, by name.
#[derive(Debug, Clone, Default)]
pub struct FieldSystems(Vec<FieldSystem>);

impl FieldSystems {
    pub fn new(systems: Vec<FieldSystem>) -> Self {
        Self(systems)
    }

    pub fn get(&self, name: &str) -> Option<&FieldSystem> {
        self.0.iter().find(|s| s.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|s| s.name.as_str())
    }
}

/// Everywhere the outbox delivers to.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    pub field_systems: FieldSystems,
    /// E-mail notifications; without it they are dead-lettered with the reason.
    pub mailer: Option<Mailer>,
    /// Text messages to residents who left only a phone number: POSTed, signed, to this gateway.
    pub sms: Option<FieldSystem>,
}

impl From<FieldSystems> for Outbound {
    fn from(field_systems: FieldSystems) -> Self {
        Outbound {
            field_systems,
            ..Outbound::default()
        }
    }
}
