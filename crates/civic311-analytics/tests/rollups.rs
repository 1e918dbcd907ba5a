//! The summary read from the roll-ups gives the very numbers of the summary computed from every
//! request (`summarize_rows`, the reference), on the real Kansas City and New York samples and
//! on both stores: after a bulk load (roll-ups rebuilt), after imports into a store that has
//! requests (triggers), after requests are worked, reassigned and merged (triggers again), and
//! for a store whose requests were written before outcomes were kept (computed at open).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
mod common;

use common::{
    areas_backfill, load_kansas_city, load_new_york, migration_of, place_by_point, place_in_grid,
    run_raw,
};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use civic311_analytics::cityscore::ScoreCard;
use civic311_analytics::{
    MonthlyOptions, Options, monthly_report, monthly_report_rows, summarize, summarize_rows,
};
use civic311_domain::{
    Actor, ClosureReason, DepartmentCode, Priority, ServiceCode, ServiceCost, ServiceRequest,
    ServiceRequestId, Status,
};
use civic311_store::{Page, RequestFilter, Store};
use civic311_testkit::{TestDb, both_backends};
use serde_json::Value;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Local midnight of `day` (`YYYY-MM-DD`) in `tz`.
fn local(tz: Tz, day: &str) -> DateTime<Utc> {
    let d = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
    tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// Walks both summaries (or reports): equal everywhere, but the means and costs (sums of the
/// same numbers, added as floats in another order).
fn same(path: &str, rolled: &Value, rows: &Value) {
    match (rolled, rows) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(a), keys(b), "{path}: different keys");
            for (k, v) in a {
                same(&format!("{path}.{k}"), v, &b[k]);
            }
        }
        (Value::Number(a), Value::Number(b))
            if ["mean_seconds", "cost", "total", "per_closed_request"]
                .iter()
                .any(|end| path.ends_with(end)) =>
        {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                "{path}: {a} vs {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: different lengths");
            for (i, (a, b)) in a.iter().zip(b).enumerate() {
                same(&format!("{path}[{i}]"), a, b);
            }
        }
        _ => assert_eq!(rolled, rows, "{path}"),
    }
}

/// Summarizes `filter` both ways, judged at `now`, with and without the city's own requests,
/// and checks they agree. Returns how many requests it holds.
async fn agree(store: &Store, tz: Tz, filter: RequestFilter, now: DateTime<Utc>) -> u64 {
    let mut requests = 0;
    for include_self_generated in [false, true] {
        let options = Options {
            filter: filter.clone(),
            now,
            timezone: tz,
            include_self_generated,
        };
        let rolled = summarize(store, &options).await.unwrap();
        let rows = summarize_rows(store, &options).await.unwrap();
        same(
            &format!("{filter:?}"),
            &serde_json::to_value(&rolled).unwrap(),
            &serde_json::to_value(&rows).unwrap(),
        );
        requests = rows.volume.requests;
    }
    requests
}

