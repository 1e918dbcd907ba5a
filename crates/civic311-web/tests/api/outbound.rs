//! Work orders handed to a real local HTTP receiver that fails on purpose: refusals, outages,
//! answers lost after the work was taken. Nothing is lost, and a receiver that dedups by the
//! idempotency key takes each order exactly once. Then the field system's signed updates, and
//! reconciliation against what the receiver says.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use civic311_domain::{Backoff, EventKind, ServiceRequestId, WorkOrderState};

use civic311_testkit::{TestDb, both_backends};
use civic311_web::AppState;
use civic311_web::open311::Open311Config;
use civic311_web::outbound::signing::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
use civic311_web::outbound::{FieldSystem, FieldSystems, Mailer, Outbound, deliver_due, reconcile};
use serde_json::{Value, json};

use crate::TestApp;

const SECRET: &str = "a-long-shared-secret-for-tests";

/// A field system that dedups by `Idempotency-Key`, checks signatures, and misbehaves by plan.
#[derive(Default)]
struct Receiver {
    /// Every POST, by idempotency key, in arrival order.
    hits: Vec<String>,
    /// What it took: idempotency key -> (its id, its state).
    taken: HashMap<String, (String, String)>,
    /// Requests whose signature did not verify.
    bad_signatures: usize,
}

type Shared = Arc<Mutex<Receiver>>;

