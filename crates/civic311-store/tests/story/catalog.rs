use civic311_domain::{AttributeDatatype, AttributeDefinition, AttributeOption, SlaUnit};
use civic311_testkit::{TestDb, both_backends};

use crate::{code, seed_catalog};

both_backends!(catalog_round_trips_with_attributes_and_sla);

async fn catalog_round_trips_with_attributes_and_sla(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let mut pothole = store.service(&code("pothole")).await.unwrap().unwrap();
    assert_eq!(
        pothole.sla.map(|s| (s.amount, s.unit)),
        Some((7, SlaUnit::CalendarDays))
    );
    pothole.attributes.push(AttributeDefinition {
        code: "SIZE".into(),
        variable: true,
        datatype: AttributeDatatype::Singlevaluelist,
        required: true,
        order: 1,
        description: "How large is it?".into(),
        datatype_description: None,
        values: vec![AttributeOption {
            key: "S".into(),
            name: "Smaller than a plate".into(),
        }],
    });
    store.upsert_service(&pothole).await.unwrap();
    assert_eq!(
        store.service(&code("pothole")).await.unwrap().unwrap(),
        pothole
    );
    assert_eq!(store.services().await.unwrap().len(), 2);
    assert_eq!(store.departments().await.unwrap()[0].name, "Public Works");
    assert!(store.service(&code("nope")).await.unwrap().is_none());
}

both_backends!(catalog_versions_never_rewrite_past_requests);

/// A city changes an SLA (and gives urgent potholes their own): a new catalog version. Requests
/// filed before keep their due dates; new ones get the new target for their priority; the old
/// version can still be read.
async fn catalog_versions_never_rewrite_past_requests(db: &TestDb) {
    use civic311_domain::{Actor, CatalogDocument, Priority, SlaTarget};

    let store = &db.store;
    seed_catalog(store).await;
    let first = store.catalog().await.unwrap();
    let (v1, changes) = store
        .save_catalog(&first, "setup", crate::at(1, 8))
        .await
        .unwrap();
    assert_eq!(
        (v1, changes.is_empty()),
        (None, true),
        "nothing changed, no version"
    );

    let before = crate::file(store, "pothole", crate::at(1, 9)).await;
    assert_eq!(before.due_at, Some(crate::at(8, 9)), "7 calendar days");

    let mut pothole = store.service(&code("pothole")).await.unwrap().unwrap();
    pothole.sla = Some(SlaTarget {
        amount: 3,
        unit: SlaUnit::CalendarDays,
    });
    pothole.sla_by_priority.insert(
        Priority::Urgent,
        SlaTarget {
            amount: 1,
            unit: SlaUnit::CalendarDays,
        },
    );
    let doc = CatalogDocument {
        departments: vec![],
        services: vec![pothole],
    };
    let (version, changes) = store
        .save_catalog(&doc, "director", crate::at(1, 12))
        .await
        .unwrap();
    assert_eq!(version, Some(1));
    assert_eq!(changes.sla_changed, vec!["pothole".to_owned()]);
    assert_eq!(
        changes.summary(),
        "1 service(s) changed, 1 SLA target(s) changed"
    );

    let after = crate::file(store, "pothole", crate::at(2, 9)).await;
    assert_eq!(after.due_at, Some(crate::at(5, 9)), "the new 3-day target");
    let mut urgent = crate::new_request("pothole");
    urgent.priority = Priority::Urgent;
    let urgent = store
        .create_request(urgent, Actor::Resident, crate::at(2, 9))
        .await
        .unwrap();
    assert_eq!(
        urgent.due_at,
        Some(crate::at(3, 9)),
        "urgent: its own 1-day target"
    );
    let again = store.request(&before.id).await.unwrap().unwrap();
    assert_eq!(
        again.due_at, before.due_at,
        "a request filed before keeps its due date"
    );

    // A second change, then the history of versions, each readable as it stood.
    let mut trash = store.service(&code("trash-missed")).await.unwrap().unwrap();
    trash.active = false;
    let doc = CatalogDocument {
        departments: vec![],
        services: vec![trash],
    };
    let (version, changes) = store
        .save_catalog(&doc, "director", crate::at(3, 12))
        .await
        .unwrap();
    assert_eq!((version, changes.services_retired.len()), (Some(2), 1));
    let versions = store.catalog_versions().await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(versions[1].saved_by, "director");
    let v1 = store.catalog_version(1).await.unwrap().unwrap();
    let old = v1
        .services
        .iter()
        .find(|s| s.code == code("pothole"))
        .unwrap();
    assert_eq!(old.sla.map(|s| s.amount), Some(3));
    assert!(
        v1.services
            .iter()
            .find(|s| s.code == code("trash-missed"))
            .unwrap()
            .active
    );

    // A service of an unknown department is refused, and nothing is saved.
    let mut stray = store.service(&code("pothole")).await.unwrap().unwrap();
    stray.department = Some(civic311_domain::DepartmentCode::parse("parks").unwrap());
    let doc = CatalogDocument {
        departments: vec![],
        services: vec![stray],
    };
    let refused = store.save_catalog(&doc, "intern", crate::at(4, 12)).await;
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("unknown department parks")
    );
    assert_eq!(store.catalog_versions().await.unwrap().len(), 2);
}