/// Cohorts of every shape: all time, an open end, a local year, a local month, a ragged range
/// (sub-day ends on both sides), a service, a department, the busiest area of each layer (alone,
/// with a service, over a ragged range, all time), and nothing. Returns how many layers had
/// areas that year.
async fn every_shape(store: &Store, tz: Tz, year: &str, now: DateTime<Utc>) -> usize {
    let (from, to) = (
        local(tz, &format!("{year}-01-01")),
        local(tz, &format!("{}-01-01", year.parse::<i32>().unwrap() + 1)),
    );
    let all = agree(store, tz, RequestFilter::default(), now).await;
    assert!(all > 100, "{all} requests");
    let since = RequestFilter {
        created_from: Some(from),
        ..Default::default()
    };
    agree(store, tz, since, now).await;
    let a_year = RequestFilter {
        created_from: Some(from),
        created_before: Some(to),
        ..Default::default()
    };
    let in_year = agree(store, tz, a_year.clone(), now).await;
    assert!(in_year > 10, "{in_year} requests in {year}");
    let october = RequestFilter {
        created_from: Some(local(tz, &format!("{year}-10-01"))),
        created_before: Some(local(tz, &format!("{year}-11-01"))),
        ..Default::default()
    };
    agree(store, tz, october, now).await;
    let ragged = RequestFilter {
        created_from: Some(utc(&format!("{year}-02-03T07:13:20Z"))),
        created_before: Some(utc(&format!("{year}-11-17T16:45:30Z"))),
        ..Default::default()
    };
    agree(store, tz, ragged, now).await;
    // The year's busiest service, and the department of its first routed request.
    let year_requests = store
        .requests(
            &a_year,
            Page {
                limit: 500,
                offset: 0,
            },
        )
        .await
        .unwrap();
    let service = year_requests[0].service_code.clone();
    let of_service = RequestFilter {
        service_codes: vec![service],
        ..a_year.clone()
    };
    assert!(agree(store, tz, of_service, now).await > 0);
    if let Some(department) = year_requests.iter().find_map(|r| r.department.clone()) {
        let of_department = RequestFilter {
            department: Some(department),
            ..a_year.clone()
        };
        assert!(agree(store, tz, of_department, now).await > 0);
    }
    // The busiest UTC day of those requests, read from the requests with their areas (its first
    // second left out, so no whole day of the roll-ups serves it), for its busiest service and
    // department alone: the day's other requests and their areas stay out.
    let mut by_day: BTreeMap<_, Vec<&ServiceRequest>> = BTreeMap::new();
    for r in &year_requests {
        by_day.entry(r.created_at.date_naive()).or_default().push(r);
    }
    let (day, of_day) = by_day.iter().max_by_key(|(_, rs)| rs.len()).unwrap();
    let busiest = |key: &dyn Fn(&ServiceRequest) -> Option<String>| {
        let mut n: BTreeMap<String, usize> = BTreeMap::new();
        for r in of_day {
            if let Some(k) = key(r) {
                *n.entry(k).or_default() += 1;
            }
        }
        (
            n.len(),
            n.into_iter().max_by_key(|(_, n)| *n).map(|(k, _)| k),
        )
    };
    let (services, service) = busiest(&|r| Some(r.service_code.to_string()));
    assert!(services > 1, "{day}: {services} services");
    let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 1).unwrap());
    let of_day = RequestFilter {
        created_from: Some(start),
        created_before: Some(start + chrono::Duration::hours(36)),
        ..Default::default()
    };
    let of_service = RequestFilter {
        service_codes: vec![ServiceCode::parse(service.unwrap()).unwrap()],
        ..of_day.clone()
    };
    assert!(agree(store, tz, of_service, now).await > 0);
    if let (_, Some(department)) = busiest(&|r| r.department.as_ref().map(|d| d.to_string())) {
        let of_department = RequestFilter {
            department: Some(DepartmentCode::parse(department).unwrap()),
            ..of_day
        };
        assert!(agree(store, tz, of_department, now).await > 0);
    }
    let year_summary = summarize_rows(
        store,
        &Options {
            filter: a_year.clone(),
            now,
            timezone: tz,
            include_self_generated: false,
        },
    )
    .await
    .unwrap();
    for (layer, areas) in &year_summary.volume.by_area {
        let (busiest, &n) = areas.iter().max_by_key(|(_, n)| **n).unwrap();
        let area = Some(civic311_domain::AreaRef::parse(&format!("{layer}:{busiest}")).unwrap());
        let in_area = RequestFilter {
            area: area.clone(),
            ..a_year.clone()
        };
        assert_eq!(agree(store, tz, in_area, now).await, n, "{layer}:{busiest}");
        let of_service = RequestFilter {
            area: area.clone(),
            service_codes: vec![year_requests[0].service_code.clone()],
            ..a_year.clone()
        };
        agree(store, tz, of_service, now).await;
        let ragged = RequestFilter {
            area: area.clone(),
            created_from: Some(utc(&format!("{year}-02-03T07:13:20Z"))),
            created_before: Some(utc(&format!("{year}-11-17T16:45:30Z"))),
            ..Default::default()
        };
        agree(store, tz, ragged, now).await;
        let all_time = RequestFilter {
            area,
            ..Default::default()
        };
        assert!(agree(store, tz, all_time, now).await >= n);
    }
    let nothing = RequestFilter {
        created_from: Some(to),
        created_before: Some(from),
        ..Default::default()
    };
    assert_eq!(agree(store, tz, nothing, now).await, 0);
    let (busiest, _) = year_summary
        .volume
        .by_month
        .iter()
        .max_by_key(|(_, n)| **n)
        .unwrap();
    let areas = reports_agree(store, tz, busiest, now).await.1;
    assert_eq!(
        areas > 0,
        !year_summary.volume.by_area.is_empty(),
        "{busiest}"
    );
    year_summary.volume.by_area.len()
}

