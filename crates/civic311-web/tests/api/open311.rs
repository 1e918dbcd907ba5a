//! Open311 GeoReport v2 on the wire, over the real Kansas City sample plus one service with
//! every kind of attribute, on SQLite and PostgreSQL. Snapshots (tests/api/snapshots) pin the
//! exact JSON and XML shapes; both backends must produce the same bytes.

use civic311_domain::{
    AttributeDatatype, AttributeDefinition, AttributeOption, DepartmentCode, Service, ServiceCode,
    SlaTarget, SlaUnit,
};
use civic311_store::RequestFilter;
use civic311_testkit::{TestDb, both_backends};
use civic311_web::open311::Open311Config;
use serde_json::Value;

use crate::TestApp;

both_backends!(
    discovery_services_and_definitions_in_both_formats,
    requests_by_id_in_both_formats_with_extensions,
    list_filters_paging_and_default_window,
    post_with_attributes_then_fetch_by_id_and_token,
    every_bad_input_gets_the_spec_error,
    updates_feed_and_resident_comments,
    media_upload_with_type_and_size_limits,
    posted_requests_land_in_their_neighborhood,
    open_key_policy_and_jurisdictions,
    replies_are_shared_until_a_write_or_their_time_is_up
);

/// A closed and an open request of the real sample.
pub const CLOSED_ID: &str = "2019193337";
pub const OPEN_ID: &str = "2020120830";

pub fn kc_config() -> Open311Config {
    Open311Config {
        jurisdiction_id: Some("kcmo.gov".into()),
        timezone: chrono_tz::America::Chicago,
        public_url: Some("https://311.example.org".into()),
        ..Open311Config::default()
    }
}

fn option(key: &str, name: &str) -> AttributeOption {
    AttributeOption {
        key: key.into(),
        name: name.into(),
    }
}

/// A pothole service as a city would define it, with a question of each datatype.
pub fn pothole_service() -> Service {
    let attr = |code: &str, datatype, required, order, values| AttributeDefinition {
        code: code.into(),
        variable: true,
        datatype,
        required,
        order,
        description: format!("{code}?"),
        datatype_description: None,
        values,
    };
    Service {
        code: ServiceCode::parse("POTHOLE").unwrap(),
        name: "Pothole".into(),
        description: Some("A hole in the road surface".into()),
        group: Some("Streets".into()),
        keywords: vec!["pothole".into(), "road".into()],
        department: Some(DepartmentCode::parse("public-works").unwrap()),
        attributes: vec![
            AttributeDefinition {
                code: "INFO".into(),
                variable: false,
                datatype: AttributeDatatype::Text,
                required: false,
                order: 1,
                description: "Report hazards to 911".into(),
                datatype_description: None,
                values: vec![],
            },
            attr(
                "SIZE",
                AttributeDatatype::Singlevaluelist,
                true,
                2,
                vec![option("S", "Smaller than a plate"), option("L", "Larger")],
            ),
            attr(
                "LANES",
                AttributeDatatype::Multivaluelist,
                false,
                3,
                vec![option("left", "Left lane"), option("bike", "Bike lane")],
            ),
            attr("DEPTH", AttributeDatatype::Number, false, 4, vec![]),
        ],
        sla: Some(SlaTarget {
            amount: 5,
            unit: SlaUnit::CalendarDays,
        }),
        sla_by_priority: Default::default(),
        category: None,
        active: true,
    }
}

pub struct Open311App {
    pub app: TestApp,
    pub key: String,
}

impl Open311App {
    pub async fn start(db: &TestDb) -> Open311App {
        Open311App::start_with(db, kc_config()).await
    }

    pub async fn start_with(db: &TestDb, config: Open311Config) -> Open311App {
        let sample = TestApp::with_sample(db).await;
        let store = sample.store.clone();
        drop(sample);
        store
            .upsert_department(&civic311_domain::Department {
                code: DepartmentCode::parse("public-works").unwrap(),
                name: "Public Works".into(),
                email: None,
                phone: None,
            })
            .await
            .unwrap();
        store.upsert_service(&pothole_service()).await.unwrap();
        let key = store
            .issue_api_key("test-client", chrono::Utc::now())
            .await
            .unwrap();
        Open311App {
            app: TestApp::serve_with(store, config).await,
            key,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/open311/v2/{path}", self.app.base)
    }

    /// GET: (status, content type, body).
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let resp = self.app.client.get(self.url(path)).send().await.unwrap();
        read(resp).await
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let (status, ct, body) = self.get(path).await;
        assert_eq!(ct, "application/json; charset=utf-8", "{path}");
        (status, serde_json::from_str(&body).unwrap())
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .app
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        read(resp).await
    }

