//! Field systems (Cityworks-like work-order and asset systems): handing work orders over through
//! the outbox (`deliver`), taking their signed updates (`webhook`), and finding where their state
//! and ours disagree (`reconcile`). The wire contract is in docs/WORK_ORDERS.md.

mod deliver;
mod reconcile;
pub mod signing;
mod webhook;

use std::time::Duration;

pub use deliver::{DeliveryReport, deliver_due};
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

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
