use civic311_domain::{
    Actor, Channel, ClosureReason, Department, DepartmentCode, EventKind, InformationalContact,
    RequestEvent, Status,
};
use civic311_testkit::{TestDb, both_backends};

use crate::{at, file, seed_catalog};

both_backends!(activity_counts_what_happened_in_the_period_by_its_own_time);

/// A month's escalations, reassignments (misroutes among them), reopenings, surveys and
/// informational contacts count by when they happened, whatever month the request was filed in.
async fn activity_counts_what_happened_in_the_period_by_its_own_time(db: &TestDb) {
    let store = &db.store;
    seed_catalog(store).await;
    let streets = DepartmentCode::parse("streets").unwrap();
    store
        .upsert_department(&Department {
            code: streets.clone(),
            name: "Streets".into(),
            email: None,
            phone: None,
        })
        .await
        .unwrap();
    let r = file(store, "pothole", at(1, 9)).await;
    let crew = || Actor::Staff("crew".into());
    let event = |at, kind| RequestEvent {
        at,
        actor: Actor::Resident,
        kind,
    };
    let change = |f: Box<dyn FnOnce(&mut civic311_domain::ServiceRequest) -> _ + Send>| {
        store.update_request(&r.id, None, f)
    };
    // Routed to Public Works at filing: moved to Streets (a misroute), then to a crew there.
    let to = streets.clone();
    change(Box::new(move |q| {
        Ok(vec![q.assign(
            Some(to),
            None,
            "wrong department",
            crew(),
            at(2, 9),
        )?])
    }))
    .await
    .unwrap();
    let to = streets.clone();
    change(Box::new(move |q| {
        Ok(vec![q.assign(
            Some(to),
            Some("crew-7".into()),
            "nearest crew",
            crew(),
            at(3, 9),
        )?])
    }))
    .await
    .unwrap();
    change(Box::new(move |q| {
        Ok(vec![q.change_status(
            Status::Closed(ClosureReason::Resolved),
            crew(),
            at(4, 9),
        )?])
    }))
    .await
    .unwrap();
    change(Box::new(move |q| {
        Ok(vec![q.reopen("still there", crew(), at(5, 9))?])
    }))
    .await
    .unwrap();
    change(Box::new(move |_| {
        Ok(vec![
            event(
                at(6, 9),
                EventKind::Escalated {
                    level: 1,
                    notified: "crew-7".into(),
                    reason: "at risk".into(),
                },
            ),
            event(
                at(6, 10),
                EventKind::SurveyAnswered {
                    survey: "closure".into(),
                    score: Some(1),
                },
            ),
            event(
                at(6, 11),
                EventKind::SurveyAnswered {
                    survey: "closure".into(),
                    score: Some(4),
                },
            ),
            event(
                at(6, 12),
                EventKind::SurveyAnswered {
                    survey: "closure".into(),
                    score: None,
                },
            ),
            // In the next period.
            event(
                at(20, 9),
                EventKind::SurveyAnswered {
                    survey: "closure".into(),
                    score: Some(2),
                },
            ),
        ])
    }))
    .await
    .unwrap();
    for day in [2, 20, 21] {
        store
            .record_contact(&InformationalContact {
                topic: "trash-day".into(),
                channel: Channel::Phone,
                started_at: at(day, 9),
                duration_secs: Some(90),
                article: None,
                answered_by: None,
                area: None,
                request_id: None,
            })
            .await
            .unwrap();
    }

    let first = store.activity(at(1, 0), at(10, 0)).await.unwrap();
    assert_eq!(
        first,
        civic311_store::Activity {
            informational_contacts: 1,
            escalations: 1,
            reassignments: 2,
            misroutes: 1,
            reopened: 1,
            surveys_answered: 2,
            dissatisfied: 1,
        }
    );
    let later = store.activity(at(10, 0), at(31, 0)).await.unwrap();
    assert_eq!(
        later,
        civic311_store::Activity {
            informational_contacts: 2,
            surveys_answered: 1,
            dissatisfied: 1,
            ..Default::default()
        }
    );
}
