//! The store's story, told once and run on SQLite and PostgreSQL: catalog, filing, changing,
//! conflicting, merging, listing, schema guards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod appointments;
mod catalog;
mod concurrency;
mod lifecycle;
mod listing;
mod routing;
mod schema;
mod sla;
mod work_orders;

use chrono::{DateTime, TimeZone, Utc};
use civic311_domain::{
    Actor, AreaId, AreaRef, Channel, Consent, Department, DepartmentCode, LatLong, LayerId,
    Location, NewServiceRequest, Priority, Requester, Service, ServiceCode, SlaTarget, SlaUnit,
};
use civic311_store::Store;

pub fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, hour, 0, 0).unwrap()
}

pub fn code(s: &str) -> ServiceCode {
    ServiceCode::parse(s).unwrap()
}

/// A small real-looking catalog: Kansas City's two busiest request types.
pub async fn seed_catalog(store: &Store) {
    let pw = DepartmentCode::parse("public-works").unwrap();
    store
        .upsert_department(&Department {
            code: pw.clone(),
            name: "Public Works".into(),
            email: Some("pw@kcmo.example".into()),
            phone: None,
        })
        .await
        .unwrap();
    for (c, name, days) in [
        ("pothole", "Streets - Pothole", 7),
        ("trash-missed", "Trash - Missed by City", 3),
    ] {
        store
            .upsert_service(&Service {
                code: code(c),
                name: name.into(),
                description: None,
                group: Some("Streets and Trash".into()),
                keywords: vec!["street".into()],
                department: Some(pw.clone()),
                attributes: vec![],
                sla: Some(SlaTarget {
                    amount: days,
                    unit: SlaUnit::CalendarDays,
                }),
                sla_by_priority: Default::default(),
                category: None,
                active: true,
            })
            .await
            .unwrap();
    }
}

pub fn new_request(service: &str) -> NewServiceRequest {
    NewServiceRequest {
        service_code: code(service),
        description: Some("Deep pothole in the eastbound lane".into()),
        location: Location {
            point: Some(LatLong::new(39.102738, -94.600134).unwrap()),
            address: Some("938 Mulberry St".into()),
            address_id: None,
            zip: Some("64101".into()),
            areas: vec![AreaRef {
                layer: LayerId::parse("kc-neighborhoods").unwrap(),
                area: AreaId::parse("76").unwrap(),
            }],
        },
        channel: Channel::Web,
        priority: Priority::Normal,
        requester: Some(Requester {
            first_name: Some("Ada".into()),
            email: Some("ada@example.org".into()),
            consent: Consent {
                contact: true,
                survey: false,
            },
            ..Requester::default()
        }),
        attributes: vec![],
        media_url: None,
    }
}

pub async fn file(
    store: &Store,
    service: &str,
    now: DateTime<Utc>,
) -> civic311_domain::ServiceRequest {
    store
        .create_request(new_request(service), Actor::Resident, now)
        .await
        .unwrap()
}