/// The plan, by the order's number in the instructions ("n=K"): K % 3 == 0 fails twice with 503;
/// K % 3 == 1 takes the order, then answers too late (the sender times out and sends again);
/// K % 3 == 2 takes it at once. Orders marked "refuse" get 400.
async fn take(State(rx): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    let key = header("idempotency-key").unwrap_or_default().to_owned();
    let order: Value = serde_json::from_slice(&body).unwrap();
    let instructions = order["instructions"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (attempt, known) = {
        let mut rx = rx.lock().unwrap();
        if verify(
            SECRET,
            header(TIMESTAMP_HEADER),
            header(SIGNATURE_HEADER),
            &body,
            now,
        )
        .is_err()
        {
            rx.bad_signatures += 1;
            return StatusCode::UNAUTHORIZED.into_response();
        }
        rx.hits.push(key.clone());
        let attempt = rx.hits.iter().filter(|k| **k == key).count();
        (attempt, rx.taken.get(&key).map(|(id, _)| id.clone()))
    };
    if instructions == "refuse" {
        return (StatusCode::BAD_REQUEST, "unknown asset type").into_response();
    }
    let n: usize = instructions.trim_start_matches("n=").parse().unwrap_or(2);
    if n.is_multiple_of(3) && attempt <= 2 {
        return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
    }
    // Dedup: an order seen before gets its first id back and is not taken again.
    let id = known.unwrap_or_else(|| {
        let mut rx = rx.lock().unwrap();
        let id = format!("CW-{}", 1000 + rx.taken.len());
        rx.taken.insert(key.clone(), (id.clone(), "sent".into()));
        id
    });
    if n % 3 == 1 && attempt == 1 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    axum::Json(json!({ "external_id": id })).into_response()
}

async fn state_of(State(rx): State<Shared>, Path(id): Path<String>) -> Response {
    let rx = rx.lock().unwrap();
    match rx.taken.values().find(|(i, _)| *i == id) {
        Some((_, state)) => axum::Json(json!({ "state": state })).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start_receiver() -> (String, Shared) {
    let shared = Shared::default();
    let app = Router::new()
        .route("/wo", post(take))
        .route("/wo/{id}", get(state_of))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, shared)
}

fn system(name: &str, endpoint: String) -> FieldSystem {
    FieldSystem {
        name: name.into(),
        endpoint,
        secret: SECRET.into(),
        closes_requests: true,
        timeout: Duration::from_millis(500),
    }
}

both_backends!(work_orders_reach_a_failing_receiver_once_each);

async fn work_orders_reach_a_failing_receiver_once_each(db: &TestDb) {
    let sample = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kansas-city/kc311_sample.csv");
    civic311_import::kansas_city::import_file(&db.store, &sample)
        .await
        .unwrap();
    let (receiver, rx) = start_receiver().await;
    // A port nobody listens on: the field system is down.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/wo", l.local_addr().unwrap())
    };
    let systems = FieldSystems::new(vec![
        system("streets", format!("{receiver}/wo")),
        system("parks", down.clone()),
    ]);
    let app = TestApp::serve_state(
        AppState::new(db.store.clone(), Open311Config::default())
            .with_field_systems(systems.clone()),
    )
    .await;
    let now = chrono::Utc::now();
    let key = app.staff_key("agent-ken").await;
    let open = app.open_requests(14).await;
    assert_eq!(open.len(), 14);
    let ask = async |id: &ServiceRequestId, body: Value| {
        app.post_as(
            &key,
            &format!("/api/v1/staff/requests/{id}/work-orders"),
            body,
        )
        .await
    };
    // An unknown system and a missing key are refused before anything is written.
    let (status, body) = ask(&open[0].id, json!({ "system": "nope" })).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("streets"),
        "{body}"
    );
    let mut orders = Vec::new();
    for (n, r) in open[..12].iter().enumerate() {
        let (status, body) = ask(
            &r.id,
            json!({ "system": "streets", "instructions": format!("n={n}") }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["work_order"]["state"], "queued");
        orders.push((
            r.id.clone(),
            body["work_order"]["id"].as_str().unwrap().to_owned(),
        ));
    }
    let (_, refused) = ask(
        &open[12].id,
        json!({ "system": "streets", "instructions": "refuse" }),
    )
    .await;
    let refused = refused["work_order"]["id"].as_str().unwrap().to_owned();
    let (_, parked) = ask(&open[13].id, json!({ "system": "parks" })).await;
    let parked = parked["work_order"]["id"].as_str().unwrap().to_owned();

    // Delivery rounds, the clock moved past every backoff between rounds.
    let backoff = Backoff {
        base: Duration::from_secs(10),
        max: Duration::from_secs(60),
        max_attempts: 4,
    };
    let client = reqwest::Client::new();
    let mut clock = now;
    let mut rounds = Vec::new();
    for _ in 0..8 {
        let r = deliver_due(
            &app.store,
            &systems.clone().into(),
            &client,
            &backoff,
            "test",
            clock,
        )
        .await
        .unwrap();
        rounds.push(r);
        clock += chrono::Duration::hours(1);
    }
    assert_eq!(
        app.store.outbox("pending", 100).await.unwrap(),
        vec![],
        "{rounds:?}"
    );
    let delivered: usize = rounds.iter().map(|r| r.delivered).sum();
    assert_eq!(delivered, 12, "{rounds:?}");

    // Nothing lost, nothing taken twice, though some were sent twice or more.
    let (hits, taken, bad) = {
        let rx = rx.lock().unwrap();
        (rx.hits.clone(), rx.taken.clone(), rx.bad_signatures)
    };
    assert_eq!(bad, 0, "every delivery is signed");
    for (n, (request, wo)) in orders.iter().enumerate() {
        let sent = hits.iter().filter(|k| *k == wo).count();
        let expected = match n % 3 {
            0 => 3, // two 503s, then taken
            1 => 2, // taken, answer lost, sent again and recognised
            _ => 1,
        };
        assert_eq!(sent, expected, "order {n} ({wo}) was sent {sent} times");
        let (external, _) = &taken[wo];
        let order = app.store.work_order(wo).await.unwrap().unwrap();
        assert_eq!(order.state, WorkOrderState::Sent);
        assert_eq!(order.external_id.as_deref(), Some(external.as_str()));
        let history = app.store.events(request).await.unwrap();
        let linked: Vec<_> = history
            .iter()
            .filter_map(|e| match &e.event.kind {
                EventKind::WorkOrderLinked { external_id, .. } => Some(external_id.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(linked, vec![external.clone()], "one link event per order");
    }
    assert_eq!(taken.len(), 12, "the receiver took each order once");

    // The refused order is a dead letter at once; the unreachable one after 4 attempts.
    let dead = app.store.outbox("dead", 100).await.unwrap();
    let attempts: HashMap<_, _> = dead
        .iter()
        .map(|m| (m.idempotency_key.clone(), m.attempts))
        .collect();
    assert_eq!(attempts.len(), 2, "{dead:?}");
    assert_eq!(attempts[&refused], 1);
    assert_eq!(attempts[&parked], 4);
    assert!(
        dead.iter()
            .any(|m| m.last_error.as_deref().unwrap().contains("400"))
    );
    let failed = app.store.work_order(&parked).await.unwrap().unwrap();
    assert_eq!(failed.state, WorkOrderState::Failed);
    let history = app.store.events(&open[13].id).await.unwrap();
    assert!(
        history
            .iter()
            .any(|e| matches!(e.event.kind, EventKind::WorkOrderFailed { .. }))
    );

    // The parks system comes back (configuration fixed): its dead letter is retried and taken.
    assert!(app.store.retry_dead_letter(&parked, clock).await.unwrap());
    assert!(
        !app.store.retry_dead_letter(&parked, clock).await.unwrap(),
        "only dead letters"
    );
    let fixed = FieldSystems::new(vec![system("parks", format!("{receiver}/wo"))]);
    let r = deliver_due(&app.store, &fixed.into(), &client, &backoff, "test", clock)
        .await
        .unwrap();
    assert_eq!((r.delivered, r.dead), (1, 0));
    let parked_order = app.store.work_order(&parked).await.unwrap().unwrap();
    assert_eq!(parked_order.state, WorkOrderState::Sent);

    // Signed updates from the field system.
    let update = |body: Value, secret: &str, at: i64| {
        let bytes = serde_json::to_vec(&body).unwrap();
        let req = app
            .client
            .post(format!("{}/api/v1/field/streets/updates", app.base))
            .header(TIMESTAMP_HEADER, at)
            .header(SIGNATURE_HEADER, sign(secret, at, &bytes))
            .header("content-type", "application/json")
            .body(bytes);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let t = chrono::Utc::now().timestamp();
    let (request, wo) = &orders[2];
    let external = taken[wo].0.clone();
    let started = json!({ "delivery_id": "d-1", "work_order": external, "state": "in_progress", "note": "crew 7" });
    assert_eq!(
        update(started.clone(), "wrong-secret-wrong-secret", t)
            .await
            .0,
        401
    );
    assert_eq!(
        update(started.clone(), SECRET, t - 3600).await.0,
        401,
        "stale timestamp"
    );
    let (status, body) = update(started.clone(), SECRET, t).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let events_before = app.store.events(request).await.unwrap().len();
    let (status, body) = update(started, SECRET, t).await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("already_received"))
    );
    assert_eq!(
        app.store.events(request).await.unwrap().len(),
        events_before,
        "a replay changes nothing"
    );
    // Done in the field: the request's only work order is complete, so the request is resolved.
    let done = json!({ "delivery_id": "d-2", "work_order": wo, "state": "completed" });
    assert_eq!(update(done, SECRET, t).await.0, 200);
    let closed = app.store.request(request).await.unwrap().unwrap();
    assert!(closed.status.is_closed(), "{:?}", closed.status);
    let late = json!({ "delivery_id": "d-3", "work_order": wo, "state": "in_progress" });
    let (status, body) = update(late, SECRET, t).await;
    assert_eq!(status, 422, "{body}");
    let unknown = json!({ "delivery_id": "d-4", "work_order": "CW-999999", "state": "completed" });
    assert_eq!(update(unknown, SECRET, t).await.0, 404);
    // The staff view lists the request's work orders.
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/staff/requests/{request}/work-orders",
            app.base
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let listed: Value = resp.json().await.unwrap();
    assert_eq!(listed["work_orders"][0]["state"], "completed");

    // Reconciliation: the receiver finished one order without telling us, and lost another.
    {
        let mut rx = rx.lock().unwrap();
        rx.taken.get_mut(&orders[2].1).unwrap().1 = "completed".into();
        rx.taken.get_mut(&orders[4].1).unwrap().1 = "completed".into();
        rx.taken.remove(&orders[5].1);
    }
    let streets = systems.get("streets").unwrap();
    let found = reconcile(&app.store, streets, &client).await.unwrap();
    let by_order: HashMap<_, _> = found.iter().map(|d| (d.work_order.clone(), d)).collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(by_order[&orders[4].1].theirs.as_deref(), Some("completed"));
    assert!(by_order[&orders[4].1].reason.contains("lost"));
    assert_eq!(by_order[&orders[5].1].theirs, None);
    assert!(
        !by_order.contains_key(&orders[2].1),
        "completed on both sides and closed"
    );
}

both_backends!(every_reporter_hears_when_the_parent_closes);

/// Four residents report one pothole; three reports are merged into the first. When staff close
/// it, every reporter who agreed to be contacted is told (e-mail, or a text message when they
/// left only a phone number), and no one else.
async fn every_reporter_hears_when_the_parent_closes(db: &TestDb) {
    use civic311_domain::{Actor, Consent, NewServiceRequest, Requester};

    let app = TestApp::with_sample(db).await;
    let now = chrono::Utc::now();
    let key = app.staff_key("agent-lou").await;
    let sample = app.open_requests(1).await.remove(0);
    let report = |email: Option<&str>, phone: Option<&str>, contact: bool| NewServiceRequest {
        service_code: sample.service_code.clone(),
        description: Some("Pothole in front of the school".into()),
        location: sample.location.clone(),
        channel: civic311_domain::Channel::Web,
        priority: civic311_domain::Priority::Normal,
        requester: Some(Requester {
            email: email.map(Into::into),
            phone: phone.map(Into::into),
            consent: Consent {
                contact,
                survey: false,
            },
            ..Requester::default()
        }),
        attributes: vec![],
        media_url: None,
    };
    let mut ids = Vec::new();
    for (email, phone, contact) in [
        (Some("ada@example.org"), None, true),
        (Some("bob@example.org"), None, true),
        (Some("cyd@example.org"), None, false),
        (None, Some("+1 816 555 0199"), true),
    ] {
        let r = app
            .store
            .create_request(report(email, phone, contact), Actor::Resident, now)
            .await
            .unwrap();
        ids.push(r.id);
    }
    let staff_post = async |id: &ServiceRequestId, path: &str, body: Value| {
        app.post_as(&key, &format!("/api/v1/staff/requests/{id}/{path}"), body)
            .await
            .0
    };
    for child in &ids[1..] {
        assert_eq!(
            staff_post(child, "merge", json!({ "parent": ids[0] })).await,
            200
        );
    }
    assert!(
        app.store.outbox("pending", 100).await.unwrap().is_empty(),
        "merging tells no one yet"
    );
    let closed = json!({ "status": { "state": "closed", "reason": "resolved" } });
    assert_eq!(staff_post(&ids[0], "status", closed).await, 200);
    let queued = app.store.outbox("pending", 100).await.unwrap();
    assert_eq!(queued.len(), 3, "{queued:?}");

    let (smtp, mailbox) = civic311_testkit::smtp::sink().await;
    let (gateway, rx) = start_receiver().await;
    let outbound = Outbound {
        mailer: Some(Mailer::new(&smtp, "KC 311 <311@kcmo.example>").unwrap()),
        sms: Some(system("sms", format!("{gateway}/wo"))),
        ..Outbound::default()
    };
    let client = reqwest::Client::new();
    let backoff = Backoff::default();
    let r = deliver_due(
        &app.store,
        &outbound,
        &client,
        &backoff,
        "test",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!((r.delivered, r.retrying, r.dead), (3, 0, 0));
    let mails = mailbox.lock().unwrap().clone();
    let mut to: Vec<String> = mails.iter().flat_map(|(r, _)| r.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec!["ada@example.org", "bob@example.org"],
        "not cyd: no consent"
    );
    for (_, message) in &mails {
        assert!(
            message.contains(&format!("311 request {} is closed", ids[0])),
            "{message}"
        );
        assert!(
            message.contains("From: \"KC 311\" <311@kcmo.example>"),
            "{message}"
        );
    }
    let texts = rx.lock().unwrap().hits.len();
    assert_eq!(
        texts, 1,
        "the resident with only a phone number gets a text"
    );

    // Without an SMTP server, a notification is a dead letter that says why, at once.
    let lone = app
        .store
        .create_request(
            report(Some("dee@example.org"), None, true),
            Actor::Resident,
            now,
        )
        .await
        .unwrap();
    let closed = json!({ "status": { "state": "closed", "reason": "no_action_needed" } });
    assert_eq!(staff_post(&lone.id, "status", closed).await, 200);
    let r = deliver_due(
        &app.store,
        &Outbound::default(),
        &client,
        &backoff,
        "test",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.dead, 1);
    let dead = app.store.outbox("dead", 10).await.unwrap();
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no SMTP server"),
        "{dead:?}"
    );
}
