//! Bookable services under many parallel bookings, as from several servers at once: a day never
//! takes more requests than its places, a full day refuses the filing (no request without its
//! day), and moving or cancelling a booking gives its place back.

use chrono::NaiveDate;
use civic311_domain::appointments::APPOINTMENT_ATTRIBUTE;
use civic311_domain::{
    Actor, AppointmentSchedule, AttributeAnswer, DomainError, EventKind, Service, ServiceRequest,
};
use civic311_store::{Store, StoreError};
use civic311_testkit::{TestDb, both_backends};

use crate::{at, code, new_request, seed_catalog};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, d).unwrap()
}

async fn bookable(store: &Store) {
    let pothole = store.service(&code("pothole")).await.unwrap().unwrap();
    store
        .upsert_service(&Service {
            code: code("bulky-item"),
            name: "Trash - Bulky Item Pickup".into(),
            sla: None,
            ..pothole
        })
        .await
        .unwrap();
    let schedule: AppointmentSchedule = toml::from_str(
        r#"
        service = "bulky-item"
        layer = "kc-neighborhoods"
        timezone = "America/Chicago"
        days = ["mon", "tue", "wed", "thu", "fri", "sat"]
        capacity = 5
        closed = ["2024-05-27"]
        [[zone]]
        area = "77"
        capacity = 2
        "#,
    )
    .unwrap();
    store.set_appointment_schedule(&schedule).await.unwrap();
}

fn booking(d: Option<u32>) -> civic311_domain::NewServiceRequest {
    let mut new = new_request("bulky-item");
    if let Some(d) = d {
        new.attributes = vec![AttributeAnswer {
            code: APPOINTMENT_ATTRIBUTE.into(),
            values: vec![day(d).to_string()],
        }];
    }
    new
}

fn domain(r: &Result<ServiceRequest, StoreError>) -> Option<&DomainError> {
    match r {
        Err(StoreError::Domain(e)) => Some(e),
        _ => None,
    }
}

both_backends!(parallel_bookings_never_overfill_a_day);