/// The monthly report of `month` from the roll-ups is the report from the month's requests
/// read one by one, with and without the city's own requests, priced by a budget of the
/// month's three busiest services (costs are sums of the same prices in another order: within
/// a millionth). Returns the report's count of medians that are not whole hours (read from the
/// requests, not from the roll-ups' bins), and of its rows of areas with requests in the month.
async fn reports_agree(store: &Store, tz: Tz, month: &str, now: DateTime<Utc>) -> (usize, usize) {
    let mut options = MonthlyOptions {
        month: month.parse().unwrap(),
        now,
        timezone: tz,
        include_self_generated: false,
        score_card: ScoreCard::default(),
    };
    let before = monthly_report_rows(store, &options).await.unwrap();
    let busiest: Vec<ServiceCost> = before
        .services
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, row)| ServiceCost {
            service_code: ServiceCode::parse(&row.key).unwrap(),
            labor_minutes: 25.0 + 10.0 * i as f64,
            hourly_rate: 41.3,
            unit_cost: 7.15 * i as f64,
        })
        .collect();
    let fiscal_year = chrono::NaiveDate::from_ymd_opt(2000, 5, 1).unwrap();
    store
        .save_costs(fiscal_year, &busiest, "budget office", now)
        .await
        .unwrap();
    let (mut inexact, mut areas) = (0, 0);
    for include_self_generated in [false, true] {
        options.include_self_generated = include_self_generated;
        let rolled = monthly_report(store, &options).await.unwrap();
        let rows = monthly_report_rows(store, &options).await.unwrap();
        if rows.this_month.summary.volume.requests > 0 {
            assert!(rows.costs.unwrap().closed_with_cost > 0, "{month}");
        }
        same(
            &format!("report {month}"),
            &serde_json::to_value(&rolled).unwrap(),
            &serde_json::to_value(&rows).unwrap(),
        );
        inexact = rows
            .services
            .iter()
            .chain(&rows.departments)
            .chain(rows.areas.values().flatten())
            .filter_map(|r| r.median_seconds)
            .filter(|s| s % 3_600.0 != 0.0)
            .count();
        areas = rows
            .areas
            .values()
            .flatten()
            .filter(|r| r.requests > 0)
            .count();
    }
    (inexact, areas)
}

