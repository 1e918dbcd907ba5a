use chrono::Duration;
use civic311_domain::{Actor, AreaId, AreaRef, EventKind, LayerId, RoutingTable};
use civic311_store::StoreError;
use civic311_testkit::{TestDb, both_backends};

use crate::{at, new_request, seed_catalog};

both_backends!(requests_are_routed_by_the_table_in_force);

fn table(text: &str) -> RoutingTable {
    toml::from_str(text).unwrap()
}

/// Rules by area and time of day, the service's department otherwise, and a new version of the
/// table that changes new requests only.
async fn requests_are_routed_by_the_table_in_force(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    assert_eq!(store.routing().await.unwrap(), (0, RoutingTable::default()));
    let v1 = table(
        r#"
        [fallback]
        queue = "311-triage"

        [[rule]]
        name = "trash at night: night crew"
        services = ["trash-missed"]
        hours = { from = "18:00:00", to = "06:00:00", timezone = "America/Chicago" }
        department = "public-works"
        queue = "night-crew"

        [[rule]]
        name = "neighborhood 76 streets: east yard"
        groups = ["Streets and Trash"]
        area = { layer = "kc-neighborhoods", area = "76" }
        department = "public-works"
        queue = "east-yard"
        "#,
    );
    assert_eq!(
        store
            .save_routing(&v1, "supervisor", at(1, 8))
            .await
            .unwrap(),
        1
    );
    // 02:00 UTC on May 2 is 21:00 in Kansas City on May 1.
    let night = store
        .create_request(new_request("trash-missed"), Actor::Resident, at(2, 2))
        .await
        .unwrap();
    assert_eq!(night.assignee.as_deref(), Some("night-crew"));
    // new_request places the request in neighborhood 76.
    let (east, _) = store
        .create_request_with_token(new_request("pothole"), Actor::Resident, at(2, 15))
        .await
        .unwrap();
    assert_eq!(east.assignee.as_deref(), Some("east-yard"));
    let mut elsewhere = new_request("pothole");
    elsewhere.location.areas = vec![AreaRef {
        layer: LayerId::parse("kc-neighborhoods").unwrap(),
        area: AreaId::parse("12").unwrap(),
    }];
    let default = store
        .create_request(elsewhere.clone(), Actor::Resident, at(2, 15))
        .await
        .unwrap();
    assert_eq!(
        (
            default.department.as_ref().map(|d| d.as_str()),
            default.assignee.as_deref()
        ),
        (Some("public-works"), None)
    );
    let rule_of = |events: Vec<civic311_store::StoredEvent>| {
        events.into_iter().find_map(|e| match e.event.kind {
            EventKind::Routed { rule, .. } => rule,
            _ => None,
        })
    };
    assert_eq!(
        rule_of(store.events(&east.id).await.unwrap()).as_deref(),
        Some("neighborhood 76 streets: east yard")
    );
    assert_eq!(
        rule_of(store.events(&default.id).await.unwrap()).as_deref(),
        Some("service default department")
    );

    // Version 2 sends every pothole to a contractor queue; routed requests stay where they are.
    let mut v2 = v1.clone();
    v2.rules[1].area = None;
    v2.rules[1].queue = Some("contractor".into());
    assert_eq!(
        store
            .save_routing(&v2, "supervisor", at(3, 8))
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.routing().await.unwrap(), (2, v2.clone()));
    let later = store
        .create_request(elsewhere, Actor::Resident, at(3, 9) + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(later.assignee.as_deref(), Some("contractor"));
    let kept = store.request(&east.id).await.unwrap().unwrap();
    assert_eq!(kept.assignee.as_deref(), Some("east-yard"));

    let mut twins = v2;
    twins.rules[0].name = twins.rules[1].name.clone();
    let err = store
        .save_routing(&twins, "supervisor", at(4, 8))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Domain(_)), "{err:?}");
    assert_eq!(
        store.routing().await.unwrap().0,
        2,
        "a refused table is not saved"
    );
}