    pub async fn post_json(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let (status, ct, body) = self.post_form(path, form).await;
        assert_eq!(ct, "application/json; charset=utf-8", "{path}: {body}");
        (status, serde_json::from_str(&body).unwrap())
    }
}

async fn read(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

fn pretty(body: &str) -> String {
    serde_json::to_string_pretty(&serde_json::from_str::<Value>(body).unwrap()).unwrap()
}

/// The error body must be exactly one GeoReport error whose code is the HTTP status.
fn assert_error(status: u16, body: &Value, expected: u16, mentions: &str) {
    assert_eq!(status, expected, "{body}");
    let errors = body.as_array().expect("an error array");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["code"], expected, "{body}");
    let description = errors[0]["description"].as_str().unwrap();
    assert!(
        description.contains(mentions),
        "{description:?} should mention {mentions:?}"
    );
}

async fn discovery_services_and_definitions_in_both_formats(db: &TestDb) {
    let o = Open311App::start(db).await;
    let (status, ct, body) = o.get("discovery.json").await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "application/json; charset=utf-8")
    );
    insta::assert_snapshot!("discovery_json", pretty(&body));
    let (status, ct, body) = o.get("discovery.xml").await;
    assert_eq!((status, ct.as_str()), (200, "text/xml; charset=utf-8"));
    insta::assert_snapshot!("discovery_xml", body);

    // The list holds every active service of the catalog, codes as strings.
    let (status, services) = o.get_json("services.json").await;
    assert_eq!(status, 200);
    let services = services.as_array().unwrap();
    let catalog = o.app.store.services().await.unwrap();
    assert_eq!(services.len(), catalog.iter().filter(|s| s.active).count());
    assert!(services.iter().all(|s| s["service_code"].is_string()));
    let pothole = services
        .iter()
        .find(|s| s["service_code"] == "POTHOLE")
        .unwrap();
    insta::assert_snapshot!(
        "service_pothole_json",
        serde_json::to_string_pretty(pothole).unwrap()
    );
    let (_, _, xml) = o.get("services.xml").await;
    assert_eq!(xml.matches("<service>").count(), services.len());
    let start = xml.find("<service><service_code>POTHOLE").unwrap();
    let end = start + xml[start..].find("</service>").unwrap() + "</service>".len();
    insta::assert_snapshot!("service_pothole_xml", &xml[start..end]);

    let (status, _, body) = o.get("services/POTHOLE.json").await;
    assert_eq!(status, 200);
    insta::assert_snapshot!("definition_pothole_json", pretty(&body));
    let (status, _, body) = o.get("services/POTHOLE.xml").await;
    assert_eq!(status, 200);
    insta::assert_snapshot!("definition_pothole_xml", body);

    // A real service without questions.
    let real = catalog.iter().find(|s| s.attributes.is_empty()).unwrap();
    let (status, def) = o.get_json(&format!("services/{}.json", real.code)).await;
    assert_eq!(status, 200);
    assert_eq!(def["service_code"], real.code.as_str());
    assert_eq!(def["attributes"], serde_json::json!([]));
}

