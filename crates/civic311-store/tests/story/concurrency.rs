use civic311_domain::{Actor, Priority, Status};
use civic311_store::StoreError;
use civic311_testkit::{TestDb, both_backends};

use crate::{at, file, seed_catalog};

both_backends!(
    stale_save_is_refused_and_overwrites_nothing,
    concurrent_editors_one_wins
);

async fn stale_save_is_refused_and_overwrites_nothing(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let r = file(store, "pothole", at(1, 9)).await;
    // Two agents open the same request.
    let mut alice = store.request(&r.id).await.unwrap().unwrap();
    let mut bob = alice.clone();

    let e = alice
        .set_priority(Priority::High, Actor::Staff("alice".into()), at(1, 10))
        .unwrap();
    store.save_request(&mut alice, &[e]).await.unwrap();
    assert_eq!(alice.version, 1);

    let e = bob
        .change_status(Status::InProgress, Actor::Staff("bob".into()), at(1, 11))
        .unwrap();
    let err = store.save_request(&mut bob, &[e]).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("reload it"), "{err}");
    assert_eq!(
        bob.version, 0,
        "a refused save does not pretend to have saved"
    );

    let stored = store.request(&r.id).await.unwrap().unwrap();
    assert_eq!(
        stored, alice,
        "alice's change stands, bob's is not mixed in"
    );
    let kinds: Vec<_> = store
        .events(&r.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind.name())
        .collect();
    assert_eq!(kinds, ["created", "routed", "priority_changed"]);

    // The closure form refuses a stale expected version before calling the closure.
    let err = store
        .update_request(&r.id, Some(0), |_| {
            panic!("must not run on a stale version")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 0,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

async fn concurrent_editors_one_wins(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let r = file(store, "pothole", at(1, 9)).await;
    let mut tasks = Vec::new();
    for i in 0..8u32 {
        let store = store.clone();
        let mut copy = r.clone();
        tasks.push(tokio::spawn(async move {
            let e = copy
                .add_note(
                    &format!("agent {i} called the resident"),
                    false,
                    Actor::Staff(format!("a{i}")),
                    at(1, 10),
                )
                .unwrap();
            store.save_request(&mut copy, &[e]).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(
        won, 1,
        "exactly one of eight concurrent saves of version 0 may win"
    );
    let stored = store.request(&r.id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(store.events(&r.id).await.unwrap().len(), 3);
}
