use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use civic311_domain::sla::EscalationPolicy;
use civic311_domain::{
    Actor, BusinessCalendar, ClosureReason, DepartmentCode, EventKind, SlaTarget, SlaUnit, Status,
};
use civic311_store::SweepReport;
use civic311_testkit::{TestDb, both_backends};

use crate::{at, code, file, new_request, seed_catalog};

both_backends!(
    business_hours_due_dates_follow_the_department_calendar,
    escalation_sweeps_climb_once_per_level_under_a_lease,
    waiting_on_the_resident_stops_the_clock,
    escalation_starts_over_from_a_new_due_date_and_leaves_imports_alone,
    attainment_counts_open_overdue_requests_as_breaches
);

const KC: chrono_tz::Tz = chrono_tz::America::Chicago;

/// The example: received Friday 16:30 with an 8-business-hour target, Monday a holiday.
async fn business_hours_due_dates_follow_the_department_calendar(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let pw = DepartmentCode::parse("public-works").unwrap();
    let mut lights = store.service(&code("pothole")).await.unwrap().unwrap();
    lights.code = code("streetlight-out");
    lights.sla = Some(SlaTarget {
        amount: 8,
        unit: SlaUnit::BusinessHours,
    });
    store.upsert_service(&lights).await.unwrap();
    let friday = KC
        .with_ymd_and_hms(2024, 5, 24, 16, 30, 0)
        .unwrap()
        .with_timezone(&Utc);
    // No calendar yet: business time cannot be counted, so no due date rather than a wrong one.
    let r = store
        .create_request(new_request("streetlight-out"), Actor::Resident, friday)
        .await
        .unwrap();
    assert_eq!(r.due_at, None);

    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let memorial_day = NaiveDate::from_ymd_opt(2024, 5, 27).unwrap();
    let calendar = BusinessCalendar::weekdays(KC, hm(8), hm(17), [memorial_day]).unwrap();
    store.set_calendar(Some(&pw), &calendar).await.unwrap();
    assert_eq!(
        store.calendar(Some(&pw)).await.unwrap(),
        Some(calendar.clone())
    );
    for filed in [
        store
            .create_request(new_request("streetlight-out"), Actor::Resident, friday)
            .await
            .unwrap(),
        store
            .create_request_with_token(new_request("streetlight-out"), Actor::Resident, friday)
            .await
            .unwrap()
            .0,
    ] {
        // Half an hour on Friday, nothing on the weekend or the holiday, 7.5 hours on Tuesday.
        let tuesday = KC.with_ymd_and_hms(2024, 5, 28, 15, 30, 0).unwrap();
        assert_eq!(filed.due_at, Some(tuesday.with_timezone(&Utc)));
    }
    // A department without its own calendar works by the city's.
    let parks = DepartmentCode::parse("parks").unwrap();
    assert_eq!(store.calendar(Some(&parks)).await.unwrap(), None);
    store.set_calendar(None, &calendar).await.unwrap();
    assert_eq!(store.calendar(Some(&parks)).await.unwrap(), Some(calendar));
}

