// Notifications queued in the outbox with the change that causes them. Included by backend.rs
// once per backend.

use civic311_domain::notifications::{Audience, drafts};

use crate::work_orders::{NOTIFICATION_TOPIC, Notification};

// Queues the messages `events` call for, to residents who agreed to be contacted (the request's
// reporter and those of requests merged into it) or to the department.
async fn notify_in(conn: &mut Conn, key: i64, r: &ServiceRequest, events: &[RequestEvent]) -> Result<()> {
    if drafts(r, "", events).is_empty() {
        return Ok(());
    }
    let service_name: Option<String> = sqlx::query_scalar("SELECT name FROM services WHERE code = $1")
        .bind(r.service_code.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    let service_name = service_name.unwrap_or_else(|| r.service_code.to_string());
    for draft in drafts(r, &service_name, events) {
        let recipients: Vec<(Option<String>, Option<String>)> = match draft.audience {
            Audience::Reporters => {
                sqlx::query_as(
                    "SELECT q.email, q.phone FROM requesters q JOIN service_requests s ON s.key = q.request_key \
                     WHERE (s.key = $1 OR s.parent_key = $1) AND q.consent_contact = $2 ORDER BY s.key",
                )
                .bind(key)
                .bind(true)
                .fetch_all(&mut *conn)
                .await?
            }
            Audience::Department => {
                sqlx::query_as("SELECT email, NULL FROM departments WHERE code = $1 AND email IS NOT NULL")
                    .bind(r.department.as_ref().map(|d| d.as_str()))
                    .fetch_all(&mut *conn)
                    .await?
            }
        };
        let mut sent: Vec<String> = Vec::new();
        for (email, phone) in recipients {
            // E-mail when there is an address, else a text message.
            let (channel, to) = match (email.filter(|e| !e.trim().is_empty()), phone.filter(|p| !p.trim().is_empty())) {
                (Some(e), _) => ("email", e),
                (None, Some(p)) => ("sms", p),
                (None, None) => continue,
            };
            if sent.contains(&to) {
                continue;
            }
            let message = Notification {
                channel: channel.to_owned(),
                to: to.clone(),
                subject: draft.subject.clone(),
                body: draft.body.clone(),
                request_id: r.id.to_string(),
            };
            sqlx::query(
                "INSERT INTO outbox (topic, destination, idempotency_key, payload, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(NOTIFICATION_TOPIC)
            .bind(channel)
            .bind(format!("n_{}", crate::intake::random_hex(8)?))
            .bind(serde_json::to_string(&message).map_err(StoreError::corrupt)?)
            .bind(r.updated_at)
            .execute(&mut *conn)
            .await?;
            sent.push(to);
        }
    }
    Ok(())
}
