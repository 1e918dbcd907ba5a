//! The Kansas City importer on the real sample shipped in testdata/, on SQLite and PostgreSQL.
//! Expected numbers are computed here from the CSV itself, not copied from a run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use civic311_domain::{ClosureReason, LayerId, ServiceRequestId, Status};
use civic311_import::{ImportError, areas, kansas_city};
use civic311_testkit::{TestDb, both_backends};

fn testdata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kansas-city")
        .join(file)
}

/// Counts from the raw CSV, read independently of the importer.
struct Expected {
    rows: i64,
    by_state: HashMap<&'static str, i64>,
    events: i64,
}

fn expected_from_csv() -> Expected {
    let mut rdr = csv::Reader::from_path(testdata("kc311_sample.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (status, dept, group) = (col("STATUS"), col("DEPARTMENT"), col("WORK GROUP"));
    let mut e = Expected {
        rows: 0,
        by_state: HashMap::new(),
        events: 0,
    };
    for rec in rdr.records() {
        let rec = rec.unwrap();
        e.rows += 1;
        let state = match &rec[status] {
            "RESOL" | "CANC" | "DUP" => "closed",
            "OPEN" => "open",
            "ASSIG" => "in_progress",
            other => panic!("unexpected status {other}"),
        };
        *e.by_state.entry(state).or_default() += 1;
        e.events += 1; // created
        if !rec[dept].trim().is_empty() || !rec[group].trim().is_empty() {
            e.events += 1; // routed
        }
        if state != "open" {
            e.events += 1; // status changed
        }
    }
    e
}

both_backends!(real_sample_imports_completely);

async fn real_sample_imports_completely(db: &TestDb) {
    let store = &db.store;
    let report = kansas_city::import_file(store, &testdata("kc311_sample.csv"))
        .await
        .unwrap();
    let expected = expected_from_csv();
    assert_eq!(report.rows_read as i64, expected.rows);
    assert_eq!(
        report.imported as i64, expected.rows,
        "rejected: {:?}",
        report.rejected
    );
    assert!(report.rejected.is_empty());

    let counts = store.request_counts().await.unwrap();
    assert_eq!(counts.total, expected.rows);
    for (state, n) in &counts.by_state {
        assert_eq!(Some(n), expected.by_state.get(state.as_str()), "{state}");
    }
    assert_eq!(counts.events, expected.events);

    // One real row, field by field: 2019193337, PHONE, Water Services, 11/16/2019 02:55 PM,
    // RESOL, closed 11/22/2019, 938 Mulberry St, ZIP 64101.0, council district 4.0.
    let id = ServiceRequestId::parse("2019193337").unwrap();
    let r = store.request(&id).await.unwrap().unwrap();
    assert_eq!(
        r.service_code.as_str(),
        "stormwater-storm-drain-catch-basin-dropped-personal-item"
    );
    assert_eq!(r.status, Status::Closed(ClosureReason::Resolved));
    assert_eq!(r.created_at.to_rfc3339(), "2019-11-16T20:55:00+00:00");
    assert_eq!(
        r.closed_at.unwrap().to_rfc3339(),
        "2019-11-22T06:00:00+00:00"
    );
    assert_eq!(r.channel.as_str(), "phone");
    assert_eq!(r.department.unwrap().as_str(), "water-services");
    assert_eq!(r.location.zip.as_deref(), Some("64101"));
    assert_eq!(
        r.location.area_in("kc-council-districts").unwrap().as_str(),
        "4"
    );
    assert_eq!(
        r.location.area_in("kc-neighborhoods"),
        None,
        "nbh_id 0 means no neighborhood"
    );
    let p = r.location.point.unwrap();
    assert_eq!((p.lat(), p.long()), (39.102738, -94.600134));

    // Neighborhood layer: 246 polygons, 6 of them the unnamed nbhid "0".
    let (hoods, skipped) = areas::read_geojson_file(
        &testdata("neighborhoods.geojson"),
        "nbhid",
        Some("nbhname"),
        &["0"],
    )
    .unwrap();
    assert_eq!((hoods.len(), skipped), (240, 6));
    let layer = LayerId::parse(kansas_city::NEIGHBORHOOD_LAYER).unwrap();
    store
        .upsert_areas(&layer, "Kansas City neighborhoods", &hoods)
        .await
        .unwrap();
    let per_area = store.area_counts(&layer).await.unwrap();
    assert_eq!(per_area.len(), 240);
    let in_named: i64 = per_area.iter().map(|(_, _, n)| n).sum();
    let mut rdr = csv::Reader::from_path(testdata("kc311_sample.csv")).unwrap();
    let nbh = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "nbh_id")
        .unwrap();
    let with_nbh = rdr
        .records()
        .filter(|r| &r.as_ref().unwrap()[nbh] != "0")
        .count() as i64;
    assert_eq!(in_named, with_nbh);
}

both_backends!(dirty_rows_are_rejected_by_row_and_column_and_the_rest_kept);

async fn dirty_rows_are_rejected_by_row_and_column_and_the_rest_kept(db: &TestDb) {
    // The real header and three real records, then damaged copies of the first.
    let text = std::fs::read_to_string(testdata("kc311_sample.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let real: Vec<csv::StringRecord> = rdr.records().take(3).map(Result::unwrap).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let damaged = |column: &str, value: &str, id: &str| {
        let mut fields: Vec<String> = real[0].iter().map(str::to_owned).collect();
        fields[col(column)] = value.to_owned();
        fields[col("CASE ID")] = id.to_owned();
        csv::StringRecord::from(fields)
    };
    let mut file = tempfile::NamedTempFile::new().unwrap();
    {
        let mut w = csv::Writer::from_writer(&mut file);
        w.write_record(&header).unwrap();
        for r in &real {
            w.write_record(r).unwrap();
        }
        w.write_record(&damaged("CREATION DATE", "13/45/2019", "900001"))
            .unwrap();
        w.write_record(&damaged("REQUEST TYPE", "", "900002"))
            .unwrap();
        w.write_record(&damaged("LATITUDE", "399.1", "900003"))
            .unwrap();
        w.write_record(&damaged("STATUS", "LOST", "900004"))
            .unwrap();
        w.write_record(&damaged("CASE ID", "", "")).unwrap();
        w.flush().unwrap();
    }
    file.flush().unwrap();
    let report = kansas_city::import_file(&db.store, file.path())
        .await
        .unwrap();
    assert_eq!(report.rows_read, 8);
    assert_eq!(
        report.imported, 4,
        "three real rows and the one with a bad coordinate"
    );
    let rejected: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.row, r.column.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        rejected,
        [
            (4, "CREATION DATE".to_owned()),
            (5, "REQUEST TYPE".to_owned()),
            (7, "STATUS".to_owned()),
            (8, "CASE ID".to_owned())
        ]
    );
    assert!(
        report.rejected[0].reason.contains("13/45/2019"),
        "{:?}",
        report.rejected[0]
    );
    assert!(report.rejected.iter().all(|r| r.line > 1));
    assert_eq!(report.warnings.len(), 1);
    let kept = db
        .store
        .request(&ServiceRequestId::parse("900003").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.location.point, None);
    assert_eq!(db.store.request_counts().await.unwrap().total, 4);
}

#[tokio::test]
async fn a_file_of_another_layout_is_refused_naming_the_column() {
    let db = TestDb::migrated(civic311_testkit::Backend::Sqlite)
        .await
        .unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(
        file,
        "Unique Key,Created Date,Closed Date\n1,01/01/2020 10:00:00 AM,"
    )
    .unwrap();
    let err = kansas_city::import_file(&db.store, file.path())
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::Format { .. }), "{err:?}");
    assert!(err.to_string().contains("\"CASE ID\""), "{err}");
    assert_eq!(db.store.request_counts().await.unwrap().total, 0);
    db.finish().await;
}

