use civic311_domain::{
    Actor, ClosureReason, DomainError, EventKind, HoldReason, ServiceRequestId, Status,
};
use civic311_store::StoreError;
use civic311_testkit::{TestDb, both_backends};

use crate::{at, file, new_request, seed_catalog};

both_backends!(
    filing_stores_state_and_events_together,
    unknown_service_is_a_domain_error_and_writes_nothing,
    every_status_change_writes_its_event,
    refused_change_writes_nothing,
    merge_closes_child_and_counts_on_parent,
    event_log_is_append_only,
);

async fn filing_stores_state_and_events_together(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let created = file(store, "pothole", at(1, 9)).await;
    assert_eq!(created.id.as_str(), "1");
    let second = file(store, "pothole", at(1, 10)).await;
    assert_eq!(second.id.as_str(), "2");

    let loaded = store.request(&created.id).await.unwrap().unwrap();
    assert_eq!(
        loaded, created,
        "what was filed is what is read back, requester and areas included"
    );
    assert_eq!(loaded.due_at, Some(at(8, 9)), "7 calendar days");
    assert_eq!(
        loaded.requester.as_ref().unwrap().email.as_deref(),
        Some("ada@example.org")
    );

    let events = store.events(&created.id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.event.kind.name()).collect();
    assert_eq!(kinds, ["created", "routed"]);
    assert_eq!(events[0].event.actor, Actor::Resident);
    assert_eq!(events[0].event.at, at(1, 9));
}

async fn unknown_service_is_a_domain_error_and_writes_nothing(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let err = store
        .create_request(new_request("unicorns"), Actor::Resident, at(1, 9))
        .await;
    assert!(
        matches!(err, Err(StoreError::Domain(DomainError::UnknownService(ref c))) if c == "unicorns"),
        "{err:?}"
    );
    let counts = store.request_counts().await.unwrap();
    assert_eq!((counts.total, counts.events), (0, 0));
    // The failed attempt did not burn the number shown to the next resident... or if it did
    // (sequences are not transactional on PostgreSQL), the next id is still unique and numeric.
    let next = file(store, "pothole", at(1, 10)).await;
    assert!(next.id.as_str().parse::<u64>().is_ok());
}

async fn every_status_change_writes_its_event(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let r = file(store, "pothole", at(1, 9)).await;
    let staff = || Actor::Staff("jdoe".into());
    let steps = [
        Status::InProgress,
        Status::OnHold(HoldReason::WaitingOnResident),
        Status::InProgress,
        Status::Closed(ClosureReason::Resolved),
    ];
    for (i, to) in steps.into_iter().enumerate() {
        let now = at(2, 9 + i as u32);
        let saved = store
            .update_request(&r.id, Some(i as i64), |req| {
                Ok(vec![req.change_status(to, staff(), now)?])
            })
            .await
            .unwrap();
        assert_eq!((saved.status, saved.version), (to, i as i64 + 1));
    }
    let reopened = store
        .update_request(&r.id, None, |req| {
            Ok(vec![req.reopen(
                "still broken",
                Actor::Resident,
                at(3, 9),
            )?])
        })
        .await
        .unwrap();
    assert_eq!((reopened.status, reopened.closed_at), (Status::Open, None));

    let events = store.events(&r.id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.event.kind.name()).collect();
    assert_eq!(
        kinds,
        [
            "created",
            "routed",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "reopened"
        ]
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    let closed = &events[5].event;
    assert_eq!(closed.actor, Actor::Staff("jdoe".into()));
    assert_eq!(
        closed.kind,
        EventKind::StatusChanged {
            from: Status::InProgress,
            to: Status::Closed(ClosureReason::Resolved)
        }
    );
}

async fn refused_change_writes_nothing(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let r = file(store, "pothole", at(1, 9)).await;
    store
        .update_request(&r.id, None, |req| {
            Ok(vec![req.change_status(
                Status::Closed(ClosureReason::Resolved),
                Actor::System,
                at(1, 10),
            )?])
        })
        .await
        .unwrap();
    let before = store.request(&r.id).await.unwrap().unwrap();
    let err = store
        .update_request(&r.id, None, |req| {
            Ok(vec![req.change_status(
                Status::Open,
                Actor::System,
                at(1, 11),
            )?])
        })
        .await;
    assert!(
        matches!(
            err,
            Err(StoreError::Domain(DomainError::InvalidTransition { .. }))
        ),
        "{err:?}"
    );
    assert_eq!(store.request(&r.id).await.unwrap().unwrap(), before);
    assert_eq!(store.events(&r.id).await.unwrap().len(), 3);

    let missing = ServiceRequestId::parse("999999").unwrap();
    let err = store.update_request(&missing, None, |_| Ok(vec![])).await;
    assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
}

async fn merge_closes_child_and_counts_on_parent(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let parent = file(store, "pothole", at(1, 9)).await;
    let child = file(store, "pothole", at(1, 10)).await;
    let (child, parent) = store
        .merge_requests(
            &child.id,
            &parent.id,
            Actor::Staff("jdoe".into()),
            at(1, 11),
        )
        .await
        .unwrap();
    assert_eq!(child.status, Status::Closed(ClosureReason::Duplicate));
    let reloaded = store.request(&child.id).await.unwrap().unwrap();
    assert_eq!(reloaded.parent_id, Some(parent.id.clone()));
    assert_eq!((reloaded.version, parent.version), (1, 1));
    let child_kinds: Vec<_> = store
        .events(&child.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind.name())
        .collect();
    assert_eq!(
        child_kinds,
        ["created", "routed", "merged_into", "status_changed"]
    );
    let last = store.events(&parent.id).await.unwrap().pop().unwrap();
    assert_eq!(
        last.event.kind,
        EventKind::DuplicateMerged {
            child: child.id.clone()
        }
    );
    // Merging into the merged child is refused; nothing changes.
    let third = file(store, "pothole", at(1, 12)).await;
    let err = store
        .merge_requests(&third.id, &child.id, Actor::System, at(1, 13))
        .await;
    assert!(
        matches!(err, Err(StoreError::Domain(DomainError::ParentIsMerged(_)))),
        "{err:?}"
    );
    assert_eq!(
        store.request(&third.id).await.unwrap().unwrap().status,
        Status::Open
    );
}

async fn event_log_is_append_only(db: &TestDb) {
    use sqlx::Connection;
    let store = &db.store;
    seed_catalog(store).await;
    file(store, "pothole", at(1, 9)).await;
    let attempts = [
        "UPDATE request_events SET actor = 'system'",
        "DELETE FROM request_events",
    ];
    for sql in attempts {
        let err = match db.backend {
            civic311_testkit::Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(db.url.expose())
                    .await
                    .unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap_err()
            }
            civic311_testkit::Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap_err()
            }
        };
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(store.request_counts().await.unwrap().events, 2);
}

