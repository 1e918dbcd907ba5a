use civic311_domain::{
    Actor, AreaId, AreaRef, Channel, ClosureReason, InformationalContact, LayerId, Status,
};
use civic311_store::{Page, RequestFilter};
use civic311_testkit::{TestDb, both_backends};

use crate::{at, code, file, seed_catalog};

both_backends!(
    filters_and_pages_newest_first,
    informational_contacts_are_logged
);

async fn filters_and_pages_newest_first(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    for day in 1..=6 {
        let service = if day % 2 == 0 {
            "trash-missed"
        } else {
            "pothole"
        };
        let r = file(store, service, at(day, 9)).await;
        if day <= 2 {
            store
                .update_request(&r.id, None, |req| {
                    Ok(vec![req.change_status(
                        Status::Closed(ClosureReason::Resolved),
                        Actor::System,
                        at(day + 10, 9),
                    )?])
                })
                .await
                .unwrap();
        }
    }
    let all = RequestFilter::default();
    let page = |limit, offset| Page { limit, offset };
    let ids = |rs: Vec<civic311_domain::ServiceRequest>| {
        rs.into_iter().map(|r| r.id.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.requests(&all, page(3, 0)).await.unwrap()),
        ["6", "5", "4"]
    );
    assert_eq!(
        ids(store.requests(&all, page(3, 3)).await.unwrap()),
        ["3", "2", "1"]
    );
    assert_eq!(store.count_requests(&all).await.unwrap(), 6);

    let closed = RequestFilter {
        states: vec!["closed"],
        ..Default::default()
    };
    assert_eq!(
        ids(store.requests(&closed, page(10, 0)).await.unwrap()),
        ["2", "1"]
    );
    let trash = RequestFilter {
        service_codes: vec![code("trash-missed")],
        ..Default::default()
    };
    assert_eq!(
        ids(store.requests(&trash, page(10, 0)).await.unwrap()),
        ["6", "4", "2"]
    );
    let window = RequestFilter {
        created_from: Some(at(2, 0)),
        created_before: Some(at(4, 0)),
        ..Default::default()
    };
    assert_eq!(
        ids(store.requests(&window, page(10, 0)).await.unwrap()),
        ["3", "2"]
    );
    let updated = RequestFilter {
        updated_after: Some(at(5, 12)),
        ..Default::default()
    };
    assert_eq!(
        ids(store.requests(&updated, page(10, 0)).await.unwrap()),
        ["6", "2", "1"]
    );
    let by_id = RequestFilter {
        ids: vec![civic311_domain::ServiceRequestId::parse("4").unwrap()],
        ..Default::default()
    };
    assert_eq!(
        ids(store.requests(&by_id, page(10, 0)).await.unwrap()),
        ["4"]
    );
    let area = |id: &str| RequestFilter {
        area: Some(AreaRef {
            layer: LayerId::parse("kc-neighborhoods").unwrap(),
            area: AreaId::parse(id).unwrap(),
        }),
        ..Default::default()
    };
    assert_eq!(store.count_requests(&area("76")).await.unwrap(), 6);
    assert_eq!(store.count_requests(&area("77")).await.unwrap(), 0);
    let counts = store.request_counts().await.unwrap();
    assert_eq!(
        counts.by_state,
        vec![("closed".to_owned(), 2), ("open".to_owned(), 4)]
    );
}

async fn informational_contacts_are_logged(db: &TestDb) {
    let store = &db.store;
    for topic in ["trash day", "trash day", "leaf pickup"] {
        let mut c = InformationalContact::new(topic, Channel::Phone, at(1, 9)).unwrap();
        c.duration_secs = Some(95);
        c.article = Some("kb-trash-schedule".into());
        store.record_contact(&c).await.unwrap();
    }
    assert_eq!(
        store.contact_counts().await.unwrap(),
        vec![("trash day".to_owned(), 2), ("leaf pickup".to_owned(), 1)]
    );
}

both_backends!(a_cohort_is_read_in_pages_whole_and_in_key_order);

/// `read_cohort` reads what the filter selects, every request once, in key order, whether it
/// lists the keys first (a period) or walks key ranges (no filter), across several pages.
async fn a_cohort_is_read_in_pages_whole_and_in_key_order(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    for day in 1..=9 {
        let service = if day % 3 == 0 {
            "trash-missed"
        } else {
            "pothole"
        };
        file(store, service, at(day, 9)).await;
    }
    let read = async |filter: RequestFilter| {
        let mut pages = store.read_cohort(&filter, 2).await.unwrap();
        let mut ids = Vec::new();
        let mut keys = Vec::new();
        while let Some(page) = pages.next_page().await.unwrap() {
            assert!(page.len() <= 2);
            for (key, r) in page {
                keys.push(key);
                ids.push(r.id.to_string());
            }
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "key order: {keys:?}");
        ids
    };
    assert_eq!(read(RequestFilter::default()).await.len(), 9);
    let days_3_to_7 = RequestFilter {
        created_from: Some(at(3, 0)),
        created_before: Some(at(8, 0)),
        ..Default::default()
    };
    assert_eq!(read(days_3_to_7).await, ["3", "4", "5", "6", "7"]);
    let trash = RequestFilter {
        service_codes: vec![code("trash-missed")],
        ..Default::default()
    };
    assert_eq!(read(trash).await, ["3", "6", "9"]);
}
