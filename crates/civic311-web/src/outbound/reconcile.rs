//! Finds the work orders on which a field system and civic311 disagree: asks the field system
//! for the state of every order it has an id for and compares it with ours and with the
//! request's status.

use civic311_domain::WorkOrderState;
use civic311_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use super::FieldSystem;
use super::signing::signed;

/// One work order whose state differs between the field system and us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub request_id: String,
    pub work_order: String,
    pub external_id: String,
    /// Our state of the work order.
    pub ours: WorkOrderState,
    /// The request's status (`open`, `in_progress`, `on_hold`, `closed`).
    pub request_status: String,
    /// The field system's state, when it answered one.
    pub theirs: Option<String>,
    pub reason: String,
}

#[derive(Deserialize)]
struct Answer {
    state: String,
}

/// Compares every work order `system` has an id for; returns those that disagree, in the order
/// they were created.
pub async fn reconcile(
    store: &Store,
    system: &FieldSystem,
    client: &reqwest::Client,
) -> Result<Vec<Disagreement>, StoreError> {
    let mut found = Vec::new();
    for (order, request_status) in store.linked_work_orders(&system.name).await? {
        let external_id = order.external_id.clone().unwrap_or_default();
        let (theirs, reason) = match ask(system, client, &external_id).await {
            Err(reason) => (None, Some(reason)),
            Ok(None) => (
                None,
                Some("the field system does not know this work order".into()),
            ),
            Ok(Some(state)) => {
                let reason = compare(order.state, &state, &request_status, system.closes_requests);
                (Some(state), reason)
            }
        };
        if let Some(reason) = reason {
            found.push(Disagreement {
                request_id: order.request_id,
                work_order: order.id,
                external_id,
                ours: order.state,
                request_status,
                theirs,
                reason,
            });
        }
    }
    Ok(found)
}

/// Why the field system's `theirs` disagrees with our order state and request status, if it does.
fn compare(
    ours: WorkOrderState,
    theirs: &str,
    request_status: &str,
    closes_requests: bool,
) -> Option<String> {
    let Ok(theirs) = theirs.parse::<WorkOrderState>() else {
        return Some(format!(
            "the field system reports an unknown state {theirs:?}"
        ));
    };
    if theirs != ours {
        return Some(format!(
            "the field system says {theirs}, we have {ours} (an update was lost?)"
        ));
    }
    let request_closed = request_status == "closed";
    if theirs == WorkOrderState::Completed && closes_requests && !request_closed {
        return Some("the work is completed but the request is still open".into());
    }
    if request_closed && !theirs.is_final() {
        return Some(format!(
            "the request is closed but the work order is still {theirs}"
        ));
    }
    None
}

/// The field system's state of `external_id`, `None` when it answers 404.
async fn ask(
    system: &FieldSystem,
    client: &reqwest::Client,
    external_id: &str,
) -> Result<Option<String>, String> {
    let url = format!("{}/{external_id}", system.endpoint.trim_end_matches('/'));
    let response = signed(
        client.get(&url).timeout(system.timeout),
        &system.secret,
        b"",
    )
    .send()
    .await
    .map_err(|e| format!("could not ask the field system: {e}"))?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(format!(
            "the field system answered HTTP {}",
            response.status()
        ));
    }
    let answer: Answer = response
        .json()
        .await
        .map_err(|e| format!("the field system's answer is not {{\"state\": ...}}: {e}"))?;
    Ok(Some(answer.state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use WorkOrderState::*;

    #[test]
    fn compares_order_and_request() {
        assert_eq!(compare(Sent, "sent", "open", true), None);
        assert!(
            compare(Sent, "completed", "open", true)
                .unwrap()
                .contains("lost")
        );
        assert!(
            compare(Completed, "completed", "open", true)
                .unwrap()
                .contains("still open")
        );
        assert_eq!(compare(Completed, "completed", "open", false), None);
        assert!(
            compare(InProgress, "in_progress", "closed", true)
                .unwrap()
                .contains("closed")
        );
        assert!(
            compare(Sent, "bogus", "open", true)
                .unwrap()
                .contains("unknown")
        );
    }
}
