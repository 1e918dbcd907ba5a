//! The staff API on the real sample: keys and roles, every change as an event with who and why,
//! stale versions refused, duplicates merged and counted.

use civic311_domain::{Actor, Consent, EventKind, NewServiceRequest, Requester};

use civic311_testkit::{TestDb, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

use crate::TestApp;

both_backends!(staff_change_requests_and_everyone_else_is_refused);

async fn staff_change_requests_and_everyone_else_is_refused(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let now = chrono::Utc::now();
    let staff = app.staff_key("agent-jane").await;
    let client = app.store.issue_api_key("fixmystreet", now).await.unwrap();
    // An open sample request, filed again by a resident who left an e-mail address.
    let open = app.open_requests(50).await;
    let sample = &open[0];
    let again = |email: &str| NewServiceRequest {
        service_code: sample.service_code.clone(),
        description: Some("Still there".into()),
        location: sample.location.clone(),
        channel: civic311_domain::Channel::Web,
        priority: civic311_domain::Priority::Normal,
        requester: Some(Requester {
            email: Some(email.into()),
            consent: Consent {
                contact: true,
                survey: false,
            },
            ..Requester::default()
        }),
        attributes: vec![],
        media_url: None,
    };
    let r = app
        .store
        .create_request(again("ada@example.org"), Actor::Resident, now)
        .await
        .unwrap();
    let dup = app
        .store
        .create_request(again("bob@example.org"), Actor::Resident, now)
        .await
        .unwrap();
    let url = |path: &str| format!("/api/v1/staff/requests/{}{path}", r.id);
    let send = async |path: &str, key: Option<&str>, body: Value| {
        app.send_as(Method::POST, &url(path), key, Some(&body))
            .await
    };
    let show = async |key: Option<&str>| app.send_as(Method::GET, &url(""), key, None).await;

    // An agent takes a third call about it: filed, and the earlier reports are suggested.
    let intake =
        async |key: &str, body: Value| app.post_as(key, "/api/v1/staff/requests", body).await;
    let point = sample.location.point.unwrap();
    let call = json!({
        "service_code": sample.service_code.as_str(),
        "channel": "phone",
        "lat": point.lat(),
        "long": point.long(),
        "address": sample.location.address,
        "requester": {"first_name": "Cy", "phone": "816-555-0100", "consent": {"contact": true, "survey": false}},
    });
    assert_eq!(intake(&client, call.clone()).await.0, 403);
    let (status, body) = intake(
        &staff,
        json!({"service_code": "unicorns", "channel": "phone", "address": "1 Main St"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = intake(
        &staff,
        json!({"service_code": sample.service_code.as_str(), "channel": "phone"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = intake(&staff, call).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["channel"], "phone");
    assert_eq!(body["request"]["requester"]["phone"], "816-555-0100");
    let suggested: Vec<&str> = body["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        suggested.contains(&r.id.as_str()) && suggested.contains(&dup.id.as_str()),
        "{body}"
    );
    assert_eq!(body["duplicates"][0]["score"], 1.0, "{body}");

    // Who may.
    let note = json!({"text": "crew sent"});
    assert_eq!(send("/notes", None, note.clone()).await.0, 401);
    assert_eq!(send("/notes", Some("not-a-key"), note.clone()).await.0, 401);
    let (status, body) = send("/notes", Some(&client), note.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("this key is not a staff key"))
    );
    assert_eq!(show(Some(&client)).await.0, 403);
    // Only staff see the requester.
    let (status, view) = show(Some(&staff)).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["request"]["requester"]["email"], "ada@example.org");
    let (_, public) = app.get_json(&format!("/api/v1/requests/{}", r.id)).await;
    assert!(!public.to_string().contains("ada@example.org"), "{public}");

    // Reassigned to another department, saying why: a misroute in the reports.
    let departments = app.store.departments().await.unwrap();
    let other = departments
        .iter()
        .find(|d| Some(&d.code) != r.department.as_ref())
        .unwrap();
    let (status, body) = send(
        "/assign",
        Some(&staff),
        json!({"department": other.code.as_str(), "assignee": null, "reason": "not ours: water main"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["department"], other.code.as_str());
    let (status, body) = send(
        "/assign",
        Some(&staff),
        json!({"department": "nope", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    // A move within the department is a reassignment, not a misroute.
    let (status, body) = send(
        "/assign",
        Some(&staff),
        json!({"department": other.code.as_str(), "assignee": "crew 7", "reason": "nearest crew"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(
        (&stats["reassignments"], &stats["misroutes"]),
        (&json!(2), &json!(1)),
        "{stats}"
    );

    // Closing needs a reason; a stale version is refused; closing twice is not a change.
    let (status, body) = send(
        "/status",
        Some(&staff),
        json!({"status": {"state": "closed"}}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        "/status",
        Some(&staff),
        json!({"status": {"state": "closed", "reason": "resolved"}, "version": 0}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = send(
        "/status",
        Some(&staff),
        json!({"status": {"state": "closed", "reason": "resolved"}, "version": 2}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["status"]["state"], "closed");
    let (status, _) = send(
        "/status",
        Some(&staff),
        json!({"status": {"state": "closed", "reason": "resolved"}}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = send(
        "/reopen",
        Some(&staff),
        json!({"reason": "resident says it is back"}),
    )
    .await;
    assert_eq!(
        (status, &body["request"]["status"]["state"]),
        (200, &json!("open")),
        "{body}"
    );
    let (_, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(
        stats["reopened_within_30_days"], 1,
        "closed and reopened minutes apart: {stats}"
    );
    assert_eq!(send("/notes", Some(&staff), note).await.0, 200);

    // Filed under the wrong service: reclassified, due date recomputed from receipt.
    let mut right = app.store.service(&r.service_code).await.unwrap().unwrap();
    right.code = civic311_domain::ServiceCode::parse("sidewalk-trip-hazard").unwrap();
    right.sla = Some(civic311_domain::SlaTarget {
        amount: 3,
        unit: civic311_domain::SlaUnit::CalendarDays,
    });
    app.store.upsert_service(&right).await.unwrap();
    let (status, body) = send(
        "/reclassify",
        Some(&staff),
        json!({"service_code": "unicorns", "reason": "x"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = send(
        "/reclassify",
        Some(&staff),
        json!({"service_code": "sidewalk-trip-hazard", "reason": "it is the sidewalk, not the street"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["request"]["due_at"].clone()).unwrap();
    let created: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(body["request"]["created_at"].clone()).unwrap();
    assert_eq!(due, created + chrono::Duration::days(3));

    // The second report is merged into the first: it keeps its history, the first counts two.
    let (status, body) = app
        .client
        .post(format!(
            "{}/api/v1/staff/requests/{}/merge",
            app.base, dup.id
        ))
        .bearer_auth(&staff)
        .json(&json!({"parent": r.id.as_str()}))
        .send()
        .await
        .map(|resp| resp.status().as_u16())
        .map(|s| (s, ()))
        .unwrap();
    assert_eq!(status, 200, "{body:?}");
    let (_, view) = show(Some(&staff)).await;
    assert_eq!(view["reports"], 2, "{view}");
    let kinds: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap_or_default())
        .collect();
    let actors: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert!(
        actors.iter().any(|a| a.contains("agent-jane")),
        "{actors:?}"
    );
    assert_eq!(
        kinds,
        [
            "created",
            "routed",
            "reassigned",
            "reassigned",
            "status_changed",
            "reopened",
            "note_added",
            "reclassified",
            "due_date_changed",
            "duplicate_merged"
        ],
        "{view}"
    );
}

both_backends!(staff_manage_the_catalog_in_versions);

/// Staff change a real service's name and SLA through the API: a new version, shown at once on
/// this server's Open311 list; filed requests keep their due dates; other keys are refused.
async fn staff_manage_the_catalog_in_versions(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let now = chrono::Utc::now();
    let staff = app.staff_key("supervisor-amy").await;
    let client = app.store.issue_api_key("fixmystreet", now).await.unwrap();
    let url = "/api/v1/staff/catalog";
    let (_, catalog) = app.send_as(Method::GET, url, Some(&staff), None).await;
    assert_eq!(catalog["version"], 0);
    let mut service = catalog["services"][0].clone();
    let code = service["code"].as_str().unwrap().to_owned();
    // Warm the Open311 list so the change must get past the caches.
    let (_, before) = app.get_json("/open311/v2/services.json").await;
    assert!(!before.to_string().contains("Renamed by the API"));
    service["name"] = json!("Renamed by the API");
    service["sla"] = json!({ "amount": 2, "unit": "business_days" });
    service["sla_by_priority"] = json!({ "urgent": { "amount": 1, "unit": "calendar_days" } });
    let put =
        async |key: &str, body: Value| app.send_as(Method::PUT, url, Some(key), Some(&body)).await;
    let (status, _) = put(&client, json!({ "services": [service.clone()] })).await;
    assert_eq!(status, 403);
    let (status, saved) = put(&staff, json!({ "services": [service.clone()] })).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["changes"]["sla_changed"], json!([code]));
    let (_, after) = app.get_json("/open311/v2/services.json").await;
    assert!(after.to_string().contains("Renamed by the API"), "{after}");
    let (status, same) = put(&staff, json!({ "services": [service.clone()] })).await;
    assert_eq!(
        (status, &same["version"]),
        (200, &Value::Null),
        "no change, no version"
    );
    let mut stray = service.clone();
    stray["department"] = json!("no-such-department");
    let (status, refused) = put(&staff, json!({ "services": [stray] })).await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("no-such-department")
    );
    let (status, refused) = put(
        &staff,
        json!({ "services": [{ "code": "x", "name": "y", "colour": 1 }] }),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    let (_, versions) = app
        .send_as(Method::GET, &format!("{url}/versions"), Some(&staff), None)
        .await;
    assert_eq!(versions["versions"][0]["saved_by"], "supervisor-amy");
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);

    // Triage: an urgent request gets the urgent target, from receipt, logged.
    let filed: Value = app
        .client
        .post(format!("{}/api/v1/staff/requests", app.base))
        .bearer_auth(&staff)
        .json(&json!({ "service_code": code, "channel": "phone", "address": "414 E 12th St" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = filed["request"]["id"].as_str().unwrap();
    let received: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(filed["request"]["created_at"].clone()).unwrap();
    let resp = app
        .client
        .post(format!("{}/api/v1/staff/requests/{id}/priority", app.base))
        .bearer_auth(&staff)
        .json(&json!({ "priority": "urgent" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let urgent: Value = resp.json().await.unwrap();
    let due: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(urgent["request"]["due_at"].clone()).unwrap();
    // (PostgreSQL keeps microseconds; the filing's answer had nanoseconds.)
    let off = due - (received + chrono::Duration::days(1));
    assert!(
        off.num_microseconds().unwrap().abs() < 1,
        "{due} vs {received}"
    );
    let history = app
        .store
        .events(&civic311_domain::ServiceRequestId::parse(id).unwrap())
        .await
        .unwrap();
    assert!(history.iter().any(|e| matches!(&e.event.kind,
        EventKind::DueDateChanged { reason, .. } if reason.contains("normal to urgent"))));
}

both_backends!(follow_ups_and_attachments);

/// The call-back queue fills itself from cases gone wrong and staff close each task with what
/// they did; attachments are checked by content, and internal ones never reach the public.
async fn follow_ups_and_attachments(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let key = app.staff_key("cso-kim").await;
    let open = app.open_requests(3).await;
    let post = async |path: String, body: Value| {
        app.post_as(&key, &format!("/api/v1/staff/{path}"), body)
            .await
    };
    let queue = async |state: &'static str| {
        let path = format!("/api/v1/staff/follow-ups?state={state}");
        app.send_as(Method::GET, &path, Some(&key), None).await.1
    };
    let (a, b, c) = (&open[0].id, &open[1].id, &open[2].id);
    // Closed without finding it, and closed then reopened: both queue themselves.
    let close = |reason: &str| json!({ "status": { "state": "closed", "reason": reason } });
    assert_eq!(
        post(format!("requests/{a}/status"), close("unable_to_locate"))
            .await
            .0,
        200
    );
    assert_eq!(
        post(format!("requests/{b}/status"), close("resolved"))
            .await
            .0,
        200
    );
    assert_eq!(
        post(
            format!("requests/{b}/reopen"),
            json!({ "reason": "still there" })
        )
        .await
        .0,
        200
    );
    let (status, manual) = post(
        format!("requests/{c}/follow-ups"),
        json!({ "note": "caller was upset" }),
    )
    .await;
    assert_eq!(status, 200, "{manual}");
    let q = queue("open").await;
    let reasons: Vec<(&str, &str)> = q["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["request_id"].as_str().unwrap(),
                t["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (a.as_str(), "unable_to_locate"),
            (b.as_str(), "reopened"),
            (c.as_str(), "manual")
        ]
    );
    let task = q["follow_ups"][1]["id"].as_i64().unwrap();
    let (status, _) = post(format!("follow-ups/{task}/done"), json!({ "outcome": " " })).await;
    assert_eq!(status, 422, "an outcome is required");
    let (status, done) = post(
        format!("follow-ups/{task}/done"),
        json!({ "outcome": "called back; crew sent again" }),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["follow_up"]["done_by"], "staff:cso-kim");
    let (status, _) = post(
        format!("follow-ups/{task}/done"),
        json!({ "outcome": "twice" }),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        queue("open").await["follow_ups"].as_array().unwrap().len(),
        2
    );
    assert_eq!(queue("done").await["follow_ups"][0]["id"], task);
    let history = app.store.events(b).await.unwrap();
    assert!(history.iter().any(|e| matches!(&e.event.kind, EventKind::FollowUpDone { outcome, .. } if outcome.contains("crew sent"))));

    // Attachments: a real PNG kept internal, a PDF shown to residents, a text file refused.
    let png: &[u8] = &[
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
    ];
    let pdf: &[u8] = b"%PDF-1.4\n% inspection report\n";
    let upload = |name: &str, public: bool, bytes: &[u8]| {
        let req = app
            .client
            .post(format!(
                "{}/api/v1/staff/requests/{c}/attachments?name={name}&public={public}",
                app.base
            ))
            .bearer_auth(&key)
            .body(bytes.to_vec());
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
        }
    };
    let (status, internal) = upload("crew.png", false, png).await;
    assert_eq!(status, 200, "{internal}");
    assert_eq!(internal["content_type"], "image/png");
    let (status, public) = upload("report.pdf", true, pdf).await;
    assert_eq!(status, 200, "{public}");
    let (status, refused) = upload("notes.txt", false, b"just text").await;
    assert_eq!(status, 400, "{refused}");
    let hidden = internal["media_id"].as_str().unwrap();
    let (status, _) = app.get_text(&format!("/media/{hidden}")).await;
    assert_eq!(status, 404, "internal attachments are not public");
    let got = app
        .client
        .get(format!("{}/api/v1/staff/attachments/{hidden}", app.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap().as_ref(), png);
    let shown = public["media_id"].as_str().unwrap();
    let (status, body) = app.get_text(&format!("/media/{shown}")).await;
    assert_eq!((status, body.as_bytes()), (200, pdf));
    let (_, history) = app.get_json(&format!("/api/v1/requests/{c}")).await;
    let text = history.to_string();
    assert!(
        text.contains("report.pdf") && !text.contains("crew.png"),
        "{text}"
    );
    assert!(
        !text.contains("follow_up"),
        "the call-back queue is internal: {text}"
    );
}

both_backends!(staff_read_the_metrics_of_a_cohort);

/// `GET /api/v1/staff/metrics` on the real sample: staff only, the cohort the query names, and a
/// clear 400 for a bad parameter. (The numbers themselves are checked against DuckDB in
/// crates/civic311/tests/metrics.rs.)
async fn staff_read_the_metrics_of_a_cohort(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let key = app.staff_key("analyst-ana").await;
    let path = "/api/v1/staff/metrics?from=2019-10-01&to=2019-11-01&now=2021-06-01T00:00:00Z";
    assert_eq!(app.send_as(Method::GET, path, None, None).await.0, 401);
    let (status, body) = app.send_as(Method::GET, path, Some(&key), None).await;
    assert_eq!(status, 200, "{body}");
    // The store's own count of the same cohort (the test server's time zone is UTC).
    let at = |d: &str| {
        chrono::DateTime::parse_from_rfc3339(d)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let october = db
        .store
        .count_requests(&civic311_store::RequestFilter {
            created_from: Some(at("2019-10-01T00:00:00Z")),
            created_before: Some(at("2019-11-01T00:00:00Z")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(october > 0);
    assert_eq!(body["volume"]["requests"], october);
    assert_eq!(body["volume"]["by_month"], json!({ "2019-10": october }));
    let t = &body["time_to_close"];
    let parts: i64 = ["closed", "closed_without_time", "duplicates", "open"]
        .iter()
        .map(|k| t[k].as_i64().unwrap())
        .sum();
    assert_eq!(parts, october, "{t}");
    for (query, says) in [
        ("from=yesterday", "from"),
        ("area=42", "LAYER:AREA"),
        ("include_self_generated=maybe", "include_self_generated"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = app
            .send_as(
                Method::GET,
                &format!("/api/v1/staff/metrics?{query}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.to_string().contains(says), "{query}: {body}");
    }
}

both_backends!(staff_read_the_monthly_report_in_three_formats);

/// `GET /api/v1/staff/reports/monthly` on the real sample: staff only; JSON whose month is the
/// metrics endpoint's cohort; HTML and PDF of the same report; a clear 400 for a bad month or
/// format. (The report's numbers are checked against DuckDB in crates/civic311/tests/metrics.rs.)
async fn staff_read_the_monthly_report_in_three_formats(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let key = app.staff_key("clerk-carla").await;
    let path = "/api/v1/staff/reports/monthly?month=2019-10&now=2021-06-01T00:00:00Z";
    assert_eq!(app.send_as(Method::GET, path, None, None).await.0, 401);
    let (status, report) = app.send_as(Method::GET, path, Some(&key), None).await;
    assert_eq!(status, 200, "{report}");
    let (_, metrics) = app
        .send_as(
            Method::GET,
            "/api/v1/staff/metrics?from=2019-10-01&to=2019-11-01&now=2021-06-01T00:00:00Z",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(report["this_month"]["summary"], metrics);
    assert_eq!(report["month"], "2019-10");
    assert_eq!(report["trend"].as_array().unwrap().len(), 13);
    renders_html_and_pdf(&app, &key, path).await;
    refuses(
        &app,
        &key,
        "/api/v1/staff/reports/monthly",
        &[
            ("month=2019-13", "not a month"),
            ("format=docx", "json, html or pdf"),
            ("colour=red", "colour"),
        ],
    )
    .await;
}

/// `path` (with a query) as HTML and as PDF: 200, the content type and the file's first bytes.
async fn renders_html_and_pdf(app: &TestApp, key: &str, path: &str) {
    for (format, content_type, starts) in [
        ("html", "text/html; charset=utf-8", &b"<!doctype html>"[..]),
        ("pdf", "application/pdf", &b"%PDF-"[..]),
    ] {
        let resp = app
            .client
            .get(format!("{}{path}&format={format}", app.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{format}");
        assert_eq!(resp.headers()["content-type"], content_type);
        let body = resp.bytes().await.unwrap();
        assert!(body.starts_with(starts), "{format}");
    }
}

/// Each query of `endpoint` is a 400 whose message says what it names.
async fn refuses(app: &TestApp, key: &str, endpoint: &str, cases: &[(&str, &str)]) {
    for (query, says) in cases {
        let (status, body) = app
            .send_as(Method::GET, &format!("{endpoint}?{query}"), Some(key), None)
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.to_string().contains(says), "{query}: {body}");
    }
}

both_backends!(staff_read_the_process_diagnostics_of_a_cohort);

/// `GET /api/v1/staff/reports/process` on the real sample: staff only; the JSON is the analytics'
/// own diagnostics of the cohort the query names (a year, then a neighborhood of it); HTML and
/// PDF of the same; a clear 400 for a bad parameter.
async fn staff_read_the_process_diagnostics_of_a_cohort(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let key = app.staff_key("analyst-ana").await;
    let path = "/api/v1/staff/reports/process?from=2019-01-01&to=2020-01-01";
    assert_eq!(app.send_as(Method::GET, path, None, None).await.0, 401);
    let at = |d: &str| {
        chrono::DateTime::parse_from_rfc3339(d)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let year = civic311_store::RequestFilter {
        created_from: Some(at("2019-01-01T00:00:00Z")),
        created_before: Some(at("2020-01-01T00:00:00Z")),
        ..Default::default()
    };
    let (status, body) = app.send_as(Method::GET, path, Some(&key), None).await;
    assert_eq!(status, 200, "{body}");
    let expected = civic311_analytics::process::process(&db.store, &year)
        .await
        .unwrap();
    assert!(expected.requests > 100, "{} requests", expected.requests);
    assert_eq!(body, serde_json::to_value(&expected).unwrap());
    let hood = civic311_domain::AreaRef::parse("kc-neighborhoods:69").unwrap();
    let (status, in_hood) = app
        .send_as(
            Method::GET,
            &format!("{path}&area=kc-neighborhoods:69"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{in_hood}");
    let expected = civic311_analytics::process::process(
        &db.store,
        &civic311_store::RequestFilter {
            area: Some(hood),
            ..year
        },
    )
    .await
    .unwrap();
    assert!(expected.requests > 0);
    assert!(expected.requests < body["requests"].as_u64().unwrap());
    assert_eq!(in_hood, serde_json::to_value(&expected).unwrap());
    renders_html_and_pdf(&app, &key, path).await;
    refuses(
        &app,
        &key,
        "/api/v1/staff/reports/process",
        &[
            ("from=yesterday", "from"),
            ("area=42", "LAYER:AREA"),
            ("format=docx", "json, html or pdf"),
            ("now=2021-01-01", "now"),
        ],
    )
    .await;
}

both_backends!(
    every_number_lists_its_requests_in_kansas_city,
    every_number_lists_its_requests_in_new_york
);

/// The Kansas City sample has areas (neighborhoods, from the source rows) and no due dates.
async fn every_number_lists_its_requests_in_kansas_city(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let cohort = "from=2019-01-01&to=2020-01-01&now=2021-06-01T00:00:00Z";
    let numbers = every_number_lists_its_requests(&app, cohort, "2021-06-01").await;
    assert!(
        numbers
            .iter()
            .any(|(f, c)| f.starts_with("area:") && *c > 0)
    );
}

/// The New York samples have due dates: every SLA verdict occurs.
async fn every_number_lists_its_requests_in_new_york(db: &TestDb) {
    let app = TestApp::with_new_york(db).await;
    let cohort = "from=2013-01-01&to=2024-01-01&now=2023-03-01T00:00:00Z";
    let mut numbers = every_number_lists_its_requests(&app, cohort, "2023-03-01").await;
    // January 2018 judged on February 1st: its open requests were not due yet.
    let cohort = "from=2018-01-01&to=2018-02-01&now=2018-02-01T00:00:00Z";
    numbers.extend(every_number_lists_its_requests(&app, cohort, "2018-02-01").await);
    for verdict in ["met", "closed_late", "open_overdue", "open_on_time"] {
        let facet = format!("sla:{verdict}");
        assert!(
            numbers.iter().any(|(f, c)| *f == facet && *c > 0),
            "{facet}"
        );
    }
}

/// `GET /api/v1/staff/metrics/requests` lists, for every number the metrics give of `cohort`
/// (each channel, service, department, status, month and area, each time-to-close and aging
/// bucket, each SLA class), as many requests as that number says, and pages through them; a
/// facet that is not one is a 400 naming it. The dashboard's links are these lists. Returns the
/// numbers checked.
async fn every_number_lists_its_requests(
    app: &TestApp,
    cohort: &str,
    now: &str,
) -> Vec<(String, u64)> {
    let key = app.staff_key("analyst-ana").await;
    let (status, m) = app
        .send_as(
            Method::GET,
            &format!("/api/v1/staff/metrics?{cohort}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    let n = |v: &Value| v.as_u64().unwrap();
    let mut numbers: Vec<(String, u64)> = vec![
        ("all".into(), n(&m["volume"]["requests"])),
        ("open".into(), n(&m["backlog"]["open"])),
        ("closed".into(), n(&m["time_to_close"]["closed"])),
        (
            "closed_without_time".into(),
            n(&m["time_to_close"]["closed_without_time"]),
        ),
        ("duplicates".into(), n(&m["time_to_close"]["duplicates"])),
        (
            "sla_breached".into(),
            n(&m["sla"]["closed_late"]) + n(&m["sla"]["open_overdue"]),
        ),
    ];
    for (facet, key) in [
        ("channel", "by_channel"),
        ("service", "by_service"),
        ("department", "by_department"),
        ("status", "by_status"),
        ("month", "by_month"),
    ] {
        for (value, count) in m["volume"][key].as_object().unwrap() {
            numbers.push((format!("{facet}:{value}"), n(count)));
        }
    }
    for (layer, areas) in m["volume"]["by_area"].as_object().unwrap() {
        for (area, count) in areas.as_object().unwrap() {
            numbers.push((format!("area:{layer}:{area}"), n(count)));
        }
    }
    for (prefix, list) in [
        ("close", &m["time_to_close"]["distribution"]),
        ("age", &m["backlog"]["aging"]),
    ] {
        for (i, bucket) in list.as_array().unwrap().iter().enumerate() {
            numbers.push((format!("{prefix}:{i}"), n(&bucket["requests"])));
        }
    }
    for class in [
        "met",
        "closed_late",
        "open_overdue",
        "open_on_time",
        "closed_without_time",
        "without_target",
        "self_generated_left_out",
    ] {
        numbers.push((format!("sla:{class}"), n(&m["sla"][class])));
    }
    assert!(numbers.len() > 25, "{numbers:?}");
    for (facet, expected) in &numbers {
        let path = format!("/api/v1/staff/metrics/requests?{cohort}&facet={facet}&limit=1000");
        let (status, body) = app.send_as(Method::GET, &path, Some(&key), None).await;
        assert_eq!(status, 200, "{facet}: {body}");
        assert_eq!(n(&body["total"]), *expected, "{facet}");
        let listed = body["requests"].as_array().unwrap();
        assert_eq!(listed.len() as u64, (*expected).min(1000), "{facet}");
        if facet == "sla:open_overdue" {
            for r in listed {
                assert_ne!(r["status"]["state"], "closed", "{r}");
                assert!(r["due_at"].as_str().unwrap() < now, "{r}");
            }
        }
    }
    // Pages: the second page of two starts where the first ended.
    let page = |offset: u32| {
        format!("/api/v1/staff/metrics/requests?{cohort}&facet=open&limit=2&offset={offset}")
    };
    let (_, both) = app.send_as(Method::GET, &page(0), Some(&key), None).await;
    let (_, second) = app.send_as(Method::GET, &page(1), Some(&key), None).await;
    assert_eq!(both["requests"][1]["id"], second["requests"][0]["id"]);
    assert_eq!(app.send_as(Method::GET, &page(0), None, None).await.0, 401);
    for (query, says) in [
        ("facet=colour:red", "colour:red"),
        ("facet=age:9", "age:9"),
        ("limit=0", "limit"),
        ("department=parks%2Frec", "department"),
    ] {
        let path = format!("/api/v1/staff/metrics/requests?{query}");
        let (status, body) = app.send_as(Method::GET, &path, Some(&key), None).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.to_string().contains(says), "{query}: {body}");
    }
    numbers
}