async fn requests_by_id_in_both_formats_with_extensions(db: &TestDb) {
    let o = Open311App::start(db).await;
    for id in [CLOSED_ID, OPEN_ID] {
        for (ext, query) in [
            ("json", ""),
            ("xml", ""),
            ("json", "?extensions=true"),
            ("xml", "?extensions=true"),
        ] {
            let (status, _, body) = o.get(&format!("requests/{id}.{ext}{query}")).await;
            assert_eq!(status, 200, "{body}");
            let name = format!(
                "request_{id}_{ext}{}",
                if query.is_empty() { "" } else { "_extensions" }
            );
            let body = if ext == "json" { pretty(&body) } else { body };
            insta::assert_snapshot!(name, body);
        }
    }
    // Times carry Kansas City's offset, summer and winter.
    let (_, closed) = o.get_json(&format!("requests/{CLOSED_ID}.json")).await;
    assert_eq!(closed[0]["requested_datetime"], "2019-11-16T14:55:00-06:00");
    assert_eq!(closed[0]["status"], "closed");
    let (_, open) = o.get_json(&format!("requests/{OPEN_ID}.json")).await;
    assert!(
        open[0]["requested_datetime"]
            .as_str()
            .unwrap()
            .ends_with("-05:00")
    );
    assert_eq!(open[0]["status"], "open");
    // No personal data and no empty strings anywhere.
    for r in [&closed[0], &open[0]] {
        for (k, v) in r.as_object().unwrap() {
            assert_ne!(v, "", "{k} is an empty string; absent fields are null");
            assert!(!["email", "phone", "first_name", "last_name"].contains(&k.as_str()));
        }
    }
}

async fn list_filters_paging_and_default_window(db: &TestDb) {
    let o = Open311App::start(db).await;
    // The sample ends in 2020: the spec's default window (last 90 days) holds nothing of it.
    let (status, list) = o.get_json("requests.json").await;
    assert_eq!(status, 200);
    assert_eq!(list, serde_json::json!([]));

    // One year of the sample, page by page: pages are disjoint, newest first, and add up to the
    // number the store holds for that window.
    let window = "start_date=2019-07-01T00:00:00-05:00&end_date=2020-06-30";
    let store_count = o
        .app
        .store
        .count_requests(&RequestFilter {
            created_from: Some("2019-07-01T05:00:00Z".parse().unwrap()),
            created_before: Some("2020-06-30T05:00:00.000001Z".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(store_count > 300, "{store_count}");
    let mut seen = std::collections::HashSet::new();
    let mut last: Option<String> = None;
    for page in 1.. {
        let (status, list) = o
            .get_json(&format!("requests.json?{window}&page={page}&page_size=100"))
            .await;
        assert_eq!(status, 200);
        let list = list.as_array().unwrap().clone();
        for r in &list {
            assert!(seen.insert(r["service_request_id"].as_str().unwrap().to_owned()));
            let t = chrono::DateTime::parse_from_rfc3339(r["requested_datetime"].as_str().unwrap())
                .unwrap()
                .to_utc()
                .to_rfc3339();
            assert!(last.as_ref().is_none_or(|l| *l >= t));
            last = Some(t);
        }
        if list.len() < 100 {
            break;
        }
    }
    assert_eq!(seen.len() as i64, store_count);
    // Default page size is 50; 501 is refused.
    let (_, list) = o.get_json(&format!("requests.json?{window}")).await;
    assert_eq!(list.as_array().unwrap().len(), 50);

    // Filters: service_code list, status, ids.
    let (_, list) = o
        .get_json(&format!(
            "requests.json?{window}&status=closed&page_size=500"
        ))
        .await;
    let closed = list.as_array().unwrap();
    assert!(!closed.is_empty());
    assert!(closed.iter().all(|r| r["status"] == "closed"));
    let code = closed[0]["service_code"].as_str().unwrap().to_owned();
    let (_, list) = o
        .get_json(&format!(
            "requests.json?{window}&service_code={code},POTHOLE&page_size=500"
        ))
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["service_code"] == code.as_str())
    );
    let (_, list) = o
        .get_json(&format!(
            "requests.json?service_request_id={CLOSED_ID},{OPEN_ID}&status=open"
        ))
        .await;
    let mut ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![CLOSED_ID, OPEN_ID],
        "ids override every other argument"
    );

    // updated_after alone reaches back beyond the default window.
    let (_, list) = o
        .get_json("requests.json?updated_after=2020-09-01T00:00:00Z&page_size=500")
        .await;
    let list = list.as_array().unwrap();
    assert!(!list.is_empty());
    for r in list {
        let t =
            chrono::DateTime::parse_from_rfc3339(r["updated_datetime"].as_str().unwrap()).unwrap();
        assert!(t > chrono::DateTime::parse_from_rfc3339("2020-09-01T00:00:00Z").unwrap());
    }
}