/// Writers that close and reopen requests of the same groups at the same time: each moves a
/// count between the same roll-up rows, in opposite directions. None of them fails (on
/// PostgreSQL the roll-up rows are locked in one order, so no two writers deadlock), and the
/// roll-ups end as the requests are.
async fn writers_at_once_keep_the_rollups(db: &TestDb) {
    let store = &db.store;
    let tz = load_kansas_city(store).await;
    let all = store
        .requests(
            &RequestFilter::default(),
            Page {
                limit: 100_000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    // Requests of one month, service, department and channel: open ones and closed ones.
    type Ids = Vec<ServiceRequestId>;
    let mut groups: BTreeMap<(String, String, String, String), (Ids, Ids)> = BTreeMap::new();
    for r in &all {
        let key = (
            r.created_at.format("%Y-%m").to_string(),
            r.service_code.to_string(),
            format!("{:?}", r.department),
            r.channel.as_str().to_owned(),
        );
        let group = groups.entry(key).or_default();
        match (r.status.is_closed(), r.status.reason()) {
            (false, _) => group.0.push(r.id.clone()),
            (true, Some("duplicate")) => {}
            (true, _) => group.1.push(r.id.clone()),
        }
    }
    let ((month, ..), (mut open, mut closed)) = groups
        .into_iter()
        .max_by_key(|(_, (open, closed))| open.len().min(closed.len()))
        .unwrap();
    assert!(
        open.len().min(closed.len()) >= 3,
        "{month}: {open:?} {closed:?}"
    );
    open.truncate(12);
    closed.truncate(12);
    let now = utc("2024-01-01T00:00:00Z");
    for round in 0..4 {
        let mut writers = tokio::task::JoinSet::new();
        for (id, closing) in open
            .iter()
            .map(|id| (id, true))
            .chain(closed.iter().map(|id| (id, false)))
        {
            let (store, id) = (store.clone(), id.clone());
            let when = now + chrono::Duration::hours(round);
            writers.spawn(async move {
                let staff = Actor::Staff("crew".into());
                store
                    .update_request(&id, None, move |q| {
                        Ok(vec![if closing {
                            q.change_status(Status::Closed(ClosureReason::Resolved), staff, when)?
                        } else {
                            q.reopen("back again", staff, when)?
                        }])
                    })
                    .await
            });
        }
        while let Some(written) = writers.join_next().await {
            written.unwrap().unwrap();
        }
        std::mem::swap(&mut open, &mut closed);
    }
    every_shape(store, tz, &month[..4], utc("2024-06-01T00:00:00Z")).await;
}

both_backends!(
    kansas_city_rolled_up_as_counted,
    new_york_rolled_up_as_counted,
    writers_at_once_keep_the_rollups,
    a_newer_extract_keeps_the_rollups
);

/// The real sample again as the city's next extract would say it: its open and assigned
/// requests closed three days after they came in, and every 5th request of 2019 moved to
/// another department and neighborhood. The import writes those changes a batch at a time (the
/// rows one by one, their areas for the whole batch), and the roll-ups end as the requests are.
async fn a_newer_extract_keeps_the_rollups(db: &TestDb) {
    let store = &db.store;
    let tz = load_kansas_city(store).await;
    let text = std::fs::read(common::root().join("testdata/kansas-city/kc311_sample.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_slice());
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&header).unwrap();
    let (mut closed, mut moved, mut last_moved) = (0, 0, None);
    for (i, rec) in rdr.records().enumerate() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(str::to_owned).collect();
        if matches!(rec[col("STATUS")].as_str(), "OPEN" | "ASSIG") {
            let created =
                chrono::NaiveDate::parse_from_str(&rec[col("CREATION DATE")], "%m/%d/%Y").unwrap();
            rec[col("STATUS")] = "RESOL".into();
            rec[col("CLOSED DATE")] = (created + chrono::Duration::days(3))
                .format("%m/%d/%Y")
                .to_string();
            closed += 1;
        } else if i % 5 == 0
            && rec[col("CREATION YEAR")].starts_with("2019")
            && rec[col("nbh_id")] != "0"
        {
            rec[col("DEPARTMENT")] = "Parks and Recreation".into();
            rec[col("nbh_id")] = if rec[col("nbh_id")] == "25" {
                "26"
            } else {
                "25"
            }
            .into();
            moved += 1;
            last_moved = Some((rec[col("CASE ID")].clone(), rec[col("nbh_id")].clone()));
        }
        out.write_record(&rec).unwrap();
    }
    assert!(closed > 50 && moved > 20, "{closed} closed, {moved} moved");
    let newer = out.into_inner().unwrap();
    let report = civic311_import::kansas_city::import_reader(store, newer.as_slice(), "newer.csv")
        .await
        .unwrap();
    assert_eq!(report.updated, closed + moved);
    assert_eq!(report.imported, 0);
    // The last request moved (the batch's last changed) is in its new neighborhood only.
    let (case, hood) = last_moved.unwrap();
    let moved = store
        .request(&ServiceRequestId::parse(case).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved
            .location
            .area_in("kc-neighborhoods")
            .map(|a| a.as_str()),
        Some(hood.as_str())
    );
    assert_eq!(
        every_shape(store, tz, "2019", utc("2021-06-01T00:00:00Z")).await,
        2
    );
}

async fn kansas_city_rolled_up_as_counted(db: &TestDb) {
    let store = &db.store;
    // Into an empty store: a bulk load, the roll-ups built at its end.
    let tz = load_kansas_city(store).await;
    // A layer loaded after the requests: they are placed in it by their points.
    let (_, placed) = place_by_point(store).await;
    assert!(placed > 100, "{placed} requests placed by point");
    let now = utc("2021-06-01T00:00:00Z");
    // Neighborhoods and council districts named by the source rows, and the layer by point.
    assert_eq!(every_shape(store, tz, "2019", now).await, 3);

    // Worked through the store, the triggers keep the roll-ups: open requests of 2019 closed,
    // routed elsewhere, re-prioritised, merged as duplicates.
    let year = RequestFilter {
        created_from: Some(local(tz, "2019-01-01")),
        created_before: Some(local(tz, "2020-01-01")),
        states: vec!["open", "in_progress"],
        ..Default::default()
    };
    let open: Vec<ServiceRequest> = store
        .requests(
            &year,
            Page {
                limit: 40,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert!(open.len() >= 8, "{} open requests in 2019", open.len());
    let staff = || Actor::Staff("crew".into());
    let elsewhere = DepartmentCode::parse("parks").unwrap();
    for (i, r) in open.iter().enumerate() {
        let when = r.created_at + chrono::Duration::hours(30 + i as i64 * 7);
        let department = elsewhere.clone();
        store
            .update_request(&r.id, None, move |q| match i % 4 {
                0 => Ok(vec![q.change_status(
                    Status::Closed(ClosureReason::Resolved),
                    staff(),
                    when,
                )?]),
                1 => Ok(vec![q.assign(
                    Some(department),
                    None,
                    "wrong door",
                    staff(),
                    when,
                )?]),
                2 => Ok(vec![q.set_priority(Priority::High, staff(), when)?]),
                _ => Ok(vec![]),
            })
            .await
            .unwrap();
    }
    store
        .merge_requests(&open[3].id, &open[7].id, staff(), now)
        .await
        .unwrap();
    // The requests routed elsewhere moved, with their areas, to the other department.
    let parks = RequestFilter {
        department: Some(elsewhere),
        created_from: Some(local(tz, "2019-01-01")),
        created_before: Some(local(tz, "2020-01-01")),
        ..Default::default()
    };
    assert!(agree(store, tz, parks.clone(), now).await >= 2);
    let moved = summarize(
        store,
        &Options {
            filter: parks.clone(),
            now,
            timezone: tz,
            include_self_generated: false,
        },
    )
    .await
    .unwrap();
    assert!(
        !moved.volume.by_area.is_empty(),
        "their areas moved with them"
    );
    // In each of their areas too.
    for (layer, areas) in &moved.volume.by_area {
        for (area, &n) in areas {
            let in_area = RequestFilter {
                area: Some(civic311_domain::AreaRef::parse(&format!("{layer}:{area}")).unwrap()),
                ..parks.clone()
            };
            assert_eq!(agree(store, tz, in_area, now).await, n, "{layer}:{area}");
        }
    }
    // The same file again: its requests go through the triggers (and the departments of the
    // source come back).
    load_kansas_city(store).await;
    every_shape(store, tz, "2019", now).await;

    // A store written before the areas kept creation times: the migration copies them.
    forget_area_times_and_backfill(db).await;
    assert_eq!(every_shape(store, tz, "2019", now).await, 3);
    // A store written before the areas had roll-ups: the migration counts them.
    forget_area_rollups_and_backfill(db).await;
    assert_eq!(every_shape(store, tz, "2019", now).await, 3);
    // A store written before the city's bins by period: the migration sums them.
    forget_city_bins_and_backfill(db).await;
    assert_eq!(every_shape(store, tz, "2019", now).await, 3);

    // A store written before outcomes were kept: they are computed when it is opened.
    forget_outcomes(db).await;
    let reopened = Store::open(&db.url).await.unwrap();
    every_shape(&reopened, tz, "2019", now).await;
    reopened.close().await;
}

/// Empties the outcome columns and the roll-ups, as a store of an earlier version has them.
async fn forget_outcomes(db: &TestDb) {
    run_raw(
        db,
        &[
            "UPDATE service_requests SET outcome = NULL, close_seconds = NULL, close_bin = NULL",
            "DELETE FROM request_rollup",
            "DELETE FROM close_rollup",
            "DELETE FROM close_bin_rollup",
            "DELETE FROM area_rollup",
            "DELETE FROM area_request_rollup",
            "DELETE FROM area_close_rollup",
            "DELETE FROM area_pair_rollup",
        ],
    )
    .await;
}

/// Empties the areas' copy of the creation times, as a store of an earlier version has them,
/// then runs the migration's backfill (20261205090000_area_times.sql) of this backend.
async fn forget_area_times_and_backfill(db: &TestDb) {
    let backfill = areas_backfill(db, "20261205090000_area_times.sql");
    run_raw(
        db,
        &["UPDATE request_areas SET created_at = NULL", &backfill],
    )
    .await;
}

/// Empties the roll-ups by area, as a store of an earlier version has none, then runs the
/// statements that count the stored requests in the migration that made them
/// (20261206090000_area_rollups.sql) of this backend.
async fn forget_area_rollups_and_backfill(db: &TestDb) {
    let migration = migration_of(db, "20261206090000_area_rollups.sql");
    let backfill = stored_backfill(&migration, 3);
    let mut statements = vec![
        "DELETE FROM area_request_rollup",
        "DELETE FROM area_close_rollup",
        "DELETE FROM area_pair_rollup",
    ];
    statements.extend(backfill);
    run_raw(db, &statements).await;
}

/// Empties the city's bins by period, as a store of an earlier version has none, then runs the
/// statement that sums them in the migration that made them (20261210090000_city_bins.sql).
async fn forget_city_bins_and_backfill(db: &TestDb) {
    let migration = migration_of(db, "20261210090000_city_bins.sql");
    let mut statements = vec!["DELETE FROM close_bin_rollup"];
    statements.extend(stored_backfill(&migration, 1));
    run_raw(db, &statements).await;
}

/// The `n` statements of a migration that count the requests already stored (after its
/// "-- The requests already stored." line).
fn stored_backfill(migration: &str, n: usize) -> Vec<&str> {
    let (_, stored) = migration
        .split_once("-- The requests already stored.")
        .unwrap();
    let backfill: Vec<&str> = stored
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(backfill.len(), n, "{backfill:?}");
    backfill
}

async fn new_york_rolled_up_as_counted(db: &TestDb) {
    let store = &db.store;
    // The first file is a bulk load, the others go through the triggers.
    let tz = load_new_york(store).await;
    // Times to the second: quantiles fall in bins of many times, read from the requests.
    for now in ["2023-03-01T00:00:00Z", "2018-02-01T00:00:00Z"] {
        every_shape(store, tz, "2018", utc(now)).await;
        every_shape(store, tz, "2022", utc(now)).await;
    }
    // The medians of the report's rows found in those bins too, by service, department and
    // area (the samples name no areas: the city's box cut in six, the requests placed by point).
    let placed = place_in_grid(store, "nyc-grid", [-74.26, 40.49, -73.70, 40.92], 2, 3).await;
    assert!(placed > 1_000, "{placed} requests placed");
    for now in ["2023-03-01T00:00:00Z", "2018-02-01T00:00:00Z"] {
        let (inexact, areas) = reports_agree(store, tz, "2018-01", utc(now)).await;
        assert!(inexact >= 4, "{inexact} medians read from the requests");
        assert!(areas >= 4, "{areas} areas");
    }
    // A month whose last evening is in the next UTC month (the sample of February 28th, 2023),
    // and that next month, which has none of its own: an area's month is read as its UTC
    // month with those hours added, then taken away.
    let now = utc("2023-06-01T00:00:00Z");
    assert!(reports_agree(store, tz, "2023-02", now).await.1 >= 4);
    assert_eq!(reports_agree(store, tz, "2023-03", now).await.1, 0);
    // Two services at once, all time.
    let mut services: Vec<ServiceCode> = store
        .requests(
            &RequestFilter::default(),
            Page {
                limit: 200,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.service_code)
        .collect();
    services.sort();
    services.dedup();
    services.truncate(2);
    assert_eq!(services.len(), 2);
    let two = RequestFilter {
        service_codes: services,
        ..Default::default()
    };
    assert!(agree(store, tz, two, utc("2023-03-01T00:00:00Z")).await > 0);
}
