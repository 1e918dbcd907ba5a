//! `civic311 workorders`: the outbox and field systems from the command line.

use anyhow::{Result, anyhow, bail};
use civic311_domain::Backoff;
use civic311_store::Store;
use civic311_web::fieldwork::{FieldSystems, deliver_due, reconcile};

use crate::cli::WorkorderAction;

pub async fn run(store: &Store, systems: &FieldSystems, action: WorkorderAction) -> Result<()> {
    let now = chrono::Utc::now();
    match action {
        WorkorderAction::Deliver => {
            let worker = format!("cli-{}", std::process::id());
            let client = reqwest::Client::new();
            let r = deliver_due(store, systems, &client, &Backoff::default(), &worker, now).await?;
            println!(
                "delivered {}, failed and retrying later {}, dead letters {}",
                r.delivered, r.retrying, r.dead
            );
        }
        WorkorderAction::DeadLetters => {
            let dead = store.outbox("dead", 10_000).await?;
            for m in &dead {
                println!(
                    "{}\t{}\t{} attempt(s)\t{}",
                    m.idempotency_key,
                    m.destination,
                    m.attempts,
                    m.last_error.as_deref().unwrap_or("")
                );
            }
            eprintln!("{} dead letter(s)", dead.len());
        }
        WorkorderAction::Retry { key } => {
            if !store.retry_dead_letter(&key, now).await? {
                bail!(
                    "no dead letter has the key {key:?} (see `civic311 workorders dead-letters`)"
                );
            }
            println!("{key} queued again");
        }
        WorkorderAction::Reconcile { system, json } => {
            let field = systems.get(&system).ok_or_else(|| {
                anyhow!("no field system named {system:?} is configured (see [[field_systems]])")
            })?;
            let found = reconcile(store, field, &reqwest::Client::new()).await?;
            for d in &found {
                if json {
                    println!("{}", serde_json::to_string(d)?);
                } else {
                    println!(
                        "{}\t{}\t{}\tours {} / request {}\ttheirs {}\t{}",
                        d.request_id,
                        d.work_order,
                        d.external_id,
                        d.ours,
                        d.request_status,
                        d.theirs.as_deref().unwrap_or("-"),
                        d.reason
                    );
                }
            }
            if !found.is_empty() {
                bail!("{} work order(s) disagree with {system}", found.len());
            }
            eprintln!("every work order agrees with {system}");
        }
    }
    Ok(())
}
