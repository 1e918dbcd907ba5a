//! Background jobs a server runs beside the HTTP API. Every server runs the loop; the store's
//! job lease lets one at a time do the work, so several servers on one PostgreSQL are safe.

use std::time::Duration;

use civic311_domain::sla::EscalationPolicy;
use civic311_store::Store;

/// How often the escalation sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Runs the SLA escalation sweep every minute until the process ends.
pub fn spawn_sla_sweeps(store: Store) {
    let worker = format!("civic311-{}", std::process::id());
    tokio::spawn(async move {
        let policy = EscalationPolicy::default();
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            match store.sweep_sla(&worker, &policy, chrono::Utc::now()).await {
                Ok(Some(r)) if r.events > 0 => tracing::info!(
                    checked = r.checked,
                    escalated = r.escalated,
                    events = r.events,
                    "SLA sweep escalated requests"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SLA sweep failed; retrying in a minute"),
            }
        }
    });
}