both_backends!(ids_repeated_in_a_file_are_found_by_the_store_across_batches);

/// The real sample twice in one file (10,026 records: more than one batch of 10,000): every id
/// of the second copy repeats one of the first, 26 of them in the next batch. The store finds
/// them as they are written (no set of ids read is kept), and warns at the repeated row. A
/// later import of the sample alone meets requests of the earlier import: not repeats, and
/// nothing changed (a re-import is idempotent).
async fn ids_repeated_in_a_file_are_found_by_the_store_across_batches(db: &TestDb) {
    let text = std::fs::read_to_string(testdata("kc311_sample.csv")).unwrap();
    let (header, body) = text.split_once('\n').unwrap();
    let records = expected_from_csv().rows as u64;
    let twice = format!("{header}\n{body}{body}");
    let report = kansas_city::import_reader(&db.store, twice.as_bytes(), "twice.csv")
        .await
        .unwrap();
    assert_eq!(report.rows_read, 2 * records);
    assert!(report.rows_read > 10_000, "the copies span two batches");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(report.imported, records);
    assert_eq!(
        (report.updated, report.unchanged),
        (0, records),
        "the second copy says nothing new (areas listed in the mapping's order are the same set)"
    );
    let repeated: Vec<u64> = report
        .warnings
        .iter()
        .filter(|w| w.reason.contains("appears again in this file"))
        .map(|w| w.row)
        .collect();
    let expected: Vec<u64> = (records + 1..=2 * records).collect();
    assert_eq!(
        repeated, expected,
        "one warning per row of the second copy, in order"
    );
    let first = report
        .warnings
        .iter()
        .find(|w| w.row == records + 1)
        .unwrap();
    assert!(first.line > records, "{first:?}");
    assert_eq!(
        db.store.request_counts().await.unwrap().total as u64,
        records
    );

    let again = kansas_city::import_file(&db.store, &testdata("kc311_sample.csv"))
        .await
        .unwrap();
    assert_eq!(again.unchanged, records);
    assert!(
        again
            .warnings
            .iter()
            .all(|w| !w.reason.contains("appears again")),
        "{:?}",
        &again.warnings[..again.warnings.len().min(3)]
    );
}
