//! The outbox under several servers: concurrent claims never hand one message to two workers,
//! an expired lease makes a message due again, and a work order cannot be ordered for a closed
//! request.

use std::collections::BTreeSet;

use chrono::Duration;
use civic311_domain::{Actor, ClosureReason, Status, WorkOrderState};
use civic311_store::{Attempt, StoreError};
use civic311_testkit::{TestDb, both_backends};

use crate::{at, file, seed_catalog};

both_backends!(concurrent_claims_take_each_message_once);

async fn concurrent_claims_take_each_message_once(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let mut keys = BTreeSet::new();
    for i in 0..40 {
        let r = file(store, "pothole", at(1, 9)).await;
        let (order, request) = store
            .create_work_order(
                &r.id,
                "streets",
                Some(format!("order {i}")),
                Actor::Staff("ken".into()),
                at(1, 10),
            )
            .await
            .unwrap();
        assert_eq!(order.state, WorkOrderState::Queued);
        assert_eq!(
            request.version,
            r.version + 1,
            "the request event is saved with the order"
        );
        keys.insert(order.id);
    }
    // Four servers claim at once, in small batches.
    let mut claims = tokio::task::JoinSet::new();
    for w in 0..4 {
        let store = store.clone();
        claims.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_outbox(&format!("worker-{w}"), at(1, 11), Duration::minutes(5), 3)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|m| m.idempotency_key));
            }
        });
    }
    let mut claimed = Vec::new();
    while let Some(mine) = claims.join_next().await {
        claimed.extend(mine.unwrap());
    }
    claimed.sort();
    let unique: BTreeSet<_> = claimed.iter().cloned().collect();
    assert_eq!(claimed.len(), unique.len(), "a message was claimed twice");
    assert_eq!(unique, keys, "every message was claimed");

    // Leases held: nothing is due. Once they run out (a worker died), everything is due again.
    let none = store
        .claim_outbox(
            "late",
            at(1, 11) + Duration::minutes(4),
            Duration::minutes(5),
            100,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    let again = store
        .claim_outbox(
            "late",
            at(1, 11) + Duration::minutes(6),
            Duration::minutes(5),
            100,
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 40);

    // A finished message stays finished, whoever else finishes it (at-least-once, not twice
    // recorded).
    let m = &again[0];
    store
        .finish_attempt(
            m,
            Attempt::Delivered {
                external_id: Some("CW-1".into()),
            },
            at(1, 12),
        )
        .await
        .unwrap();
    store
        .finish_attempt(
            m,
            Attempt::Delivered {
                external_id: Some("CW-2".into()),
            },
            at(1, 12),
        )
        .await
        .unwrap();
    let order = store.work_order(&m.idempotency_key).await.unwrap().unwrap();
    assert_eq!(
        (order.state, order.external_id.as_deref()),
        (WorkOrderState::Sent, Some("CW-1"))
    );
    assert_eq!(store.outbox("delivered", 100).await.unwrap().len(), 1);

    // No work orders for closed requests.
    let r = file(store, "pothole", at(2, 9)).await;
    store
        .update_request(&r.id, None, |req| {
            Ok(vec![req.change_status(
                Status::Closed(ClosureReason::Resolved),
                Actor::System,
                at(2, 10),
            )?])
        })
        .await
        .unwrap();
    let refused = store
        .create_work_order(&r.id, "streets", None, Actor::System, at(2, 11))
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    assert_eq!(store.work_orders_of(&r.id).await.unwrap(), vec![]);
}