both_backends!(a_batch_with_a_taken_id_writes_nothing);

async fn a_batch_with_a_taken_id_writes_nothing(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let first = file(store, "pothole", at(1, 9)).await;
    let make = |id: &str| {
        let id = ServiceRequestId::parse(id).unwrap();
        let mut new = new_request("trash-missed");
        new.requester = None;
        let svc = civic311_domain::Service {
            code: new.service_code.clone(),
            name: "Trash".into(),
            description: None,
            group: None,
            keywords: vec![],
            department: None,
            attributes: vec![],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        };
        civic311_domain::ServiceRequest::open(id, new, &svc, Actor::System, at(2, 9)).unwrap()
    };
    let before = store.request_counts().await.unwrap();
    for ids in [
        vec!["a-1", "a-2", first.id.as_str()],
        vec!["b-1", "b-2", "b-1"],
    ] {
        let batch: Vec<_> = ids.iter().map(|id| make(id)).collect();
        let err = store.insert_requests(&batch).await.unwrap_err();
        assert!(
            matches!(&err, StoreError::AlreadyExists { id, .. } if id == ids[2]),
            "{err:?}"
        );
        assert_eq!(
            store.request_counts().await.unwrap(),
            before,
            "all or nothing"
        );
    }
    let batch: Vec<_> = ["c-1", "c-2"].iter().map(|id| make(id)).collect();
    store.insert_requests(&batch).await.unwrap();
    let stored = store
        .request(&ServiceRequestId::parse("c-2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, batch[1].0);
    assert_eq!(
        store.events(&stored.id).await.unwrap().len(),
        batch[1].1.len()
    );
}

both_backends!(only_reopens_within_30_days_of_closing_count_against_closures);

async fn only_reopens_within_30_days_of_closing_count_against_closures(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let r = file(store, "pothole", at(1, 9)).await;
    let crew = || Actor::Staff("crew".into());
    let close = |when| {
        store.update_request(&r.id, None, move |q| {
            Ok(vec![q.change_status(
                Status::Closed(ClosureReason::Resolved),
                crew(),
                when,
            )?])
        })
    };
    let reopen = |when| {
        store.update_request(&r.id, None, move |q| {
            Ok(vec![q.reopen("still there", crew(), when)?])
        })
    };
    close(at(2, 9)).await.unwrap();
    reopen(at(3, 9)).await.unwrap();
    close(at(4, 9)).await.unwrap();
    reopen(at(4, 9) + chrono::Duration::days(31)).await.unwrap();
    let counts = store.request_counts().await.unwrap();
    assert_eq!(
        counts.reopened_within_30_days, 1,
        "the second reopen came 31 days on"
    );
}

both_backends!(a_large_batch_keeps_every_event_as_written);

/// An import's batch writes its events together (PostgreSQL: as COPY text, with its own
/// escapes); every event reads back as it was written, tabs, line breaks and backslashes too.
async fn a_large_batch_keeps_every_event_as_written(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let service = store
        .service(&crate::code("pothole"))
        .await
        .unwrap()
        .unwrap();
    let batch: Vec<_> = (0..150)
        .map(|i| {
            let id = ServiceRequestId::parse(format!("kcmo:{i}")).unwrap();
            let (r, mut events) = civic311_domain::ServiceRequest::open(
                id,
                new_request("pothole"),
                &service,
                Actor::Import("kcmo\tcsv".into()),
                at(1, 9),
            )
            .unwrap();
            events.push(civic311_domain::RequestEvent {
                at: at(2, 10),
                actor: Actor::Staff("crew \\ 7".into()),
                kind: EventKind::Routed {
                    department: None,
                    assignee: Some(format!("line\nbreak {i}\r\n\ttab \\n not a break \"q\"")),
                    rule: Some("C:\\rules\\streets".into()),
                },
            });
            (r, events)
        })
        .collect();
    let counts = store.upsert_requests(&batch, "kcmo").await.unwrap();
    assert_eq!(counts.inserted, 150);
    for (r, events) in [&batch[0], &batch[149]] {
        let stored: Vec<_> = store
            .events(&r.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event)
            .collect();
        assert_eq!(&stored, events, "{}", r.id);
    }
}