async fn escalation_sweeps_climb_once_per_level_under_a_lease(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let policy = EscalationPolicy::default();
    // Potholes are due in 7 calendar days.
    let r = file(store, "pothole", at(1, 9)).await;
    let closed = file(store, "pothole", at(1, 9)).await;
    store
        .update_request(&closed.id, None, |c| {
            Ok(vec![c.change_status(
                Status::Closed(ClosureReason::Resolved),
                Actor::Staff("crew".into()),
                at(2, 9),
            )?])
        })
        .await
        .unwrap();
    let levels = |events: Vec<civic311_store::StoredEvent>| -> Vec<u8> {
        events
            .into_iter()
            .filter_map(|e| match e.event.kind {
                EventKind::Escalated { level, .. } => Some(level),
                _ => None,
            })
            .collect()
    };
    let sweep = |days: f64| {
        let now = at(1, 9) + Duration::minutes((days * 1440.0) as i64);
        async move {
            store
                .sweep_sla("worker-a", &policy, now)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(
        sweep(5.5).await.events,
        0,
        "70% of the time used: nothing yet"
    );
    assert_eq!(
        sweep(5.7).await,
        SweepReport {
            checked: 1,
            escalated: 1,
            events: 1
        },
        "81%: the assignee is told; the closed request is not looked at"
    );
    assert_eq!(levels(store.events(&r.id).await.unwrap()), [1]);
    assert_eq!(sweep(5.8).await.events, 0, "the same level is not repeated");
    // A sweep that missed a day writes both levels it skipped, each at the time it was reached.
    assert_eq!(sweep(11.0).await.events, 2);
    let events = store.events(&r.id).await.unwrap();
    assert_eq!(levels(events.clone()), [1, 2, 3]);
    let stamps: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::Escalated { .. }))
        .map(|e| e.event.at)
        .collect();
    assert_eq!(
        stamps[1],
        at(8, 9) + Duration::seconds(1),
        "level 2 just after the due date"
    );
    assert_eq!(stamps[2], at(11, 21), "level 3 at 150% of the 7 days");
    assert!(levels(store.events(&closed.id).await.unwrap()).is_empty());
    assert_eq!(sweep(30.0).await.checked, 0, "level 3 is the last");

    // Another server holds the lease: this one does nothing until it expires.
    let later = file(store, "pothole", at(20, 9)).await;
    execute(
        db,
        "UPDATE jobs SET leased_by = 'worker-b', lease_until = '2999-01-01T00:00:00+00:00' \
         WHERE name = 'sla-sweep'",
    )
    .await;
    let now = at(31, 9);
    assert_eq!(
        store.sweep_sla("worker-a", &policy, now).await.unwrap(),
        None
    );
    assert!(levels(store.events(&later.id).await.unwrap()).is_empty());
    execute(
        db,
        "UPDATE jobs SET lease_until = '2000-01-01T00:00:00+00:00' WHERE name = 'sla-sweep'",
    )
    .await;
    let report = store
        .sweep_sla("worker-a", &policy, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.events, 3);
}

