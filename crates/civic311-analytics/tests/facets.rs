//! The requests behind each number, found by the store from the facet's condition
//! (`requests_behind`), are the very requests of the cohort that the facet holds when each is
//! judged here (`Facet::holds`, the reference): same total, same requests in the same order,
//! page by page. On the real Kansas City and New York samples, on both stores, for every facet a
//! summary links to (each channel, service, department, status, month and area, each
//! time-to-close and aging bucket, each SLA class), with and without the city's own requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{areas_backfill, load_kansas_city, load_new_york, place_by_point, run_raw};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use civic311_analytics::{
    Facet, Options, SlaClass, Summary, requests_behind, requests_behind_rows, summarize_rows,
};
use civic311_domain::{
    Actor, AreaRef, Channel, ClosureReason, Location, NewServiceRequest, Priority, ServiceRequest,
    ServiceRequestId, Status,
};
use civic311_store::{Page, RequestFilter, Store};
use civic311_testkit::{TestDb, both_backends};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn local(tz: Tz, y: i32, m: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// Every facet a summary of the cohort links to, and a few that hold nothing.
fn facets_of(s: &Summary) -> Vec<Facet> {
    let mut facets = vec![
        Facet::All,
        Facet::Open,
        Facet::Closed,
        Facet::ClosedWithoutTime,
        Facet::Duplicates,
        Facet::SlaBreached,
        Facet::Department("none".into()),
        Facet::Service("NO-SUCH-SERVICE".into()),
        Facet::Month("2019-13".into()),
        Facet::Month("1899-12".into()),
        Facet::Status("reopened".into()),
    ];
    let v = &s.volume;
    facets.extend(v.by_channel.keys().map(|c| Facet::Channel(c.clone())));
    facets.extend(v.by_service.keys().map(|c| Facet::Service(c.clone())));
    facets.extend(v.by_department.keys().map(|d| Facet::Department(d.clone())));
    facets.extend(v.by_status.keys().map(|c| Facet::Status(c.clone())));
    facets.extend(v.by_month.keys().map(|m| Facet::Month(m.clone())));
    for (layer, areas) in &v.by_area {
        facets.extend(areas.keys().map(|a| Facet::Area {
            layer: layer.clone(),
            area: a.clone(),
        }));
    }
    facets.extend((0..s.time_to_close.distribution.len()).map(Facet::CloseBucket));
    facets.extend((0..s.backlog.aging.len()).map(Facet::AgeBucket));
    facets.extend(
        [
            SlaClass::Met,
            SlaClass::ClosedLate,
            SlaClass::OpenOverdue,
            SlaClass::OpenOnTime,
            SlaClass::ClosedWithoutTime,
            SlaClass::WithoutTarget,
            SlaClass::SelfGeneratedLeftOut,
            SlaClass::Duplicate,
        ]
        .map(Facet::Sla),
    );
    facets
}

fn ids(requests: &[ServiceRequest]) -> Vec<&str> {
    requests.iter().map(|r| r.id.as_str()).collect()
}

/// Checks every facet of `filter`'s cohort judged at `now`, both ways; returns the facets that
/// held requests, by name.
async fn agree(store: &Store, tz: Tz, filter: RequestFilter, now: DateTime<Utc>) -> Vec<String> {
    let mut held = Vec::new();
    for include_self_generated in [false, true] {
        let options = Options {
            filter: filter.clone(),
            now,
            timezone: tz,
            include_self_generated,
        };
        let summary = summarize_rows(store, &options).await.unwrap();
        for facet in facets_of(&summary) {
            let all = Page {
                limit: 400,
                offset: 0,
            };
            let reference = requests_behind_rows(store, &options, &facet, all)
                .await
                .unwrap();
            let found = requests_behind(store, &options, &facet, all).await.unwrap();
            let at =
                format!("{facet} of {filter:?} at {now}, own requests {include_self_generated}");
            assert_eq!(found.total, reference.total, "{at}");
            assert_eq!(ids(&found.requests), ids(&reference.requests), "{at}");
            if reference.total > 0 {
                held.push(facet.to_string());
            }
            // A page inside, and one past the last.
            for offset in [reference.total / 2, reference.total + 3] {
                let page = Page { limit: 7, offset };
                let reference = requests_behind_rows(store, &options, &facet, page)
                    .await
                    .unwrap();
                let found = requests_behind(store, &options, &facet, page)
                    .await
                    .unwrap();
                assert_eq!(found.total, reference.total, "{at}, offset {offset}");
                assert_eq!(
                    ids(&found.requests),
                    ids(&reference.requests),
                    "{at}, offset {offset}"
                );
            }
        }
    }
    held.sort();
    held.dedup();
    held
}

/// [`agree`] for the facets an area's index answers alone (outcomes, ages, months), one page
/// each, the city's own requests included; returns how many requests they held in all.
async fn outcomes_agree(store: &Store, tz: Tz, filter: RequestFilter, now: DateTime<Utc>) -> u64 {
    let options = Options {
        filter,
        now,
        timezone: tz,
        include_self_generated: true,
    };
    let summary = summarize_rows(store, &options).await.unwrap();
    let mut held = 0;
    for facet in facets_of(&summary) {
        if !matches!(
            facet,
            Facet::Open
                | Facet::Closed
                | Facet::ClosedWithoutTime
                | Facet::Duplicates
                | Facet::AgeBucket(_)
                | Facet::Month(_)
        ) {
            continue;
        }
        let all = Page {
            limit: 100_000,
            offset: 0,
        };
        let reference = requests_behind_rows(store, &options, &facet, all)
            .await
            .unwrap();
        let found = requests_behind(store, &options, &facet, all).await.unwrap();
        assert_eq!(found.total, reference.total, "{facet}");
        assert_eq!(ids(&found.requests), ids(&reference.requests), "{facet}");
        held += found.total;
    }
    held
}

both_backends!(kansas_city_lists_agree, new_york_lists_agree);

/// Kansas City: areas from the source rows (neighborhoods), dates without times (many requests
/// created exactly at a bucket's or a month's bound), no due dates.
async fn kansas_city_lists_agree(db: &TestDb) {
    let store = &db.store;
    let tz = load_kansas_city(store).await;
    let now = utc("2021-06-01T05:00:00Z");
    let year = RequestFilter {
        created_from: Some(local(tz, 2019, 1)),
        created_before: Some(local(tz, 2020, 1)),
        ..Default::default()
    };
    // A request filed on the very first second of a local month: in that month, not the one
    // before; judged eight days later to the second, eight days old (the second aging bucket).
    let service = store
        .requests(
            &year,
            Page {
                limit: 1,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .remove(0)
        .service_code;
    let november = local(tz, 2019, 11);
    let filed = store
        .create_request(
            NewServiceRequest {
                service_code: service,
                description: Some("Filed at midnight".into()),
                location: Location::default(),
                channel: Channel::Phone,
                priority: Priority::Normal,
                requester: None,
                attributes: vec![],
                media_url: None,
            },
            Actor::Resident,
            november,
        )
        .await
        .unwrap();
    let held = agree(store, tz, year.clone(), now).await;
    for facet in [
        "open",
        "closed",
        "close:0",
        "close:5",
        "age:4",
        "month:2019-10",
    ] {
        assert!(held.iter().any(|f| f == facet), "{facet} held nothing");
    }
    let bound = november + chrono::Duration::days(8);
    agree(store, tz, year.clone(), bound).await;
    let options = Options {
        filter: year.clone(),
        now: bound,
        timezone: tz,
        include_self_generated: false,
    };
    let at = async |facet: Facet| {
        let page = Page {
            limit: 10_000,
            offset: 0,
        };
        let found = requests_behind(store, &options, &facet, page)
            .await
            .unwrap();
        found.requests.iter().any(|r| r.id == filed.id)
    };
    assert!(at(Facet::Month("2019-11".into())).await);
    assert!(!at(Facet::Month("2019-10".into())).await);
    assert!(at(Facet::AgeBucket(1)).await);
    assert!(!at(Facet::AgeBucket(0)).await);
    assert!(held.iter().any(|f| f.starts_with("area:")), "{held:?}");
    // One neighborhood's year, a ragged range of it, and all its time: an area of the cohort's
    // own layer as a facet, and its services and months.
    let hood = held
        .iter()
        .find_map(|f| f.strip_prefix("area:"))
        .map(|a| AreaRef::parse(a).unwrap())
        .unwrap();
    let in_hood = RequestFilter {
        area: Some(hood.clone()),
        ..year.clone()
    };
    assert!(agree(store, tz, in_hood, now).await.len() > 10);
    let ragged = RequestFilter {
        area: Some(hood.clone()),
        created_from: Some(utc("2019-02-03T07:13:20Z")),
        created_before: Some(utc("2019-11-17T16:45:30Z")),
        ..Default::default()
    };
    agree(store, tz, ragged, now).await;
    // Judged on a day the open requests' ages fall right on the buckets' bounds (midnights).
    let all_time = RequestFilter {
        area: Some(hood.clone()),
        ..Default::default()
    };
    agree(store, tz, all_time, local(tz, 2019, 12)).await;

    // An area's closed or open requests are found from what its index keeps of them (their
    // outcome): worked through the store, open requests of a neighborhood are closed and closed
    // ones reopened, and its lists follow them.
    let open_now = RequestFilter {
        states: vec!["open", "in_progress", "on_hold"],
        ..year.clone()
    };
    let worked_hood = store
        .requests(
            &open_now,
            Page {
                limit: 500,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find_map(|r| r.location.areas.into_iter().find(|a| a.layer == hood.layer))
        .unwrap();
    let hood_all = RequestFilter {
        area: Some(worked_hood),
        ..Default::default()
    };
    let some = |states: Vec<&'static str>, limit| {
        let filter = RequestFilter {
            states,
            ..hood_all.clone()
        };
        async move {
            store
                .requests(&filter, Page { limit, offset: 0 })
                .await
                .unwrap()
        }
    };
    let mut worked = some(vec!["open", "in_progress", "on_hold"], 4).await;
    worked.extend(some(vec!["closed"], 3).await);
    assert!(worked.iter().any(|r| r.status.is_closed()), "{worked:?}");
    assert!(worked.iter().any(|r| !r.status.is_closed()), "{worked:?}");
    for r in &worked {
        let staff = Actor::Staff("crew".into());
        store
            .update_request(&r.id, None, move |q| {
                Ok(vec![if q.status.is_closed() {
                    q.reopen("not fixed", staff, now)?
                } else {
                    q.change_status(Status::Closed(ClosureReason::Resolved), staff, now)?
                }])
            })
            .await
            .unwrap();
    }
    let closed_after = closed_in(store, tz, &hood_all, now).await;
    for r in &worked {
        // Closed now: closed with a time; reopened: not closed.
        assert_eq!(
            closed_after.contains(&r.id),
            !r.status.is_closed(),
            "{} was {:?}",
            r.id,
            r.status
        );
    }
    assert!(outcomes_agree(store, tz, hood_all.clone(), now).await > 0);

    // A store written before the areas kept outcomes: the migration copies them.
    let backfill = areas_backfill(db, "20261207090000_area_outcomes.sql");
    run_raw(db, &["UPDATE request_areas SET outcome = NULL", &backfill]).await;
    assert_eq!(closed_in(store, tz, &hood_all, now).await, closed_after);
    // A store written before outcomes were kept: computed when it is opened, they reach the
    // areas too.
    run_raw(
        db,
        &["UPDATE service_requests SET outcome = NULL, close_seconds = NULL, close_bin = NULL"],
    )
    .await;
    assert!(closed_in(store, tz, &hood_all, now).await.is_empty());
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(closed_in(&reopened, tz, &hood_all, now).await, closed_after);
    assert!(outcomes_agree(&reopened, tz, hood_all.clone(), now).await > 0);
    reopened.close().await;

    // A layer loaded after the requests: they are placed in its areas with their outcomes.
    let (by_point, placed) = place_by_point(store).await;
    assert!(placed > 100, "{placed} requests placed by point");
    let summary = summarize_rows(
        store,
        &Options {
            filter: year.clone(),
            now,
            timezone: tz,
            include_self_generated: true,
        },
    )
    .await
    .unwrap();
    let (area, _) = summary.volume.by_area[by_point.as_str()]
        .iter()
        .max_by_key(|(_, n)| **n)
        .unwrap();
    let placed = RequestFilter {
        area: Some(AreaRef {
            layer: by_point.clone(),
            area: civic311_domain::AreaId::parse(area).unwrap(),
        }),
        ..year.clone()
    };
    assert!(!closed_in(store, tz, &placed, now).await.is_empty());
    assert!(outcomes_agree(store, tz, placed, now).await > 0);
}

/// The ids of the requests behind the number of closed requests of `filter`.
async fn closed_in(
    store: &Store,
    tz: Tz,
    filter: &RequestFilter,
    now: DateTime<Utc>,
) -> Vec<ServiceRequestId> {
    let options = Options {
        filter: filter.clone(),
        now,
        timezone: tz,
        include_self_generated: true,
    };
    let page = Page {
        limit: 100_000,
        offset: 0,
    };
    let found = requests_behind(store, &options, &Facet::Closed, page)
        .await
        .unwrap();
    found.requests.into_iter().map(|r| r.id).collect()
}

/// New York: times to the second, due dates (every SLA verdict), several layouts.
async fn new_york_lists_agree(db: &TestDb) {
    let store = &db.store;
    let tz = load_new_york(store).await;
    let everything = RequestFilter::default();
    let mut held = agree(store, tz, everything, utc("2023-03-01T00:00:00Z")).await;
    // January 2018 judged on February 1st: its open requests were not due yet.
    let january = RequestFilter {
        created_from: Some(local(tz, 2018, 1)),
        created_before: Some(local(tz, 2018, 2)),
        ..Default::default()
    };
    held.extend(agree(store, tz, january, utc("2018-02-01T00:00:00Z")).await);
    // Judged at the very moment an open request falls due: still on time.
    let open = requests_behind_rows(
        store,
        &Options {
            filter: RequestFilter::default(),
            now: utc("2000-01-01T00:00:00Z"),
            timezone: tz,
            include_self_generated: true,
        },
        &Facet::Sla(SlaClass::OpenOnTime),
        Page {
            limit: 1,
            offset: 0,
        },
    )
    .await
    .unwrap();
    let due = open.requests[0].due_at.unwrap();
    assert!(
        agree(store, tz, RequestFilter::default(), due)
            .await
            .contains(&"sla:open_on_time".to_owned())
    );
    for class in ["met", "closed_late", "open_overdue", "open_on_time"] {
        let facet = format!("sla:{class}");
        assert!(held.contains(&facet), "{facet} held nothing: {held:?}");
    }
    assert!(held.iter().any(|f| f == "sla_breached"));
}