async fn post_with_attributes_then_fetch_by_id_and_token(db: &TestDb) {
    let o = Open311App::start(db).await;
    let (status, created) = o
        .post_json(
            "requests.json",
            &[
                ("api_key", &o.key),
                ("jurisdiction_id", "kcmo.gov"),
                ("service_code", "POTHOLE"),
                ("lat", "39.102738"),
                ("long", "-94.600134"),
                ("address_string", "938 Mulberry St"),
                ("description", "Deep pothole, eastbound"),
                ("email", "resident@example.org"),
                ("first_name", "Ada"),
                ("account_id", "acct-9"),
                ("attribute[SIZE]", "L"),
                ("attribute[LANES][]", "left"),
                ("attribute[LANES][]", "bike"),
                ("attribute[DEPTH]", "12"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = created[0]["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 32);
    let redact = |text: String| {
        text.replace(&token, "[token]")
            .replace(&format!("\"{id}\""), "\"[id]\"")
            .replace(&format!(">{id}<"), ">[id]<")
    };
    insta::assert_snapshot!(
        "post_response_json",
        redact(serde_json::to_string_pretty(&created).unwrap())
    );
    assert_eq!(created[0]["account_id"], "acct-9");
    assert!(created[0]["service_notice"].is_null());

    let stored = o
        .app
        .store
        .request(&civic311_domain::ServiceRequestId::parse(id.as_str()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let answers: Vec<(String, Vec<String>)> = stored
        .attributes
        .iter()
        .map(|a| (a.code.clone(), a.values.clone()))
        .collect();
    assert_eq!(
        answers,
        vec![
            ("SIZE".into(), vec!["L".into()]),
            ("LANES".into(), vec!["left".into(), "bike".into()]),
            ("DEPTH".into(), vec!["12".into()]),
        ]
    );
    assert_eq!(stored.channel.as_str(), "open311_api");
    assert_eq!(
        stored.requester.as_ref().unwrap().email.as_deref(),
        Some("resident@example.org")
    );

    let (status, got) = o.get_json(&format!("requests/{id}.json")).await;
    assert_eq!(status, 200);
    let r = &got[0];
    assert_eq!(r["service_code"], "POTHOLE");
    assert_eq!(r["service_name"], "Pothole");
    assert_eq!(r["agency_responsible"], "Public Works");
    assert_eq!(r["status"], "open");
    assert_eq!(r["lat"], 39.102738);
    assert!(
        r["expected_datetime"].is_string(),
        "5-day SLA gives a due date"
    );
    assert_eq!(r["requested_datetime"], r["updated_datetime"]);
    let text = got.to_string();
    assert!(!text.contains("resident@example.org") && !text.contains("Ada"));

    let (status, tok) = o.get_json(&format!("tokens/{token}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(tok[0]["service_request_id"], id.as_str());
    let (status, _, xml) = o.get(&format!("tokens/{token}.xml")).await;
    assert_eq!(status, 200);
    assert!(xml.contains(&format!("<service_request_id>{id}</service_request_id>")));
    insta::assert_snapshot!("token_xml", redact(xml));

    // The same request in XML.
    let (status, _, xml) = o
        .post_form(
            "requests.xml",
            &[
                ("api_key", &o.key),
                ("service_code", "POTHOLE"),
                ("address_id", "PARCEL-1"),
                ("attribute[SIZE]", "S"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{xml}");
    let field = |name: &str| {
        let open = format!("<{name}>");
        xml.split(&open)
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    let (id2, token2) = (field("service_request_id"), field("token"));
    insta::assert_snapshot!(
        "post_response_xml",
        xml.replace(&token2, "[token]")
            .replace(&format!(">{id2}<"), ">[id]<")
    );
}

type Form = Vec<(String, String)>;

async fn every_bad_input_gets_the_spec_error(db: &TestDb) {
    let o = Open311App::start(db).await;
    let key = o.key.clone();
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut form: Vec<(String, String)> = vec![("api_key".into(), key.clone())];
        form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        form
    };
    let long = "x".repeat(4001);
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            base(&[("lat", "39.1"), ("long", "-94.5")]),
            400,
            "service_code is required",
        ),
        (
            base(&[("service_code", "NOPE"), ("lat", "39.1"), ("long", "-94.5")]),
            400,
            "not in this city's catalog",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "91"),
                ("long", "-94.5"),
                ("attribute[SIZE]", "L"),
            ]),
            400,
            "latitude 91",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "abc"),
                ("long", "-94.5"),
            ]),
            400,
            "lat \"abc\" is not a number",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "39.1"),
                ("attribute[SIZE]", "L"),
            ]),
            400,
            "together",
        ),
        (
            base(&[("service_code", "POTHOLE"), ("attribute[SIZE]", "L")]),
            400,
            "a location is required",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "39.1"),
                ("long", "-94.5"),
            ]),
            400,
            "attribute \"SIZE\" is required",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "39.1"),
                ("long", "-94.5"),
                ("attribute[SIZE]", "XL"),
            ]),
            400,
            "\"XL\"",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "39.1"),
                ("long", "-94.5"),
                ("attribute[SIZE]", "L"),
                ("email", "not-an-address"),
            ]),
            400,
            "e-mail",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("lat", "39.1"),
                ("long", "-94.5"),
                ("attribute[SIZE]", "L"),
                ("media_url", "javascript:alert(1)"),
            ]),
            400,
            "media_url",
        ),
        (
            {
                let mut f = base(&[
                    ("service_code", "POTHOLE"),
                    ("lat", "39.1"),
                    ("long", "-94.5"),
                    ("attribute[SIZE]", "L"),
                ]);
                f.push(("description".into(), long.clone()));
                f
            },
            400,
            "4001 characters long",
        ),
        (
            vec![
                ("api_key".into(), "wrong".into()),
                ("service_code".into(), "POTHOLE".into()),
            ],
            403,
            "api_key is not valid",
        ),
        (
            vec![("service_code".into(), "POTHOLE".into())],
            400,
            "api_key is required",
        ),
        (
            base(&[
                ("service_code", "POTHOLE"),
                ("address_id", "1"),
                ("attribute[SIZE]", "L"),
                ("jurisdiction_id", "nyc.gov"),
            ]),
            404,
            "unknown jurisdiction_id",
        ),
    ];
    let before = o
        .app
        .store
        .count_requests(&RequestFilter::default())
        .await
        .unwrap();
    for (form, status, mentions) in &cases {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (got, body) = o.post_json("requests.json", &pairs).await;
        assert_error(got, &body, *status, mentions);
        // The same in XML.
        let (got, ct, xml) = o.post_form("requests.xml", &pairs).await;
        assert_eq!((got, ct.as_str()), (*status, "text/xml; charset=utf-8"));
        assert!(
            xml.contains(&format!(
                "<errors><error><code>{status}</code><description>"
            )),
            "{xml}"
        );
    }
    let after = o
        .app
        .store
        .count_requests(&RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(before, after, "no refused request was written");

    // Reads.
    let gets: [(&str, u16, &str); 11] = [
        // Moot under a list of ids, but still malformed.
        (
            "requests.json?service_request_id=1&start_date=6>b",
            400,
            "start_date",
        ),
        ("requests/999999999.json", 404, "no service request"),
        ("requests/a%20b.json", 404, "no service request"),
        ("services/NOPE.json", 404, "unknown service_code"),
        ("tokens/0000.json", 404, "unknown token"),
        ("requests.json?start_date=yesterday", 400, "start_date"),
        (
            "requests.json?start_date=2020-02-01&end_date=2020-01-01",
            400,
            "after end_date",
        ),
        ("requests.json?status=pending", 400, "open or closed"),
        ("requests.json?page_size=501", 400, "page_size"),
        ("requests.json?page=0", 400, "page"),
        ("widgets.json", 404, "no such resource"),
    ];
    for (path, status, mentions) in gets {
        let (got, body) = o.get_json(path).await;
        assert_error(got, &body, status, mentions);
    }
    let (status, ct, body) = o.get("requests.html").await;
    assert_eq!(
        (status, ct.as_str()),
        (404, "application/json; charset=utf-8")
    );
    assert!(body.contains(".json or .xml"));
    let (status, ct, body) = o.get("nothing/here/at/all.xml").await;
    assert_eq!(
        (status, ct.as_str()),
        (404, "text/xml; charset=utf-8"),
        "{body}"
    );
    insta::assert_snapshot!(
        "error_unknown_request_xml",
        o.get("requests/999999999.xml").await.2
    );
    insta::assert_snapshot!(
        "error_unknown_request_json",
        o.get("requests/999999999.json").await.2
    );
    let resp = o
        .app
        .client
        .delete(o.url("requests.json"))
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(resp).await;
    assert_eq!(status, 405, "{body}");
    // Wrong content type on POST.
    let resp = o
        .app
        .client
        .post(o.url("requests.json"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(resp).await;
    assert_eq!(status, 415, "{body}");
}

async fn updates_feed_and_resident_comments(db: &TestDb) {
    let o = Open311App::start(db).await;
    // The sample's closures appear as updates with mySociety's status words.
    let day = "start_date=2019-11-22&end_date=2019-11-22T23:59:59";
    let (status, feed) = o
        .get_json(&format!("servicerequestupdates.json?{day}"))
        .await;
    assert_eq!(status, 200);
    insta::assert_snapshot!("updates_json", serde_json::to_string_pretty(&feed).unwrap());
    insta::assert_snapshot!(
        "updates_xml",
        o.get(&format!("servicerequestupdates.xml?{day}")).await.2
    );
    let feed = feed.as_array().unwrap();
    let ours = feed
        .iter()
        .find(|u| u["service_request_id"] == CLOSED_ID)
        .unwrap_or_else(|| panic!("{CLOSED_ID} closed on 2019-11-22: {feed:?}"));
    assert_eq!(ours["status"], "FIXED");
    assert!(ours["update_id"].is_string());
    for u in feed {
        let t =
            chrono::DateTime::parse_from_rfc3339(u["updated_datetime"].as_str().unwrap()).unwrap();
        assert_eq!(t.format("%Y-%m-%d").to_string(), "2019-11-22");
    }

    // A resident says the problem is back: the request reopens, the comment is public.
    let (status, posted) = o
        .post_json(
            "servicerequestupdates.json",
            &[
                ("api_key", &o.key),
                ("service_request_id", CLOSED_ID),
                ("status", "OPEN"),
                ("description", "The drain is blocked again"),
                ("email", "neighbour@example.org"),
                ("update_id", "fms-1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    let update_id: i64 = posted[0]["update_id"].as_str().unwrap().parse().unwrap();
    // FixMyStreet retries a delivery it did not see answered: same update_id, nothing new.
    let events_before = o
        .app
        .store
        .events(&civic311_domain::ServiceRequestId::parse(CLOSED_ID).unwrap())
        .await
        .unwrap()
        .len();
    let (status, again) = o
        .post_json(
            "servicerequestupdates.json",
            &[
                ("api_key", &o.key),
                ("service_request_id", CLOSED_ID),
                ("status", "OPEN"),
                ("description", "The drain is blocked again"),
                ("update_id", "fms-1"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again[0]["update_id"], posted[0]["update_id"]);
    let events_after = o
        .app
        .store
        .events(&civic311_domain::ServiceRequestId::parse(CLOSED_ID).unwrap())
        .await
        .unwrap()
        .len();
    assert_eq!(
        events_before, events_after,
        "a retried delivery writes nothing"
    );
    let (_, r) = o
        .get_json(&format!("requests/{CLOSED_ID}.json?extensions=true"))
        .await;
    assert_eq!(r[0]["status"], "open");
    let notes = r[0]["notes"].as_array().unwrap();
    assert_eq!(
        notes.last().unwrap()["description"],
        "The drain is blocked again"
    );
    assert!(notes.iter().any(|n| n["type"] == "reopened"));
    let (_, feed) = o
        .get_json(&format!(
            "servicerequestupdates.json?after_update_id={}",
            update_id - 5
        ))
        .await;
    let last = feed.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["update_id"], update_id.to_string());
    assert_eq!(last["status"], "OPEN");
    assert_eq!(last["description"], "The drain is blocked again");
    assert!(!feed.to_string().contains("neighbour@example.org"));

    // Internal notes never reach the feed.
    o.app
        .store
        .update_request(
            &civic311_domain::ServiceRequestId::parse(CLOSED_ID).unwrap(),
            None,
            |r| {
                Ok(vec![r.add_note(
                    "caller was rude, see CRM",
                    false,
                    civic311_domain::Actor::Staff("jdoe".into()),
                    chrono::Utc::now(),
                )?])
            },
        )
        .await
        .unwrap();
    let (_, feed) = o
        .get_json(&format!(
            "servicerequestupdates.json?after_update_id={update_id}"
        ))
        .await;
    assert_eq!(feed, serde_json::json!([]));

    let (status, body) = o
        .post_json(
            "servicerequestupdates.json",
            &[
                ("api_key", &o.key),
                ("service_request_id", "999999999"),
                ("description", "x"),
            ],
        )
        .await;
    assert_error(status, &body, 404, "no service request");
    let (status, body) = o
        .post_json(
            "servicerequestupdates.json",
            &[("api_key", &o.key), ("service_request_id", CLOSED_ID)],
        )
        .await;
    assert_error(status, &body, 400, "description is required");
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn media_upload_with_type_and_size_limits(db: &TestDb) {
    let o = Open311App::start(db).await;
    let post = |file: Vec<u8>, name: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("api_key", o.key.clone())
            .text("service_code", "POTHOLE")
            .text("lat", "39.1")
            .text("long", "-94.58")
            .text("attribute[SIZE]", "S")
            .part(
                "media",
                reqwest::multipart::Part::bytes(file).file_name(name),
            );
        o.app
            .client
            .post(o.url("requests.json"))
            .multipart(form)
            .send()
    };
    let (status, _, body) = read(post(PNG.to_vec(), "hole.png").await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap();
    let (_, r) = o.get_json(&format!("requests/{id}.json")).await;
    let media_url = r[0]["media_url"].as_str().unwrap();
    let path = media_url.strip_prefix("https://311.example.org").unwrap();
    let resp = o
        .app
        .client
        .get(format!("{}{path}", o.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    let (status, _, body) = read(
        post(b"<html>not an image</html>".to_vec(), "x.png")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    let mut big = PNG.to_vec();
    big.resize(civic311_store::MAX_MEDIA_BYTES + 1, 0);
    let (status, _, body) = read(post(big, "big.png").await.unwrap()).await;
    assert_eq!(status, 413, "{body}");
    let (status, _, _) = o.get("../../media/doesnotexist").await;
    assert_eq!(status, 404);
}

async fn open_key_policy_and_jurisdictions(db: &TestDb) {
    let o = Open311App::start_with(
        db,
        Open311Config {
            require_api_key: false,
            ..kc_config()
        },
    )
    .await;
    let (status, created) = o
        .post_json(
            "requests.json",
            &[
                ("service_code", "POTHOLE"),
                ("address_string", "1 Main St"),
                ("attribute[SIZE]", "S"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{created}");
    // A wrong key is still refused when keys are optional.
    let (status, body) = o
        .post_json(
            "requests.json",
            &[
                ("api_key", "nope"),
                ("service_code", "POTHOLE"),
                ("address_string", "1 Main St"),
            ],
        )
        .await;
    assert_error(status, &body, 403, "api_key");
    // The configured jurisdiction is accepted in any case, others are not found.
    let (status, _) = o.get_json("services.json?jurisdiction_id=KCMO.gov").await;
    assert_eq!(status, 200);
    let (status, body) = o
        .get_json("services.json?jurisdiction_id=chicago.gov")
        .await;
    assert_error(status, &body, 404, "chicago.gov");
}

/// POSTed points are placed in the loaded area layers. The check is Kansas City's own
/// assignment: sample requests with coordinates and a neighborhood id (`nbh_id`) are re-filed at
/// their coordinates, and the neighborhood civic311 finds must be the city's.
async fn posted_requests_land_in_their_neighborhood(db: &TestDb) {
    let testdata =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kansas-city");
    let (hoods, _) = civic311_import::areas::read_geojson_file(
        &testdata.join("neighborhoods.geojson"),
        "nbhid",
        Some("nbhname"),
        &["0"],
    )
    .unwrap();
    let layer = civic311_domain::LayerId::parse("kc-neighborhoods").unwrap();
    db.store
        .upsert_areas(&layer, "Kansas City neighborhoods", &hoods)
        .await
        .unwrap();
    let o = Open311App::start(db).await;
    let mut rdr = csv::Reader::from_path(testdata.join("kc311_sample.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (lat, long, nbh) = (col("LATITUDE"), col("LONGITUDE"), col("nbh_id"));
    let mut checked = 0;
    let mut agreed = 0;
    for rec in rdr.records().map(Result::unwrap) {
        let (Ok(y), Ok(x)) = (rec[lat].parse::<f64>(), rec[long].parse::<f64>()) else {
            continue;
        };
        let city = rec[nbh].trim_end_matches(".0").to_owned();
        if city.is_empty() || city == "0" || !(38.0..40.5).contains(&y) {
            continue;
        }
        let (status, created) = o
            .post_json(
                "requests.json",
                &[
                    ("api_key", &o.key),
                    ("service_code", "POTHOLE"),
                    ("lat", &y.to_string()),
                    ("long", &x.to_string()),
                    ("attribute[SIZE]", "S"),
                ],
            )
            .await;
        assert_eq!(status, 200, "{created}");
        let id = created[0]["service_request_id"].as_str().unwrap();
        let stored = o
            .app
            .store
            .request(&civic311_domain::ServiceRequestId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap();
        let ours = stored
            .location
            .area_in("kc-neighborhoods")
            .map(|a| a.to_string());
        checked += 1;
        if ours.as_deref() == Some(city.as_str()) {
            agreed += 1;
        }
        if checked == 40 {
            break;
        }
    }
    assert_eq!(checked, 40);
    // Points exactly on a border may go either way; the rest must agree.
    assert!(
        agreed >= 38,
        "{agreed} of {checked} agree with the city's neighborhood"
    );
    let (_, r) = o
        .get_json("requests.json?updated_after=2020-01-01&extensions=true&page_size=1")
        .await;
    assert_eq!(
        r[0]["extended_attributes"]["areas"][0]["layer"],
        "kc-neighborhoods"
    );
}

/// GET replies are kept and served again (the micro-cache): a write through the same server ends
/// that at once; a write by another server sharing the database shows once the kept reply's
/// time is up.
async fn replies_are_shared_until_a_write_or_their_time_is_up(db: &TestDb) {
    let ttl = std::time::Duration::from_secs(2);
    let config = Open311Config {
        cache_ttl: ttl,
        ..kc_config()
    };
    let o = Open311App::start_with(db, config.clone()).await;
    // A second server on the same database.
    let other = TestApp::serve_with(
        civic311_store::Store::connect(&db.url).await.unwrap(),
        config,
    )
    .await;
    let newest =
        "requests.json?start_date=2000-01-01T00:00:00Z&end_date=2100-01-01T00:00:00Z&page_size=1";
    let newest_id = |body: &str| -> String {
        let v: Value = serde_json::from_str(body).unwrap();
        v[0]["service_request_id"].as_str().unwrap().to_owned()
    };
    let post = |client: &reqwest::Client, base: &str| {
        client
            .post(format!("{base}/open311/v2/requests.json"))
            .form(&[
                ("api_key", o.key.as_str()),
                ("service_code", "POTHOLE"),
                ("address_string", "1 Main St"),
                ("attribute[SIZE]", "S"),
            ])
            .send()
    };
    // The reply is kept from some moment between asking and receiving it: "still kept" is
    // checked against the asking time, "expired" against the receiving time.
    let first_read = std::time::Instant::now();
    let (status, _, body) = o.get(newest).await;
    assert_eq!(status, 200, "{body}");
    let received = std::time::Instant::now();
    let before = newest_id(&body);

    let resp = post(&other.client, &other.base).await.unwrap();
    assert_eq!(resp.status(), 200);
    let by_other: Value = resp.json().await.unwrap();
    let by_other = by_other[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, _, body) = o.get(newest).await;
    if first_read.elapsed() < ttl {
        assert_eq!(newest_id(&body), before, "kept for its time");
    }
    let margin = std::time::Duration::from_millis(100);
    tokio::time::sleep((ttl + margin).saturating_sub(received.elapsed())).await;
    let (_, _, body) = o.get(newest).await;
    assert_eq!(
        newest_id(&body),
        by_other,
        "another server's write shows once the time is up"
    );

    let resp = post(&o.app.client, &o.app.base).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mine: Value = resp.json().await.unwrap();
    let mine = mine[0]["service_request_id"].as_str().unwrap().to_owned();
    let (_, _, body) = o.get(newest).await;
    assert_eq!(
        newest_id(&body),
        mine,
        "this server's own write ends the kept reply at once"
    );
    // Errors are never kept: a bad parameter still gets its error.
    let (status, _, _) = o.get("requests.json?status=sideways").await;
    assert_eq!(status, 400);
    other.store.close().await;
}
