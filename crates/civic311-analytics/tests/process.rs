//! Process diagnostics over requests handled here, on both stores: the paths they took, the
//! time between steps, the one that bounced between departments, the channels of each service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use civic311_domain::{
    Actor, Channel, ClosureReason, Department, DepartmentCode, Location, NewServiceRequest,
    Priority, Service, ServiceCode, ServiceRequest, Status,
};
use civic311_store::{RequestFilter, Store};
use civic311_testkit::{TestDb, both_backends};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, hour, 0, 0).unwrap()
}

async fn department(store: &Store, code: &str) -> DepartmentCode {
    let code = DepartmentCode::parse(code).unwrap();
    store
        .upsert_department(&Department {
            code: code.clone(),
            name: code.to_string(),
            email: None,
            phone: None,
        })
        .await
        .unwrap();
    code
}

async fn file(store: &Store, channel: Channel, when: DateTime<Utc>) -> ServiceRequest {
    let new = NewServiceRequest {
        service_code: ServiceCode::parse("pothole").unwrap(),
        description: Some("Deep pothole".into()),
        location: Location::default(),
        channel,
        priority: Priority::Normal,
        requester: None,
        attributes: vec![],
        media_url: None,
    };
    store
        .create_request(new, Actor::Resident, when)
        .await
        .unwrap()
}

both_backends!(paths_bottlenecks_bounces_and_intake_paths);

async fn paths_bottlenecks_bounces_and_intake_paths(db: &TestDb) {
    let store = &db.store;
    let works = department(store, "public-works").await;
    let streets = department(store, "streets").await;
    store
        .upsert_service(&Service {
            code: ServiceCode::parse("pothole").unwrap(),
            name: "Pothole".into(),
            description: None,
            group: None,
            keywords: vec![],
            department: Some(works.clone()),
            attributes: vec![],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        })
        .await
        .unwrap();
    let staff = || Actor::Staff("crew".into());
    let status = async |r: &ServiceRequest, to: Status, when| {
        store
            .update_request(&r.id, None, move |q| {
                Ok(vec![q.change_status(to, staff(), when)?])
            })
            .await
    };
    let closed = Status::Closed(ClosureReason::Resolved);
    // Two the usual way: worked a day after filing, closed a day later.
    for (day, channel) in [(1, Channel::Phone), (2, Channel::Web)] {
        let r = file(store, channel, at(day, 8)).await;
        status(&r, Status::InProgress, at(day + 1, 8))
            .await
            .unwrap();
        status(&r, closed, at(day + 2, 8)).await.unwrap();
    }
    // One closed at once.
    let quick = file(store, Channel::Phone, at(3, 8)).await;
    status(&quick, closed, at(3, 9)).await.unwrap();
    // One sent to Streets, then back to Public Works: it bounced.
    let bounced = file(store, Channel::Phone, at(4, 8)).await;
    for (to, hour) in [(streets.clone(), 9), (works.clone(), 10)] {
        store
            .update_request(&bounced.id, None, move |q| {
                Ok(vec![q.assign(
                    Some(to),
                    None,
                    "wrong department",
                    staff(),
                    at(4, hour),
                )?])
            })
            .await
            .unwrap();
    }
    status(&bounced, closed, at(10, 10)).await.unwrap();

    let report = civic311_analytics::process::process(store, &RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(report.requests, 4);
    let top = &report.top_variants[0];
    assert_eq!(top.path, "created → routed → in_progress → closed");
    assert_eq!(top.requests, 2);
    assert_eq!(top.median_seconds, Some(2.0 * 86_400.0));
    let paths: Vec<&str> = report
        .top_variants
        .iter()
        .map(|v| v.path.as_str())
        .collect();
    assert!(paths.contains(&"created → routed → closed"), "{paths:?}");
    assert!(
        paths.contains(&"created → routed → moved to another department → closed"),
        "two moves in a row are one step: {paths:?}"
    );
    assert_eq!(report.bounced, 1);
    let service = &report.services[0];
    assert_eq!(
        service.bounced_examples[0].request_id,
        bounced.id.to_string()
    );
    assert_eq!(
        service.bounced_examples[0].departments,
        ["public-works", "streets", "public-works"]
    );
    // Most time: the bounced one waited six days after its moves (two moves in a row are one
    // step, timed from the first).
    let worst = &report.bottlenecks[0];
    assert_eq!(
        (worst.from.as_str(), worst.to.as_str(), worst.times),
        ("moved to another department", "closed", 1)
    );
    assert_eq!(
        worst.total_seconds,
        (at(10, 10) - at(4, 9)).num_seconds() as f64
    );
    assert_eq!(
        service.intake_paths,
        [("phone".to_owned(), 3), ("web".to_owned(), 1)]
    );
    assert_eq!(report.services_with_several_intake_paths, 1);
}
