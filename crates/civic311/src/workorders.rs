//! `civic311 outbox` and `civic311 workorders`: the outbox and field systems from the command
//! line.

use anyhow::{Result, anyhow, bail};
use civic311_domain::Backoff;
use civic311_store::Store;
use civic311_web::outbound::{Outbound, deliver_due, reconcile};

use crate::cli::{OutboxAction, WorkorderAction};

pub async fn outbox(store: &Store, outbound: &Outbound, action: OutboxAction) -> Result<()> {
    let now = chrono::Utc::now();
    match action {
        OutboxAction::Deliver => {
            let worker = format!("cli-{}", std::process::id());
            let client = reqwest::Client::new();
            let r =
                deliver_due(store, outbound, &client, &Backoff::default(), &worker, now).await?;
            println!(
                "delivered {}, failed and retrying later {}, dead letters {}",
                r.delivered, r.retrying, r.dead
            );
        }
        OutboxAction::DeadLetters => {
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
        OutboxAction::Retry { key } => {
            if !store.retry_dead_letter(&key, now).await? {
                bail!("no dead letter has the key {key:?} (see `civic311 outbox dead-letters`)");
            }
            println!("{key} queued again");
        }
    }
    Ok(())
}

pub async fn run(store: &Store, outbound: &Outbound, action: WorkorderAction) -> Result<()> {
    match action {
        WorkorderAction::Reconcile { system, json } => {
            let field = outbound.field_systems.get(&system).ok_or_else(|| {
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