/// Runs `sql` on the test database directly (another server's doing).
async fn execute(db: &TestDb, sql: &'static str) {
    use sqlx::Connection;
    match db.backend {
        civic311_testkit::Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(db.url.expose())
                .await
                .unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        civic311_testkit::Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// While the city waits on the resident the request is not escalated, and the due date moves on
/// by the time waited when work resumes.
async fn waiting_on_the_resident_stops_the_clock(db: &TestDb) {
    use civic311_domain::HoldReason;
    let store = &db.store;
    seed_catalog(store).await;
    let policy = EscalationPolicy::default();
    let r = file(store, "pothole", at(1, 9)).await;
    assert_eq!(r.due_at, Some(at(8, 9)));
    let agent = || Actor::Staff("agent".into());
    store
        .update_request(&r.id, None, |q| {
            q.change_status_on_the_clock(
                Status::OnHold(HoldReason::WaitingOnResident),
                None,
                agent(),
                at(2, 9),
            )
        })
        .await
        .unwrap();
    let report = store
        .sweep_sla("w", &policy, at(9, 9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.checked, 0, "a stopped clock is not swept");
    let resumed = store
        .update_request(&r.id, None, |q| {
            q.change_status_on_the_clock(Status::InProgress, Some(at(2, 9)), agent(), at(4, 9))
        })
        .await
        .unwrap();
    assert_eq!(
        resumed.due_at,
        Some(at(10, 9)),
        "two days waited, two days more"
    );
    let kinds: Vec<_> = store
        .events(&r.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.kind.name())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "routed",
            "status_changed",
            "sla_paused",
            "status_changed",
            "sla_resumed",
            "due_date_changed"
        ]
    );
    // 7 of 9 days used: nothing; 8.2 of 9: at risk.
    assert_eq!(
        store
            .sweep_sla("w", &policy, at(8, 9))
            .await
            .unwrap()
            .unwrap()
            .events,
        0
    );
    let report = store
        .sweep_sla("w", &policy, at(9, 9) + Duration::hours(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.events, 1);
}

/// A reclassification that moves the due date later starts the escalation over from it; the
/// last level queues a call-back; requests imported from another system are never escalated.
async fn escalation_starts_over_from_a_new_due_date_and_leaves_imports_alone(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let policy = EscalationPolicy::default();
    let sweep = |now| async move { store.sweep_sla("w", &policy, now).await.unwrap().unwrap() };
    let escalations = |id| async move {
        store
            .events(id)
            .await
            .unwrap()
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::Escalated { .. }))
            .count()
    };
    // Missed trash is due in 3 days; on day 3.5 it is past due (levels 1 and 2).
    let r = file(store, "trash-missed", at(1, 9)).await;
    assert_eq!(r.due_at, Some(at(4, 9)));
    // Imported from another city's Open311 feed, long past its own due date.
    let service = store.service(&code("pothole")).await.unwrap().unwrap();
    let id = civic311_domain::ServiceRequestId::parse("chicago:SR-1").unwrap();
    let imported = civic311_domain::ServiceRequest::open(
        id.clone(),
        new_request("pothole"),
        &service,
        Actor::Import("chicago".into()),
        at(1, 9),
    )
    .unwrap();
    store.upsert_requests(&[imported], "chicago").await.unwrap();
    assert!(store.request(&id).await.unwrap().unwrap().due_at.is_some());
    assert_eq!(sweep(at(4, 21)).await.events, 2);
    assert_eq!(escalations(&r.id).await, 2);
    // It was a pothole (7 days): due on day 8 now; 3.5 days of 7 is not at risk, so the level
    // starts over and nothing more is written until 80 % of the new time.
    let service = store.service(&code("pothole")).await.unwrap().unwrap();
    store
        .update_request(&r.id, None, |req| {
            req.reclassify(
                &service,
                None,
                "it is a pothole",
                Actor::Staff("ann".into()),
                at(4, 22),
            )
        })
        .await
        .unwrap();
    assert_eq!(sweep(at(4, 23)).await.events, 0);
    assert_eq!(
        sweep(at(7, 9)).await.events,
        1,
        "86 % of the new time: level 1 again"
    );
    // Level 3 (150 % of 7 days) queues a call-back.
    assert_eq!(sweep(at(12, 9)).await.events, 2);
    let tasks = store.follow_ups_of(&r.id).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].reason.as_str(), "long_overdue");
    assert_eq!(escalations(&id).await, 0, "imports are never escalated");
}

/// One pothole fixed in time, one late, one still open past due, one open and not yet due, one
/// closed as a duplicate: attainment is 1 of 3 judged, not 1 of 2 closed.
async fn attainment_counts_open_overdue_requests_as_breaches(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let close = |id: civic311_domain::ServiceRequestId, reason, day| async move {
        store
            .update_request(&id, None, |r| {
                Ok(vec![r.change_status(
                    Status::Closed(reason),
                    Actor::Staff("crew".into()),
                    at(day, 9),
                )?])
            })
            .await
            .unwrap();
    };
    // Potholes are due 7 days after filing.
    let in_time = file(store, "pothole", at(1, 9)).await;
    close(in_time.id, ClosureReason::Resolved, 5).await;
    let late = file(store, "pothole", at(1, 9)).await;
    close(late.id.clone(), ClosureReason::Resolved, 12).await;
    file(store, "pothole", at(2, 9)).await; // due on the 9th: overdue on the 20th
    file(store, "pothole", at(18, 9)).await; // due on the 25th
    let dup = file(store, "pothole", at(1, 9)).await;
    store
        .merge_requests(&dup.id, &late.id, Actor::Staff("ann".into()), at(3, 9))
        .await
        .unwrap();
    let a = store.sla_attainment(at(20, 9)).await.unwrap();
    assert_eq!(
        a,
        civic311_store::SlaAttainment {
            met: 1,
            closed_late: 1,
            open_overdue: 1,
            open_on_time: 1
        }
    );
    assert_eq!(a.rate(), Some(1.0 / 3.0));
    assert_eq!(civic311_store::SlaAttainment::default().rate(), None);
}
