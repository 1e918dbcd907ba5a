//! The Open311 client (`civic311 import open311`): against our own server over the real Kansas
//! City sample (every request of a window arrives, paging, resume, incremental re-read), and
//! against responses recorded from real cities' servers (testdata/open311, see PROVENANCE.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use civic311_domain::{Actor, ClosureReason, ServiceRequestId, Status};
use civic311_import::open311::{Pull, WireFormat, pull};
use civic311_store::{RequestFilter, Store};
use civic311_testkit::{Backend, TestDb, both_backends};
use civic311_web::AppState;
use civic311_web::open311::Open311Config;

both_backends!(
    pulls_a_window_of_our_own_feed_then_resumes_and_rereads_changes,
    tolerates_what_real_cities_publish,
    a_server_that_ignores_paging_and_caps_answers_is_read_by_splitting_windows
);

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

/// The source city: the real Kansas City sample on SQLite.
async fn kansas_city() -> TestDb {
    let city = TestDb::migrated(Backend::Sqlite).await.unwrap();
    civic311_import::kansas_city::import_file(
        &city.store,
        &testdata("kansas-city/kc311_sample.csv"),
    )
    .await
    .unwrap();
    city
}

/// Serves `store` as an Open311 server on a random port; returns its base URL.
async fn serve(store: Store) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/open311/v2", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = Open311Config {
        timezone: chrono_tz::America::Chicago,
        ..Open311Config::default()
    };
    tokio::spawn(civic311_web::serve(
        listener,
        AppState::new(store, config),
        async {
            let _ = stopped.await;
        },
    ));
    (base, stop)
}

/// Serves a test router on a random port; returns its Open311 base URL and a stop switch.
async fn serve_files(app: axum::Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/open311/v2", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (base, stop)
}

/// A city that serves recorded responses: `services` for the services list, `requests` for the
/// first page of any request query (the next pages are empty), in one format only.
async fn recorded_city(
    services: &'static str,
    requests: &'static str,
    format: &'static str,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    use axum::extract::{Path, RawQuery};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let handler = move |Path(file): Path<String>, RawQuery(q): RawQuery| async move {
        let Some((name, ext)) = file.rsplit_once('.') else {
            return StatusCode::NOT_FOUND.into_response();
        };
        if ext != format {
            return StatusCode::NOT_FOUND.into_response();
        }
        let first_page = !q
            .unwrap_or_default()
            .split('&')
            .any(|kv| kv.starts_with("page=") && kv != "page=1");
        let body = match name {
            // Every service's definition is Washington DC's recorded one.
            "definition" => {
                std::fs::read_to_string(testdata("open311/dc-service-definition.xml")).unwrap()
            }
            "services" => {
                std::fs::read_to_string(testdata(&format!("open311/{services}"))).unwrap()
            }
            "requests" if first_page => {
                std::fs::read_to_string(testdata(&format!("open311/{requests}"))).unwrap()
            }
            "requests" if format == "xml" => "<service_requests/>".to_owned(),
            "requests" => "[]".to_owned(),
            _ => return StatusCode::NOT_FOUND.into_response(),
        };
        let ct = if format == "xml" {
            "text/xml"
        } else {
            "application/json"
        };
        ([(axum::http::header::CONTENT_TYPE, ct)], body).into_response()
    };
    let definition = move |Path(file): Path<String>, q: RawQuery| {
        let name = if file.ends_with(&format!(".{format}")) {
            "definition.xml"
        } else {
            "none.none"
        };
        handler(Path(name.to_owned()), q)
    };
    serve_files(
        axum::Router::new()
            .route("/open311/v2/{file}", axum::routing::get(handler))
            .route(
                "/open311/v2/services/{file}",
                axum::routing::get(definition),
            ),
    )
    .await
}

fn one_window(base: &str, source: &str, tz: chrono_tz::Tz) -> Pull {
    let mut p = Pull::new(base, source);
    p.since = Some(t("2010-01-01T00:00:00Z"));
    p.until = Some(t("2020-01-01T00:00:00Z"));
    p.window = Duration::days(3652);
    p.min_interval = std::time::Duration::ZERO;
    p.timezone = tz;
    p
}

async fn request(store: &Store, id: &str) -> civic311_domain::ServiceRequest {
    store
        .request(&ServiceRequestId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} was not imported"))
}

