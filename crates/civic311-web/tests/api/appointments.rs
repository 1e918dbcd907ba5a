//! A bookable service over HTTP on the real sample: residents see the free days, an agent books
//! one at intake, a full day is refused with nothing filed, and the booking moves and cancels.

use civic311_domain::AppointmentSchedule;
use civic311_testkit::{TestDb, both_backends};
use serde_json::{Value, json};

use crate::TestApp;

both_backends!(residents_pick_a_day_and_staff_move_it);

async fn residents_pick_a_day_and_staff_move_it(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let services = app.store.services().await.unwrap();
    let service = services
        .iter()
        .find(|s| s.name.to_lowercase().contains("bulky"))
        .unwrap_or(&services[0]);
    let code = service.code.as_str();
    let schedule: AppointmentSchedule = toml::from_str(&format!(
        "service = \"{code}\"\ntimezone = \"America/Chicago\"\n\
         days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\ncapacity = 1\n"
    ))
    .unwrap();
    app.store.set_appointment_schedule(&schedule).await.unwrap();
    let key = app.staff_key("agent-sue").await;

    let (status, slots) = app
        .get_json(&format!("/api/v1/appointments/slots?service_code={code}"))
        .await;
    assert_eq!(status, 200, "{slots}");
    let days: Vec<String> = slots["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["day"].as_str().unwrap().to_owned())
        .collect();
    assert!(days.len() >= 15, "four weeks of weekdays: {days:?}");
    assert!(
        slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["free"] == 1)
    );
    let (status, _) = app
        .get_json("/api/v1/appointments/slots?service_code=nope")
        .await;
    assert_eq!(status, 404);
    // Open311 clients see the question.
    let (_, definition) = app
        .get_json(&format!("/open311/v2/services/{code}.json"))
        .await;
    assert!(
        definition.to_string().contains("appointment_date"),
        "{definition}"
    );

    let file = |day: &str| {
        let req = app
            .client
            .post(format!("{}/api/v1/staff/requests", app.base))
            .bearer_auth(&key)
            .json(&json!({
                "service_code": code, "channel": "phone", "address": "414 E 12th St",
                "appointment_date": day,
            }));
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let before = app.store.request_counts().await.unwrap().total;
    let (status, filed) = file(&days[0]).await;
    assert_eq!(status, 200, "{filed}");
    let id = filed["request"]["id"].as_str().unwrap().to_owned();
    let (status, refused) = file(&days[0]).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("fully booked"),
        "{refused}"
    );
    let (status, refused) = file("2020-01-01").await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(
        app.store.request_counts().await.unwrap().total,
        before + 1,
        "refused filings leave nothing behind"
    );

    let post = async |path: &str, body: Value| {
        app.post_as(&key, &format!("/api/v1/staff/requests/{id}/{path}"), body)
            .await
    };
    let (status, moved) = post(
        "appointment",
        json!({ "day": days[1], "reason": "caller asked" }),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["appointment"]["day"], days[1]);
    let (_, slots) = app
        .get_json(&format!("/api/v1/appointments/slots?service_code={code}"))
        .await;
    let free = |day: &str| {
        slots["slots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["day"] == day)
            .unwrap()["free"]
            .clone()
    };
    assert_eq!((free(&days[0]), free(&days[1])), (json!(1), json!(0)));
    let (status, _) = post("appointment/cancel", json!({ "reason": "" })).await;
    assert_eq!(status, 422, "a cancellation needs a reason");
    let (status, cancelled) = post(
        "appointment/cancel",
        json!({ "reason": "no longer needed" }),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["appointment"]["state"], "cancelled");
    // The resident's public history tells the story without the reason.
    let (_, public) = app.get_json(&format!("/api/v1/requests/{id}")).await;
    let text = public.to_string();
    assert!(
        text.contains("appointment_booked") || text.contains("Scheduled for"),
        "{text}"
    );
}