both_backends!(the_budget_is_kept_in_versions_by_fiscal_year_of_catalog_services);

async fn the_budget_is_kept_in_versions_by_fiscal_year_of_catalog_services(db: &TestDb) {
    use civic311_domain::ServiceCost;
    use civic311_store::BUDGET_SINCE_ALWAYS;
    let store = &db.store;
    seed_catalog(store).await;
    let cost = |service: &str, labor_minutes| ServiceCost {
        service_code: code(service),
        labor_minutes,
        hourly_rate: 60.0,
        unit_cost: 18.5,
    };
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let now = crate::at(1, 9);
    assert_eq!(store.costs(day("2019-10-01")).await.unwrap(), None);
    store
        .save_costs(
            BUDGET_SINCE_ALWAYS,
            &[cost("pothole", 45.0), cost("trash-missed", 10.0)],
            "budget office",
            now,
        )
        .await
        .unwrap();
    let standing = (
        BUDGET_SINCE_ALWAYS,
        vec![cost("pothole", 45.0), cost("trash-missed", 10.0)],
    );
    assert_eq!(
        store.costs(day("2019-10-01")).await.unwrap(),
        Some(standing.clone())
    );
    // A new sheet replaces the old one of the same version: trash-missed is no longer in it.
    store
        .save_costs(
            BUDGET_SINCE_ALWAYS,
            &[cost("pothole", 40.0)],
            "budget office",
            now,
        )
        .await
        .unwrap();
    let standing = (BUDGET_SINCE_ALWAYS, vec![cost("pothole", 40.0)]);
    assert_eq!(
        store.costs(day("2019-10-01")).await.unwrap(),
        Some(standing.clone())
    );
    // The fiscal year 2020 budget takes effect on 2019-07-01: months before it keep the
    // standing table, months from it on take the new one whole (rats has no older cost).
    let fy2020 = vec![cost("pothole", 50.0), cost("trash-missed", 12.0)];
    store
        .save_costs(day("2019-07-01"), &fy2020, "budget office", now)
        .await
        .unwrap();
    assert_eq!(
        store.costs(day("2019-06-30")).await.unwrap(),
        Some(standing.clone())
    );
    assert_eq!(
        store.costs(day("2019-07-01")).await.unwrap(),
        Some((day("2019-07-01"), fy2020.clone()))
    );
    assert_eq!(
        store.costs(day("2020-12-01")).await.unwrap(),
        Some((day("2019-07-01"), fy2020.clone()))
    );
    let versions = store.budget_versions().await.unwrap();
    let listed: Vec<_> = versions
        .iter()
        .map(|v| (v.effective_from, v.services))
        .collect();
    assert_eq!(listed, [(BUDGET_SINCE_ALWAYS, 1), (day("2019-07-01"), 2)]);
    assert_eq!(versions[1].saved_by, "budget office");
    // A service the catalog does not have is refused, and the version stays as it was.
    assert!(
        store
            .save_costs(
                day("2019-07-01"),
                &[cost("pothole", 1.0), cost("rats", 1.0)],
                "x",
                now
            )
            .await
            .is_err()
    );
    assert_eq!(
        store.costs(day("2019-07-01")).await.unwrap(),
        Some((day("2019-07-01"), fy2020))
    );
    assert_eq!(
        store.costs(day("2019-06-30")).await.unwrap(),
        Some(standing)
    );
}
