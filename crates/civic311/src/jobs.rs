//! Background jobs a server runs beside the HTTP API. Every server runs the loop; the store's
//! job lease lets one at a time do the work, so several servers on one PostgreSQL are safe.

use std::time::Duration;

use civic311_domain::Backoff;
use civic311_domain::sla::EscalationPolicy;
use civic311_report::mailing::{Due, Mailing, queue_monthly};
use civic311_store::Store;
use civic311_web::outbound::{Outbound, deliver_due};

/// How often the escalation sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often the outbox is looked at for due messages.
const DELIVER_EVERY: Duration = Duration::from_secs(10);
/// How often servers ask whether the monthly report is due.
const REPORTS_EVERY: Duration = Duration::from_secs(600);

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

/// Hands due outbox messages (work orders, notifications) to where they go every 10 seconds.
/// Each message is leased to one server at a time (see `Store::claim_outbox`).
pub fn spawn_deliveries(store: Store, outbound: Outbound) {
    let worker = format!("civic311-{}", std::process::id());
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let backoff = Backoff::default();
        let mut every = tokio::time::interval(DELIVER_EVERY);
        loop {
            every.tick().await;
            let now = chrono::Utc::now();
            match deliver_due(&store, &outbound, &client, &backoff, &worker, now).await {
                Ok(r) if r.delivered + r.retrying + r.dead > 0 => tracing::info!(
                    delivered = r.delivered,
                    retrying = r.retrying,
                    dead = r.dead,
                    "outbox delivered"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "work order delivery failed; retrying"),
            }
        }
    });
}

/// Queues the monthly report for its distribution list once it is due (every ten minutes a
/// server asks; each recipient gets each month's report once, see `civic311_report::mailing`).
pub fn spawn_monthly_reports(store: Store, mailing: Mailing) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REPORTS_EVERY);
        loop {
            every.tick().await;
            match queue_monthly(&store, &mailing, chrono::Utc::now()).await {
                Ok(Due::Queued { month, queued, .. }) if queued > 0 => {
                    tracing::info!(%month, queued, "monthly report queued for mailing");
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "monthly report failed; retrying in ten minutes");
                }
            }
        }
    });
}
