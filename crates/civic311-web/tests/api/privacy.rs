use chrono::Utc;
use civic311_domain::{
    Actor, Channel, Consent, Department, DepartmentCode, LatLong, Location, NewServiceRequest,
    Priority, Requester, Service, ServiceCode,
};
use civic311_testkit::{TestDb, both_backends};

use crate::TestApp;

both_backends!(public_outputs_carry_no_personal_data);

async fn public_outputs_carry_no_personal_data(db: &TestDb) {
    let store = &db.store;
    let dept = DepartmentCode::parse("public-works").unwrap();
    store
        .upsert_department(&Department {
            code: dept.clone(),
            name: "Public Works".into(),
            email: None,
            phone: None,
        })
        .await
        .unwrap();
    let code = ServiceCode::parse("pothole").unwrap();
    store
        .upsert_service(&Service {
            code: code.clone(),
            name: "Pothole".into(),
            description: None,
            group: None,
            keywords: vec![],
            department: Some(dept),
            attributes: vec![],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        })
        .await
        .unwrap();
    let r = store
        .create_request(
            NewServiceRequest {
                service_code: code,
                description: Some("Pothole by the bus stop".into()),
                location: Location {
                    point: Some(LatLong::new(39.1, -94.58).unwrap()),
                    ..Location::default()
                },
                channel: Channel::Phone,
                priority: Priority::Normal,
                requester: Some(Requester {
                    first_name: Some("Zelda".into()),
                    last_name: Some("Quartermaine".into()),
                    email: Some("zelda.q@example.org".into()),
                    phone: Some("816-555-0199".into()),
                    account_id: Some("acct-77".into()),
                    device_id: Some("device-xyz".into()),
                    consent: Consent {
                        contact: true,
                        survey: true,
                    },
                }),
                attributes: vec![],
                media_url: None,
            },
            Actor::Resident,
            Utc::now(),
        )
        .await
        .unwrap();
    let staff = Actor::Staff("jdoe.agent".into());
    store
        .update_request(&r.id, None, |req| {
            Ok(vec![
                req.add_note(
                    "called back, resident home after 5pm",
                    false,
                    staff.clone(),
                    Utc::now(),
                )?,
                req.add_note(
                    "crew scheduled for Tuesday",
                    true,
                    staff.clone(),
                    Utc::now(),
                )?,
            ])
        })
        .await
        .unwrap();
    let app = TestApp::serve(store.clone()).await;
    let (_, one) = app.get_text(&format!("/api/v1/requests/{}", r.id)).await;
    let (_, list) = app.get_text("/api/v1/requests").await;
    let (_, page) = app.get_text("/").await;
    for body in [&one, &list, &page] {
        for secret in [
            "Zelda",
            "Quartermaine",
            "zelda.q@",
            "816-555-0199",
            "acct-77",
            "device-xyz",
            "jdoe.agent",
            "after 5pm",
        ] {
            assert!(!body.contains(secret), "{secret} leaked");
        }
    }
    assert!(
        one.contains("crew scheduled for Tuesday"),
        "public notes are shown"
    );
    assert!(one.contains("Pothole by the bus stop"));
}