async fn parallel_bookings_never_overfill_a_day(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    bookable(store).await;
    // The service now asks the question, so Open311 clients show it.
    let service = store.service(&code("bulky-item")).await.unwrap().unwrap();
    assert!(
        service
            .attributes
            .iter()
            .any(|a| a.code == APPOINTMENT_ATTRIBUTE && a.required)
    );

    // 4 servers (their own pools), 10 residents each, all for Friday 10 May in zone 76 (5 places).
    let mut servers = Vec::new();
    for _ in 0..4 {
        servers.push(Store::open(&db.url).await.unwrap());
    }
    let mut filings = tokio::task::JoinSet::new();
    for (s, server) in servers.iter().enumerate() {
        for i in 0..10 {
            let server = server.clone();
            filings.spawn(async move {
                if i % 2 == 0 {
                    server
                        .create_request_with_token(booking(Some(10)), Actor::Resident, at(1, 9))
                        .await
                        .map(|(r, _)| r)
                } else {
                    let actor = Actor::Staff(format!("agent-{s}"));
                    server
                        .create_request(booking(Some(10)), actor, at(1, 9))
                        .await
                }
            });
        }
    }
    let mut filed = Vec::new();
    let mut full = 0;
    while let Some(result) = filings.join_next().await {
        let result = result.unwrap();
        match domain(&result) {
            Some(DomainError::FullyBooked { day: d }) => {
                assert_eq!(*d, day(10));
                full += 1;
            }
            None => filed.push(result.unwrap()),
            Some(other) => panic!("unexpected refusal: {other}"),
        }
    }
    assert_eq!(
        (filed.len(), full),
        (5, 35),
        "exactly the 5 places were taken"
    );
    let schedule = store
        .appointment_schedule(&code("bulky-item"))
        .await
        .unwrap()
        .unwrap();
    let slots = store
        .appointment_slots(&schedule, "76", at(1, 9))
        .await
        .unwrap();
    let friday = slots.iter().find(|s| s.day == day(10)).unwrap();
    assert_eq!((friday.capacity, friday.booked), (5, 5));
    for r in &filed {
        let a = store.appointment(&r.id).await.unwrap().unwrap();
        assert_eq!(
            (a.day, a.zone.as_str(), a.state.as_str()),
            (day(10), "76", "booked")
        );
        let history = store.events(&r.id).await.unwrap();
        assert!(history.iter().any(|e| matches!(&e.event.kind,
            EventKind::AppointmentBooked { day: d, zone } if *d == day(10) && zone == "76")));
    }
    // Refused filings left nothing behind: 5 requests of this service in all.
    let bulky = civic311_store::RequestFilter {
        service_codes: vec![code("bulky-item")],
        ..Default::default()
    };
    assert_eq!(store.count_requests(&bulky).await.unwrap(), 5);

    // Days the schedule does not offer, and no day at all.
    let refused = |d, why: &'static str| {
        let store = store.clone();
        async move {
            let r = store
                .create_request(booking(d), Actor::Resident, at(1, 9))
                .await;
            assert!(domain(&r).is_some(), "{why}: {r:?}");
            domain(&r).unwrap().to_string()
        }
    };
    assert!(
        refused(Some(12), "a Sunday")
            .await
            .contains("not a service day")
    );
    assert!(
        refused(Some(27), "Memorial Day")
            .await
            .contains("not a service day")
    );
    assert!(
        refused(Some(1), "today")
            .await
            .contains("bookable days are 2024-05-02")
    );
    assert!(
        refused(None, "no day")
            .await
            .contains(APPOINTMENT_ATTRIBUTE)
    );

    // Three residents race to move to Monday 13 May, which has one place left: one wins.
    for _ in 0..4 {
        store
            .create_request(booking(Some(13)), Actor::Resident, at(1, 9))
            .await
            .unwrap();
    }
    let mut moves = tokio::task::JoinSet::new();
    for (r, server) in filed.iter().take(3).zip(&servers) {
        let (server, id) = (server.clone(), r.id.clone());
        moves.spawn(async move {
            let done = server
                .reschedule_appointment(
                    &id,
                    day(13),
                    "resident asked",
                    Actor::Staff("ken".into()),
                    at(2, 9),
                )
                .await;
            (id, done)
        });
    }
    let mut moved = Vec::new();
    let mut stayed = Vec::new();
    while let Some(m) = moves.join_next().await {
        let (id, done) = m.unwrap();
        match done {
            Ok((a, _)) => {
                assert_eq!(a.day, day(13));
                moved.push(id);
            }
            Err(StoreError::Domain(DomainError::FullyBooked { .. })) => stayed.push(id),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((moved.len(), stayed.len()), (1, 2));
    for id in &stayed {
        let a = store.appointment(id).await.unwrap().unwrap();
        assert_eq!(
            a.day,
            day(10),
            "a refused move leaves the booking as it was"
        );
    }
    let slots = store
        .appointment_slots(&schedule, "76", at(2, 9))
        .await
        .unwrap();
    let booked = |d| slots.iter().find(|s| s.day == day(d)).unwrap().booked;
    assert_eq!(
        (booked(10), booked(13)),
        (4, 5),
        "the mover gave its Friday place back"
    );
    let history = store.events(&moved[0]).await.unwrap();
    assert!(history.iter().any(|e| matches!(&e.event.kind,
        EventKind::AppointmentRescheduled { from, to, .. } if *from == day(10) && *to == day(13))));

    // Cancelling gives the place back, once.
    let (a, _) = store
        .cancel_appointment(
            &stayed[0],
            "picked up by a neighbour",
            Actor::Staff("ken".into()),
            at(2, 10),
        )
        .await
        .unwrap();
    assert_eq!(a.state, "cancelled");
    let again = store
        .cancel_appointment(&stayed[0], "twice", Actor::Staff("ken".into()), at(2, 10))
        .await;
    assert!(
        matches!(again, Err(StoreError::Domain(DomainError::NoAppointment))),
        "{again:?}"
    );
    let slots = store
        .appointment_slots(&schedule, "76", at(2, 10))
        .await
        .unwrap();
    assert_eq!(slots.iter().find(|s| s.day == day(10)).unwrap().booked, 3);
    for s in servers {
        s.close().await;
    }
}
