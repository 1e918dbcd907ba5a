use civic311_domain::{
    Actor, AreaId, DomainError, Priority, ServiceRequest, ServiceRequestId, Status,
};
use civic311_store::{StoreError, TokenState};
use civic311_testkit::{TestDb, both_backends};

use crate::{at, file, new_request, seed_catalog};

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

both_backends!(concurrent_filings_are_each_written_once);

/// Open311 POSTs that arrive together are written together (group commit). Each still gets its
/// own number and token, a refused one fails alone, and numbers taken by imported requests are
/// skipped.
async fn concurrent_filings_are_each_written_once(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let first = file(store, "pothole", at(1, 9)).await;
    let next: i64 = first.id.as_str().parse().unwrap();
    // Imported requests that hold two of the numbers the filings would get next.
    let taken: Vec<String> = [next + 1, next + 3].iter().map(i64::to_string).collect();
    let service = store
        .service(&crate::code("pothole"))
        .await
        .unwrap()
        .unwrap();
    let imported: Vec<_> = taken
        .iter()
        .map(|id| {
            ServiceRequest::open(
                ServiceRequestId::parse(id.as_str()).unwrap(),
                new_request("pothole"),
                &service,
                Actor::System,
                at(1, 10),
            )
            .unwrap()
        })
        .collect();
    store.insert_requests(&imported).await.unwrap();

    let mut filings = tokio::task::JoinSet::new();
    for i in 0..40 {
        let store = store.clone();
        filings.spawn(async move {
            let mut new = new_request(if i % 2 == 0 {
                "pothole"
            } else {
                "trash-missed"
            });
            new.description = Some(format!("filing {i}"));
            if i % 10 == 3 {
                new.service_code = crate::code("unicorns");
            }
            if i == 17 {
                // Two areas in one layer: the database refuses it (one area per layer), which
                // fails its batch; the others in that batch must still be filed.
                let mut twice = new.location.areas[0].clone();
                twice.area = AreaId::parse("77").unwrap();
                new.location.areas.push(twice);
            }
            (
                i,
                store
                    .create_request_with_token(new, Actor::Resident, at(2, 9))
                    .await,
            )
        });
    }
    let mut filed = Vec::new();
    while let Some(done) = filings.join_next().await {
        let (i, result) = done.unwrap();
        match (i % 10 == 3, i == 17, result) {
            (true, _, Err(StoreError::Domain(DomainError::UnknownService(code)))) => {
                assert_eq!(code, "unicorns")
            }
            (false, true, Err(StoreError::Database(_))) => {}
            (false, false, Ok((request, token))) => filed.push((i, request, token)),
            (_, _, other) => panic!("filing {i}: {other:?}"),
        }
    }
    assert_eq!(filed.len(), 35);
    let mut ids: Vec<&str> = filed.iter().map(|(_, r, _)| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 35, "every filing has its own number");
    for (i, request, token) in &filed {
        assert!(
            !taken.contains(&request.id.to_string()),
            "{} was taken",
            request.id
        );
        assert_eq!(
            request.description.as_deref(),
            Some(format!("filing {i}").as_str())
        );
        assert_eq!(
            store.token(token).await.unwrap(),
            TokenState::Filed(request.id.clone())
        );
        let stored = store.request(&request.id).await.unwrap().unwrap();
        assert_eq!(&stored, request);
        let kinds: Vec<_> = store
            .events(&request.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event.kind.name())
            .collect();
        assert_eq!(kinds, ["created", "routed"]);
    }
    assert_eq!(
        store.request_counts().await.unwrap().total,
        1 + 2 + 35,
        "nothing refused was written, nothing filed was lost"
    );
}

/// PostgreSQL: an import batch that meets a writer holding the roll-up rows it needs in the
/// other order is rolled back to break the deadlock, and written again: the import does not
/// fail. (SQLite has one writer at a time.)
#[tokio::test]
async fn a_batch_rolled_back_by_a_deadlock_is_written_again() {
    use sqlx::Connection;
    let Some(db) = TestDb::migrated(civic311_testkit::Backend::Postgres).await else {
        return;
    };
    let store = &db.store;
    seed_catalog(store).await;
    // Its roll-up rows exist: the May pothole requests, in neighborhood 76.
    file(store, "pothole", at(1, 9)).await;
    let mut writer = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
    let mut tx = writer.begin().await.unwrap();
    // This writer waits long before looking for a deadlock: the batch's session finds it.
    sqlx::query("SET LOCAL deadlock_timeout = '60s'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let area_month = "UPDATE area_rollup SET requests = requests \
                      WHERE grain = 2 AND period = '2024-05' AND area_id = '76'";
    assert_eq!(
        sqlx::query(area_month)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected(),
        1
    );
    let service = store
        .service(&crate::code("pothole"))
        .await
        .unwrap()
        .unwrap();
    let id = ServiceRequestId::parse("chicago:SR-9").unwrap();
    let imported = ServiceRequest::open(
        id.clone(),
        new_request("pothole"),
        &service,
        Actor::Import("chicago".into()),
        at(1, 10),
    )
    .unwrap();
    let batch = {
        let store = store.clone();
        tokio::spawn(async move { store.upsert_requests(&[imported], "chicago").await })
    };
    // The batch counted its request (the request roll-up rows are its) and waits for the area
    // row; taking one of its rows now closes the cycle.
    let mut probe = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
    for _ in 0..500 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
             AND query LIKE 'INSERT INTO request_areas%'",
        )
        .fetch_one(&mut probe)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let request_month = "UPDATE request_rollup SET requests = requests \
                         WHERE grain = 2 AND period = '2024-05' AND service_code = 'pothole'";
    sqlx::query(request_month).execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    let counts = batch.await.unwrap().unwrap();
    assert_eq!(counts.inserted, 1, "{counts:?}");
    assert!(store.request(&id).await.unwrap().is_some());
    db.finish().await;
}