/// Recorded answers of real servers (testdata/open311/PROVENANCE.md).
async fn tolerates_what_real_cities_publish(db: &TestDb) {
    // Toronto's requests and Washington DC's services, from servers that speak XML only:
    // empty elements, long before lat, 12-digit ids, a code the services list lacks.
    let (base, _stop) = recorded_city("dc-services.xml", "toronto-requests.xml", "xml").await;
    let p = one_window(&base, "toronto", chrono_tz::America::Toronto);
    let report = pull(&db.store, &p, |_| {}).await.unwrap();
    assert_eq!(report.format, Some(WireFormat::Xml));
    assert_eq!(report.services, 4, "{report}");
    assert!(
        report.import.rejected.is_empty(),
        "{:?}",
        report.import.rejected
    );
    let r = request(&db.store, "toronto:101005420892").await;
    assert_eq!(r.service_code.as_str(), "toronto:CSROWR-12");
    assert_eq!(r.created_at, t("2018-07-30T04:01:00Z"));
    assert_eq!(r.status, Status::Open);
    assert_eq!(r.location.zip, None);
    assert_eq!(r.media_url, None);
    assert!(r.location.point.is_some());
    let retired = db
        .store
        .service(&civic311_domain::ServiceCode::parse("toronto:CSROWR-12").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (retired.name.as_str(), retired.active),
        ("Road - Pot hole", false)
    );
    let dc_codes: Vec<String> = db
        .store
        .services()
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.active)
        .map(|s| s.code.to_string())
        .collect();
    assert!(
        dc_codes.contains(&"toronto:11".to_owned()),
        "a bare numeric code: {dc_codes:?}"
    );

    // Chicago's JSON (absent optional fields, dashed ids, long decimals) with Bloomington's
    // services (integer service_code).
    let (base, _stop) =
        recorded_city("bloomington-services.json", "chicago-requests.json", "json").await;
    let p = one_window(&base, "chicago", chrono_tz::America::Chicago);
    let report = pull(&db.store, &p, |_| {}).await.unwrap();
    assert_eq!(report.format, Some(WireFormat::Json));
    assert!(
        report.import.rejected.is_empty(),
        "{:?}",
        report.import.rejected
    );
    assert!(
        db.store
            .service(&civic311_domain::ServiceCode::parse("chicago:37").unwrap())
            .await
            .unwrap()
            .is_some_and(|s| s.name == "Graffiti")
    );
    let r = request(&db.store, "chicago:14-01100669").await;
    assert_eq!(r.created_at, t("2014-07-12T15:58:43Z"));
    assert_eq!(r.updated_at, t("2014-07-12T16:08:21Z"));
    assert_eq!(r.description, None);
    assert_eq!(r.location.point.unwrap().lat(), 41.858724777757864);
    let chicago = std::fs::read_to_string(testdata("open311/chicago-requests.json")).unwrap();
    let n = serde_json::from_str::<serde_json::Value>(&chicago)
        .unwrap()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(report.counts.inserted, n);

    // Helsinki: a SHA-1 id, no service_name, "" for zipcode, extra extended_attributes; and San
    // Francisco's services, whose zero-padded codes must stay strings. This server answers its
    // .xml URLs with JSON for requests: the client reads what came.
    let (base, _stop) =
        recorded_city("sanfrancisco-services.xml", "helsinki-requests.json", "xml").await;
    let report = pull(
        &db.store,
        &one_window(&base, "helsinki", chrono_tz::Europe::Helsinki),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.format, Some(WireFormat::Xml));
    assert!(
        db.store
            .service(&civic311_domain::ServiceCode::parse("helsinki:001").unwrap())
            .await
            .unwrap()
            .is_some()
    );
    let r = request(
        &db.store,
        "helsinki:bba4074833f201433c6af954eace80ccab468761",
    )
    .await;
    assert_eq!(r.created_at, t("2015-05-29T12:56:54Z"));
    assert_eq!(r.location.zip, None);
    assert!(
        r.media_url
            .as_deref()
            .unwrap()
            .starts_with("http://dev.hel.fi/")
    );
    let service = db.store.service(&r.service_code).await.unwrap().unwrap();
    assert_eq!(service.name, "171", "no service_name: the code names it");

    // Giessen's services: a non-standard attribute on the root, no group, UTF-8 names.
    let (base, _stop) = recorded_city("giessen-services.xml", "toronto-requests.xml", "xml").await;
    let report = pull(
        &db.store,
        &one_window(&base, "giessen", chrono_tz::Europe::Berlin),
        |_| {},
    )
    .await
    .unwrap();
    let giessen = std::fs::read_to_string(testdata("open311/giessen-services.xml")).unwrap();
    assert_eq!(
        report.services,
        giessen.matches("<service>").count(),
        "{report}"
    );
}

/// Stands in front of our server like many city servers behave: it drops `page` and `page_size`
/// and answers at most `cap` requests (the newest) per query.
async fn capping_proxy(upstream: String, cap: u32) -> (String, tokio::sync::oneshot::Sender<()>) {
    use axum::extract::{Path, RawQuery};
    use axum::response::IntoResponse;
    let client = reqwest::Client::new();
    let handler = move |Path(file): Path<String>, RawQuery(q): RawQuery| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let mut kept: Vec<String> = q
                .unwrap_or_default()
                .split('&')
                .filter(|kv| !kv.starts_with("page=") && !kv.starts_with("page_size="))
                .map(str::to_owned)
                .collect();
            kept.push(format!("page_size={cap}"));
            let resp = client
                .get(format!("{upstream}/{file}?{}", kept.join("&")))
                .send()
                .await
                .unwrap();
            let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
            (status, resp.text().await.unwrap()).into_response()
        }
    };
    serve_files(axum::Router::new().route("/open311/v2/{file}", axum::routing::get(handler))).await
}

