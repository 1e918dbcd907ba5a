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

both_backends!(pulls_a_window_of_our_own_feed_then_resumes_and_rereads_changes);

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
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

/// `db` is the store the client pulls into; the source city is the real sample on SQLite.
async fn pulls_a_window_of_our_own_feed_then_resumes_and_rereads_changes(db: &TestDb) {
    let city = TestDb::migrated(Backend::Sqlite).await.unwrap();
    civic311_import::kansas_city::import_file(
        &city.store,
        &testdata("kansas-city/kc311_sample.csv"),
    )
    .await
    .unwrap();
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
