use civic311_store::RequestFilter;
use civic311_testkit::{TestDb, both_backends};

use crate::TestApp;

both_backends!(
    lists_and_shows_the_real_sample,
    bad_parameters_get_a_clear_400,
    overview_page_shows_the_store,
    duplicates_are_suggested_from_the_real_sample
);

async fn lists_and_shows_the_real_sample(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let total = app
        .store
        .count_requests(&RequestFilter::default())
        .await
        .unwrap();
    let open = app
        .store
        .count_requests(&RequestFilter {
            states: vec!["open"],
            ..Default::default()
        })
        .await
        .unwrap();

    let (status, stats) = app.get_json("/api/v1/stats").await;
    assert_eq!(status, 200);
    assert_eq!(stats["requests"], total);
    assert_eq!(stats["by_status"]["open"], open);
    // The imported sample carries no due dates: nothing to judge, so no rate rather than 100 %.
    assert_eq!(stats["sla"]["counts"]["met"], 0);
    assert_eq!(stats["sla"]["attainment"], serde_json::Value::Null);

    let (status, page) = app.get_json("/api/v1/requests").await;
    assert_eq!(status, 200);
    assert_eq!(
        (page["total"].as_i64(), page["page_size"].as_i64()),
        (Some(total), Some(50))
    );
    let list = page["requests"].as_array().unwrap();
    assert_eq!(list.len(), 50);
    let created: Vec<&str> = list
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (_, open_page) = app
        .get_json("/api/v1/requests?status=open&page_size=500")
        .await;
    assert_eq!(open_page["total"], open);
    assert!(
        open_page["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "open")
    );

    let (_, last) = app
        .get_json(&format!(
            "/api/v1/requests?page={}&page_size=50",
            total / 50 + 1
        ))
        .await;
    assert_eq!(
        last["requests"].as_array().unwrap().len() as i64,
        total % 50
    );

    let (status, one) = app.get_json("/api/v1/requests/2019193337").await;
    assert_eq!(status, 200);
    assert_eq!(
        one["request"]["id"], "2019193337",
        "ids are strings on the wire"
    );
    assert_eq!(one["request"]["status_reason"], "resolved");
    let kinds: Vec<&str> = one["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "routed", "status_changed"]);

    let (_, services) = app.get_json("/api/v1/services").await;
    assert_eq!(
        services["services"].as_array().unwrap().len(),
        app.store.services().await.unwrap().len()
    );
    let (status, health) = app.get_json("/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["database"], app.store.backend_name());
}

async fn bad_parameters_get_a_clear_400(db: &TestDb) {
    let app = TestApp::serve(db.store.clone()).await;
    let cases = [
        (
            "/api/v1/requests?status=lost",
            400,
            "unknown status \"lost\"",
        ),
        (
            "/api/v1/requests?page_size=501",
            400,
            "page_size must be between 1 and 500",
        ),
        ("/api/v1/requests?page=0", 400, "page starts at 1"),
        ("/api/v1/requests?page=first", 400, "page"),
        ("/api/v1/requests?colour=red", 400, "unknown field `colour`"),
        (
            "/api/v1/requests/424242",
            404,
            "service request 424242 not found",
        ),
        (
            "/api/v1/requests/%20x",
            400,
            "must not start or end with white space",
        ),
        ("/api/v2/nothing", 404, "no such page"),
    ];
    for (path, code, message) in cases {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, code, "{path}: {body}");
        let text = body["error"].as_str().unwrap();
        assert!(text.contains(message), "{path}: {text}");
    }
}

async fn overview_page_shows_the_store(db: &TestDb) {
    let app = TestApp::with_sample(db).await;
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    let total = app
        .store
        .count_requests(&RequestFilter::default())
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<b>{total}</b>requests")),
        "total shown"
    );
    let (_, top_name, _) = app.store.service_counts(1).await.unwrap().remove(0);
    let escaped = top_name.replace('&', "&#38;").replace('/', "&#x2f;");
    assert!(
        html.contains(&top_name) || html.contains(&escaped),
        "top service {top_name} shown"
    );
}

/// A new report at the address of an open sample request, for the same service, gets that
/// request as its best suggestion; every suggestion for the sample's own duplicates (STATUS DUP)
/// is an earlier request of a related service, best first.
async fn duplicates_are_suggested_from_the_real_sample(db: &TestDb) {
    use civic311_domain::{Actor, Channel, ClosureReason, NewServiceRequest, Priority, Status};
    let app = TestApp::with_sample(db).await;
    let page = civic311_store::Page {
        limit: 500,
        offset: 0,
    };
    let open = app
        .store
        .public_requests(
            &RequestFilter {
                states: vec!["open"],
                ..Default::default()
            },
            page,
        )
        .await
        .unwrap();
    let target = open
        .iter()
        .find(|r| r.location.point.is_some() && r.location.address.is_some())
        .expect("an open sample request with a point and an address");
    let new = app
        .store
        .create_request(
            NewServiceRequest {
                service_code: target.service_code.clone(),
                description: None,
                location: target.location.clone(),
                channel: Channel::Phone,
                priority: Priority::Normal,
                requester: None,
                attributes: vec![],
                media_url: None,
            },
            Actor::Resident,
            // A day later, as a neighbour would call.
            target.created_at + chrono::Duration::days(1),
        )
        .await
        .unwrap();
    let (status, body) = app
        .get_json(&format!("/api/v1/requests/{}/duplicates", new.id))
        .await;
    assert_eq!(status, 200, "{body}");
    let first = &body["suggestions"][0];
    // The newest open request at that address is the best one; the sample may hold several.
    assert_eq!(first["suggestion"]["score"], 1.0, "{body}");
    assert_eq!(first["suggestion"]["same_address"], true);
    assert_eq!(first["suggestion"]["open"], true);
    assert_eq!(
        first["request"]["service_code"],
        target.service_code.as_str()
    );
    assert!(first["request"].get("requester").is_none());

    let catalog = app.store.services().await.unwrap();
    let group = |code: &str| {
        catalog
            .iter()
            .find(|s| s.code.as_str() == code)
            .and_then(|s| s.group.clone())
    };
    let dups = app
        .store
        .public_requests(
            &RequestFilter {
                states: vec!["closed"],
                ..Default::default()
            },
            civic311_store::Page {
                limit: 100_000,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.status == Status::Closed(ClosureReason::Duplicate))
        .collect::<Vec<_>>();
    assert!(!dups.is_empty(), "the sample has Kansas City's DUP rows");
    let mut with_suggestions = 0;
    for dup in &dups {
        let (status, body) = app
            .get_json(&format!("/api/v1/requests/{}/duplicates", dup.id))
            .await;
        assert_eq!(status, 200, "{body}");
        let list = body["suggestions"].as_array().unwrap();
        with_suggestions += usize::from(!list.is_empty());
        let mut last = 1.0;
        for s in list {
            let score = s["suggestion"]["score"].as_f64().unwrap();
            assert!((0.5..=last).contains(&score), "{body}");
            last = score;
            let code = s["request"]["service_code"].as_str().unwrap();
            assert!(
                code == dup.service_code.as_str()
                    || (group(code).is_some() && group(code) == group(dup.service_code.as_str())),
                "{body}"
            );
            let requested: chrono::DateTime<chrono::Utc> = s["request"]["created_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(requested < dup.created_at, "{body}");
        }
    }
    eprintln!(
        "{with_suggestions} of {} sample duplicates get a suggestion",
        dups.len()
    );
    let (status, _) = app.get_json("/api/v1/requests/nope/duplicates").await;
    assert_eq!(status, 404);
}

both_backends!(residents_see_similar_reports_before_filing);

/// An app asks before filing: a neighbour's open report at the same address comes back first,
/// without personal data; a report elsewhere does not; bad questions get a 400.
async fn residents_see_similar_reports_before_filing(db: &TestDb) {
    use civic311_domain::{Actor, Channel, Consent, NewServiceRequest, Priority, Requester};
    let app = TestApp::with_sample(db).await;
    let sample = app
        .store
        .public_requests(
            &RequestFilter {
                states: vec!["open"],
                ..Default::default()
            },
            civic311_store::Page {
                limit: 500,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.location.point.is_some() && r.location.address.is_some())
        .unwrap();
    let neighbour = app
        .store
        .create_request(
            NewServiceRequest {
                service_code: sample.service_code.clone(),
                description: Some("Huge pothole by the bus stop".into()),
                location: sample.location.clone(),
                channel: Channel::Phone,
                priority: Priority::Normal,
                requester: Some(Requester {
                    email: Some("nina@example.org".into()),
                    consent: Consent {
                        contact: true,
                        survey: false,
                    },
                    ..Requester::default()
                }),
                attributes: vec![],
                media_url: None,
            },
            Actor::Resident,
            chrono::Utc::now() - chrono::Duration::hours(3),
        )
        .await
        .unwrap();
    let point = sample.location.point.unwrap();
    let ask = |lat: f64, long: f64| {
        format!(
            "/api/v1/requests/similar?service_code={}&lat={lat}&long={long}&description=pothole%20near%20bus%20stop",
            sample.service_code
        )
    };
    let (status, body) = app.get_json(&ask(point.lat(), point.long())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["suggestions"][0]["request"]["id"],
        neighbour.id.as_str(),
        "{body}"
    );
    assert!(
        !body.to_string().contains("nina@example.org"),
        "no personal data: {body}"
    );
    // Two kilometres away: not the same pothole.
    let (_, far) = app.get_json(&ask(point.lat() + 0.02, point.long())).await;
    assert!(
        far["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["request"]["id"] != neighbour.id.as_str()),
        "{far}"
    );
    let (status, _) = app
        .get_json("/api/v1/requests/similar?service_code=unicorns&lat=39&long=-94")
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json(&format!(
            "/api/v1/requests/similar?service_code={}&lat=39",
            sample.service_code
        ))
        .await;
    assert_eq!(status, 400);
}