async fn a_server_that_ignores_paging_and_caps_answers_is_read_by_splitting_windows(db: &TestDb) {
    let city = kansas_city().await;
    let (upstream, _stop) = serve(city.store.clone()).await;
    let (base, _stop_proxy) = capping_proxy(upstream, 20).await;
    let (from, until) = (t("2019-07-01T00:00:00Z"), t("2020-07-01T00:00:00Z"));
    let mut p = Pull::new(&base, "kc");
    p.since = Some(from);
    p.until = Some(until);
    p.window = Duration::days(90);
    p.min_interval = std::time::Duration::ZERO;
    let report = pull(&db.store, &p, |_| {}).await.unwrap();
    let expected = city
        .store
        .count_requests(&RequestFilter {
            created_from: Some(from),
            created_before: Some(until),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(report.paging_supported, Some(false));
    assert!(
        report.possibly_truncated.is_empty(),
        "{:?}",
        report.possibly_truncated
    );
    assert_eq!(report.counts.inserted as i64, expected, "{report}");
    assert!(
        report.windows as i64 >= expected / 20,
        "windows were split: {report}"
    );
    city.finish().await;
}

/// `db` is the store the client pulls into; the source city is the real sample on SQLite.
async fn pulls_a_window_of_our_own_feed_then_resumes_and_rereads_changes(db: &TestDb) {
    let city = kansas_city().await;
    let (base, _stop) = serve(city.store.clone()).await;

    let (from, until) = (t("2019-07-01T00:00:00Z"), t("2020-07-01T00:00:00Z"));
    let mut p = Pull::new(&base, "kc");
    p.since = Some(from);
    p.until = Some(until);
    p.window = Duration::days(30);
    p.page_size = 40;
    p.min_interval = std::time::Duration::ZERO;
    p.timezone = chrono_tz::America::Chicago;
    let report = pull(&db.store, &p, |_| {}).await.unwrap();

    let in_window = RequestFilter {
        created_from: Some(from),
        created_before: Some(until),
        ..Default::default()
    };
    let expected = city
        .store
        .requests(
            &in_window,
            civic311_store::Page {
                limit: 10_000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert!(expected.len() > 300, "{}", expected.len());
    assert_eq!(report.format, Some(WireFormat::Json));
    assert_eq!(report.paging_supported, Some(true));
    assert_eq!(report.counts.inserted, expected.len(), "{report}");
    assert!(
        report.import.rejected.is_empty(),
        "{:?}",
        report.import.rejected
    );
    let active = city
        .store
        .services()
        .await
        .unwrap()
        .iter()
        .filter(|s| s.active)
        .count();
    assert_eq!(report.services, active);
    assert_eq!(
        db.store
            .count_requests(&RequestFilter::default())
            .await
            .unwrap() as usize,
        expected.len()
    );
    for r in &expected {
        let ours = db
            .store
            .request(&ServiceRequestId::parse(format!("kc:{}", r.id)).unwrap())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{} was not pulled", r.id));
        assert_eq!(ours.created_at, r.created_at, "{}", r.id);
        assert_eq!(ours.status.is_closed(), r.status.is_closed(), "{}", r.id);
        assert_eq!(ours.service_code.as_str(), format!("kc:{}", r.service_code));
        assert_eq!(ours.location.point, r.location.point);
        assert_eq!(ours.location.address, r.location.address);
    }

    // Nothing new: the second run resumes at `until`, reads no window, and re-reads what changed
    // since the first run (nothing).
    let mut again = p.clone();
    again.since = None;
    let report = pull(&db.store, &again, |_| {}).await.unwrap();
    assert_eq!(
        (
            report.windows,
            report.counts.inserted,
            report.counts.updated
        ),
        (0, 0, 0),
        "{report}"
    );
    assert_eq!(report.updated_after_supported, Some(true));

    // The city closes an open request of the window: the next run picks the change up.
    let open = expected
        .iter()
        .find(|r| !r.status.is_closed())
        .expect("an open request");
    city.store
        .update_request(&open.id, None, |r| {
            Ok(vec![r.change_status(
                Status::Closed(ClosureReason::Resolved),
                Actor::Staff("crew-7".into()),
                Utc::now(),
            )?])
        })
        .await
        .unwrap();
    let report = pull(&db.store, &again, |_| {}).await.unwrap();
    assert_eq!(report.counts.updated, 1, "{report}");
    let ours_id = ServiceRequestId::parse(format!("kc:{}", open.id)).unwrap();
    let ours = db.store.request(&ours_id).await.unwrap().unwrap();
    assert!(ours.status.is_closed());
    let events = db.store.events(&ours_id).await.unwrap();
    let last = &events.last().unwrap().event;
    assert_eq!(last.actor, Actor::Import("kc".into()));
    assert!(matches!(
        last.kind,
        civic311_domain::EventKind::StatusChanged { .. }
    ));
    city.finish().await;
}
