//! Hands due outbox messages to their field systems: at least once, the same idempotency key on
//! every attempt, exponential backoff after a failure, a dead letter when a receiver refuses a
//! message for good or never takes it.

use chrono::{DateTime, Utc};
use civic311_domain::Backoff;
use civic311_store::{
    Attempt, NOTIFICATION_TOPIC, Notification, OutboxMessage, REPORT_TOPIC, ReportMail, Store,
    StoreError,
};
use serde::Deserialize;

use super::signing::signed;
use super::{FieldSystem, Outbound};

/// Messages one round takes at most, and how long it holds them.
const BATCH: u32 = 100;
const LEASE_SECS: i64 = 300;

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: usize,
    /// Failed this time; due again after their backoff.
    pub retrying: usize,
    /// Dead letters: refused for good, or out of attempts.
    pub dead: usize,
}

/// What a receiver may answer when it takes a work order.
#[derive(Deserialize)]
struct Accepted {
    external_id: Option<String>,
}

/// Delivers every message due at `now` (rounds of up to 100) as `worker`.
pub async fn deliver_due(
    store: &Store,
    outbound: &Outbound,
    client: &reqwest::Client,
    backoff: &Backoff,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<DeliveryReport, StoreError> {
    let mut report = DeliveryReport::default();
    loop {
        let lease = chrono::Duration::seconds(LEASE_SECS);
        let batch = store.claim_outbox(worker, now, lease, BATCH).await?;
        if batch.is_empty() {
            return Ok(report);
        }
        for message in &batch {
            let sent = if message.topic == NOTIFICATION_TOPIC {
                notify(outbound, client, message).await.map(|()| None)
            } else if message.topic == REPORT_TOPIC {
                mail_report(outbound, message).await.map(|()| None)
            } else {
                send(outbound, client, message).await
            };
            let attempt = match sent {
                Ok(external_id) => Attempt::Delivered { external_id },
                Err(Failure { error, permanent }) => {
                    let attempts = u32::try_from(message.attempts + 1).unwrap_or(u32::MAX);
                    let wait = (!permanent)
                        .then(|| backoff.after_failure(attempts, &message.idempotency_key))
                        .flatten();
                    let retry_at = wait
                        .and_then(|w| chrono::Duration::from_std(w).ok())
                        .map(|w| now + w);
                    Attempt::Failed { error, retry_at }
                }
            };
            match &attempt {
                Attempt::Delivered { .. } => report.delivered += 1,
                Attempt::Failed {
                    retry_at: Some(_),
                    error,
                } => {
                    tracing::warn!(key = %message.idempotency_key, %error, "delivery failed; will retry");
                    report.retrying += 1;
                }
                Attempt::Failed {
                    retry_at: None,
                    error,
                } => {
                    tracing::error!(key = %message.idempotency_key, %error, "delivery failed for good: dead letter");
                    report.dead += 1;
                }
            }
            store.finish_attempt(message, attempt, now).await?;
        }
        if batch.len() < BATCH as usize {
            return Ok(report);
        }
    }
}

struct Failure {
    error: String,
    /// The receiver refused this message itself (4xx): trying again would not help.
    permanent: bool,
}

impl From<super::mail::MailError> for Failure {
    fn from(e: super::mail::MailError) -> Failure {
        Failure {
            error: e.error,
            permanent: e.permanent,
        }
    }
}

fn retry(error: String) -> Failure {
    Failure {
        error,
        permanent: false,
    }
}

fn permanent(error: String) -> Failure {
    Failure {
        error,
        permanent: true,
    }
}

/// A notification: e-mail through the mailer, a text message through the SMS gateway. Without
/// them configured it is a dead letter at once: a message sent days late does more harm than
/// good, and the dead-letter list says why it was not sent.
async fn notify(
    outbound: &Outbound,
    client: &reqwest::Client,
    message: &OutboxMessage,
) -> Result<(), Failure> {
    let n: Notification = serde_json::from_str(&message.payload)
        .map_err(|e| permanent(format!("unreadable notification: {e}")))?;
    match n.channel.as_str() {
        "email" => {
            let mailer = outbound.mailer.as_ref().ok_or_else(|| {
                permanent("no SMTP server is configured ([notifications] smtp_url)".into())
            })?;
            mailer
                .send(&n.to, &n.subject, &n.body)
                .await
                .map_err(Failure::from)
        }
        "sms" => {
            let gateway = outbound.sms.as_ref().ok_or_else(|| {
                permanent("no SMS gateway is configured ([notifications] sms_gateway)".into())
            })?;
            let body =
                serde_json::json!({ "to": n.to, "text": n.body, "request_id": n.request_id });
            post(gateway, client, &message.idempotency_key, &body.to_string())
                .await
                .map(|_| ())
        }
        other => Err(permanent(format!("unknown notification channel {other:?}"))),
    }
}

/// A report to one person on the distribution list.
async fn mail_report(outbound: &Outbound, message: &OutboxMessage) -> Result<(), Failure> {
    let mail: ReportMail = serde_json::from_str(&message.payload)
        .map_err(|e| permanent(format!("unreadable report mail: {e}")))?;
    let mailer = outbound.mailer.as_ref().ok_or_else(|| {
        permanent("no SMTP server is configured ([notifications] smtp_url)".into())
    })?;
    mailer
        .send_html(&mail.to, &mail.subject, &mail.text, &mail.html)
        .await
        .map_err(Failure::from)
}

async fn send(
    outbound: &Outbound,
    client: &reqwest::Client,
    message: &OutboxMessage,
) -> Result<Option<String>, Failure> {
    // A configuration fixed later (the system added back) lets the message through then.
    let system = outbound
        .field_systems
        .get(&message.destination)
        .ok_or_else(|| {
            retry(format!(
                "no field system named {:?} is configured",
                message.destination
            ))
        })?;
    post(system, client, &message.idempotency_key, &message.payload).await
}

/// POSTs a signed JSON body; the receiver's `external_id` when it answers one.
async fn post(
    system: &FieldSystem,
    client: &reqwest::Client,
    idempotency_key: &str,
    payload: &str,
) -> Result<Option<String>, Failure> {
    let request = client
        .post(&system.endpoint)
        .timeout(system.timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", idempotency_key);
    let response = signed(request, &system.secret, payload.as_bytes())
        .body(payload.to_owned())
        .send()
        .await
        .map_err(|e| retry(format!("{}: {e}", system.endpoint)))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        // A receiver that answers no id still took the order; its id can come by webhook.
        let external_id = serde_json::from_str::<Accepted>(&text)
            .ok()
            .and_then(|a| a.external_id)
            .filter(|id| !id.trim().is_empty());
        return Ok(external_id);
    }
    let error = format!(
        "HTTP {status}: {}",
        text.chars().take(300).collect::<String>()
    );
    let permanent = status.is_client_error()
        && status != reqwest::StatusCode::REQUEST_TIMEOUT
        && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
    Err(Failure { error, permanent })
}
