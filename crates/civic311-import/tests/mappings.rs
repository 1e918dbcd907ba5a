//! New York City's real exports in their three layouts, read through the shipped mappings on
//! SQLite and PostgreSQL; expected numbers are counted here from the CSV itself. Then the
//! mapping engine's promises: re-imports change nothing, a newer extract becomes events, dirty
//! rows are flagged or rejected by row and column, Latin-1 bytes are read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDateTime;
use civic311_domain::EventKind;
use civic311_import::csv_import;
use civic311_import::mapping::Mapping;
use civic311_store::{RequestFilter, Store};
use civic311_testkit::{Backend, TestDb, both_backends};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mapping(name: &str) -> Mapping {
    Mapping::from_toml(&std::fs::read_to_string(root().join("mappings").join(name)).unwrap())
        .unwrap()
}

/// From the raw file: rows, rows by our state, rows closed before created, rows with a point.
#[derive(Debug, Default, PartialEq)]
struct Counted {
    rows: u64,
    states: HashMap<&'static str, i64>,
    closed_before_created: u64,
}

fn count(file: &str, header: bool) -> Counted {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(header)
        .from_path(root().join("testdata/new-york").join(file))
        .unwrap();
    let names: Vec<String> = if header {
        rdr.headers().unwrap().iter().map(str::to_owned).collect()
    } else {
        [
            "Unique Key",
            "Created Date",
            "Closed Date",
            "Complaint Type",
            "Borough",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let col = |n: &str| names.iter().position(|h| h == n).unwrap();
    let mut c = Counted::default();
    let when = |s: &str| NaiveDateTime::parse_from_str(s, "%m/%d/%Y %I:%M:%S %p").ok();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        c.rows += 1;
        let closed = when(&rec[col("Closed Date")]);
        let state = if header {
            match &rec[col("Status")] {
                "Closed" => "closed",
                "Open" => "open",
                "Pending" => "on_hold",
                _ => "in_progress",
            }
        } else if closed.is_some() {
            "closed"
        } else {
            "open"
        };
        *c.states.entry(state).or_default() += 1;
        let created = when(&rec[col("Created Date")]).unwrap();
        if closed.is_some_and(|closed| closed + chrono::Duration::days(1) <= created) {
            c.closed_before_created += 1;
        }
    }
    c
}

async fn by_state(store: &Store) -> HashMap<&'static str, i64> {
    let counts = store.request_counts().await.unwrap();
    counts
        .by_state
        .into_iter()
        .map(|(s, n)| {
            let s: &'static str = match s.as_str() {
                "open" => "open",
                "closed" => "closed",
                "on_hold" => "on_hold",
                _ => "in_progress",
            };
            (s, n)
        })
        .collect()
}

both_backends!(new_york_in_every_layout);

async fn new_york_in_every_layout(db: &TestDb) {
    let store = &db.store;
    let mut total = HashMap::new();
    for (file, map, header) in [
        ("nyc311_2013-12-25_52col_sample.csv", "nyc-2010s.toml", true),
        ("nyc311_2018-01_53col_sample.csv", "nyc-2010s.toml", true),
        ("nyc311_2022-05_41col_sample.csv", "nyc-current.toml", true),
        (
            "nyc311_2023-02-28_46col_sample.csv",
            "nyc-current.toml",
            true,
        ),
        (
            "nyc311_2020_5col_noheader_sample.csv",
            "nyc-2020-noheader.toml",
            false,
        ),
    ] {
        let expected = count(file, header);
        let path = root().join("testdata/new-york").join(file);
        let report = csv_import::import_file(store, &path, mapping(map))
            .await
            .unwrap();
        assert_eq!(report.rows_read, expected.rows, "{file}");
        assert_eq!(
            report.imported,
            expected.rows,
            "{file}: every row is usable: {:?}",
            report.rejected.first()
        );
        let flagged = report
            .warnings
            .iter()
            .filter(|w| w.reason.contains("before it was created"))
            .count() as u64;
        assert_eq!(flagged, expected.closed_before_created, "{file}");
        for (s, n) in expected.states {
            *total.entry(s).or_insert(0) += n;
        }
        assert_eq!(by_state(store).await, total, "{file}");
    }
    // The first file was a bulk load into the empty store: every index and trigger it dropped
    // is back.
    let suspendable = suspendable(db);
    assert_eq!(store.suspend_indexes().await.unwrap(), suspendable);
    assert_eq!(store.restore_indexes().await.unwrap(), suspendable);
    // A request closed before it was created keeps no close date (it would be a negative time
    // to close); the 2018 file has such rows.
    let filter = RequestFilter {
        states: vec!["closed"],
        ..Default::default()
    };
    let closed = store.count_requests(&filter).await.unwrap();
    assert!(closed > 0);

    // Importing the same file again changes nothing.
    let path = root().join("testdata/new-york/nyc311_2022-05_41col_sample.csv");
    let again = csv_import::import_file(store, &path, mapping("nyc-current.toml"))
        .await
        .unwrap();
    assert_eq!((again.imported, again.updated), (0, 0));
    assert_eq!(again.unchanged, again.rows_read);

    // A newer extract: one open request is now closed. It is updated, and the change is an event.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&header).unwrap();
    let mut changed = None;
    for rec in rdr.records() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(str::to_owned).collect();
        if changed.is_none() && rec[col("Status")] == "In Progress" {
            rec[col("Status")] = "Closed".into();
            rec[col("Closed Date")] = "05/03/2022 09:30:00 AM".into();
            changed = Some(rec[col("Unique Key")].clone());
        }
        out.write_record(&rec).unwrap();
    }
    let newer = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(newer.path(), out.into_inner().unwrap()).unwrap();
    let update = csv_import::import_file(store, newer.path(), mapping("nyc-current.toml"))
        .await
        .unwrap();
    assert_eq!((update.imported, update.updated), (0, 1));
    let id = civic311_domain::ServiceRequestId::parse(format!("nyc:{}", changed.unwrap())).unwrap();
    let r = store.request(&id).await.unwrap().unwrap();
    assert!(r.status.is_closed());
    let events = store.events(&id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| matches!(e.event.kind, EventKind::StatusChanged { .. }))
    );
}

both_backends!(street_condition_is_split_by_its_descriptor_so_potholes_compare);

/// New York files potholes as "Street Condition" with the descriptor "Pothole": the shipped
/// mappings split that complaint type by its descriptor, so its potholes fall in the standard
/// `pothole` category; other complaint types stay whole. Counted from the real files.
async fn street_condition_is_split_by_its_descriptor_so_potholes_compare(db: &TestDb) {
    use civic311_domain::StandardCategory;
    let store = &db.store;
    let mut expected: HashMap<String, i64> = HashMap::new();
    for (file, layout) in [
        ("nyc311_2013-12-25_52col_sample.csv", "nyc-2010s.toml"),
        ("nyc311_2023-02-28_46col_sample.csv", "nyc-current.toml"),
    ] {
        let path = root().join("testdata/new-york").join(file);
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let names: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
        let col = |n: &str| names.iter().position(|h| h == n).unwrap();
        for rec in rdr.byte_records() {
            let rec = rec.unwrap();
            let text = |n: &str| String::from_utf8_lossy(&rec[col(n)]).into_owned();
            let service = match (text("Complaint Type").as_str(), text("Descriptor")) {
                ("Street Condition", d) if !d.is_empty() => format!("Street Condition - {d}"),
                (t, _) => t.to_owned(),
            };
            *expected.entry(service).or_default() += 1;
        }
        csv_import::import_file(store, &path, mapping(layout))
            .await
            .unwrap();
    }
    assert!(expected["Street Condition - Pothole"] > 0);
    assert!(!expected.contains_key("Street Condition"), "{expected:?}");
    let services = store.services().await.unwrap();
    let split = expected
        .iter()
        .filter(|(name, _)| name.starts_with("Street Condition"));
    for (name, n) in split {
        let service = services
            .iter()
            .find(|s| &s.name == name)
            .unwrap_or_else(|| panic!("no service {name:?}"));
        let filter = RequestFilter {
            service_codes: vec![service.code.clone()],
            ..Default::default()
        };
        assert_eq!(store.count_requests(&filter).await.unwrap(), *n, "{name}");
        if name.starts_with("Street Condition - Pothole") {
            assert_eq!(service.standard_category(), StandardCategory::Pothole);
            assert_eq!(service.code.as_str(), "street-condition-pothole");
        } else if name.starts_with("Street Condition") {
            assert_eq!(
                service.standard_category(),
                StandardCategory::StreetsSidewalks,
                "{name}"
            );
        }
    }
    assert!(
        services.iter().all(|s| s.name != "Street Condition"),
        "every Street Condition row of these files has a descriptor"
    );
    let rows: i64 = expected.values().sum();
    let all = store
        .count_requests(&RequestFilter::default())
        .await
        .unwrap();
    assert_eq!(all, rows);
}

both_backends!(dirty_rows_are_flagged_or_rejected_and_latin1_is_read);

async fn dirty_rows_are_flagged_or_rejected_and_latin1_is_read(db: &TestDb) {
    let store = &db.store;
    let header = "Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,Status,Incident Address,Incident Zip,Latitude,Longitude,Open Data Channel Type,Due Date\n";
    let mut file = header.as_bytes().to_vec();
    for line in [
        // A good row, a Latin-1 address (0xE9 = é), a line break inside a quoted field.
        &b"1,05/01/2022 10:00:00 AM,,DOT,Department of Transportation,Street Condition,Pothole,Open,\"12 Caf\xe9 St\",10001,40.75,-73.99,PHONE\n"[..],
        b"2,05/01/2022 10:00:00 AM,,DOT,Department of Transportation,Street Condition,Pothole,Open,\"3 Main St\nRear\",10001,,,ONLINE\n",
        // Unusable: no date, an unknown status, no service.
        b"3,yesterday,,DOT,DOT,Street Condition,,Open,,,,,PHONE\n",
        b"4,05/01/2022 10:00:00 AM,,DOT,DOT,Street Condition,,Teleported,,,,,PHONE\n",
        b"5,05/01/2022 10:00:00 AM,,DOT,DOT,,,Open,,,,,PHONE\n",
        // Kept, with a flag: a point off the map, and the same id again (the later row updates).
        b"6,05/01/2022 10:00:00 AM,,DOT,DOT,Street Condition,,Open,,,95.0,-73.99,MOBILE\n",
        b"1,05/01/2022 10:00:00 AM,05/02/2022 10:00:00 AM,DOT,Department of Transportation,Street Condition,Pothole,Closed,\"12 Caf\xe9 St\",10001,40.75,-73.99,PHONE\n",
    ] {
        // Each row ends with an empty Due Date.
        file.extend_from_slice(&line[..line.len() - 1]);
        file.extend_from_slice(b",\n");
    }
    let report = csv_import::import_reader(
        store,
        file.as_slice(),
        "dirty.csv",
        mapping("nyc-current.toml"),
        |_| {},
    )
    .await
    .unwrap();
    let rejected: Vec<(u64, Option<&str>)> = report
        .rejected
        .iter()
        .map(|r| (r.row, r.column.as_deref()))
        .collect();
    assert_eq!(
        rejected,
        vec![
            (3, Some("Created Date")),
            (4, Some("Status")),
            (5, Some("Complaint Type"))
        ]
    );
    assert_eq!(
        report.rejected[1].line, 6,
        "the line break of row 2 is counted"
    );
    let warned: Vec<u64> = report.warnings.iter().map(|w| w.row).collect();
    assert_eq!(warned, vec![1, 6, 7, 7], "{:?}", report.warnings);
    assert_eq!(report.rows_read, 7);
    let one = store
        .request(&civic311_domain::ServiceRequestId::parse("nyc:1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.location.address.as_deref(), Some("12 Café St"));
    assert!(
        one.status.is_closed(),
        "the later row of id 1 updated the earlier"
    );
    let two = store
        .request(&civic311_domain::ServiceRequestId::parse("nyc:2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.location.address.as_deref(), Some("3 Main St\nRear"));
    assert_eq!(two.location.point, None);
    // A mapping naming a column the file lacks is refused before anything is read.
    let wrong = csv_import::import_reader(
        store,
        file.as_slice(),
        "dirty.csv",
        mapping("nyc-2010s.toml"),
        |_| {},
    )
    .await;
    assert!(
        wrong.is_ok(),
        "the 2010s mapping reads only columns this file has too"
    );
    let kc = csv_import::import_reader(
        store,
        file.as_slice(),
        "dirty.csv",
        mapping("kansas-city.toml"),
        |_| {},
    )
    .await;
    let err = kc.err().unwrap().to_string();
    assert!(err.contains("CASE ID"), "{err}");
}

both_backends!(a_newer_extract_updates_in_reading_order_what_the_store_holds);

/// A newer extract meets requests already stored, which the store reads in one go per batch: an
/// id listed twice in it is compared with what its previous row left, not with what was stored
/// before the import (closed, then open again: a close and a reopening, both counted as updates).
async fn a_newer_extract_updates_in_reading_order_what_the_store_holds(db: &TestDb) {
    let store = &db.store;
    let header = "Unique Key,Created Date,Closed Date,Agency,Agency Name,Complaint Type,Descriptor,Status,Incident Address,Incident Zip,Latitude,Longitude,Open Data Channel Type,Due Date\n";
    let row = |id: u32, closed: &str, status: &str| {
        format!(
            "{id},05/01/2022 10:00:00 AM,{closed},DOT,Department of Transportation,Street Condition,Pothole,{status},{id} Main St,10001,40.75,-73.99,PHONE,\n"
        )
    };
    let closed = "05/02/2022 10:00:00 AM";
    let file = |rows: &[String]| format!("{header}{}", rows.concat());
    let first = file(&[row(1, "", "Open"), row(2, "", "Open"), row(3, "", "Open")]);
    let import = |text: String| async move {
        csv_import::import_reader(
            store,
            text.as_bytes(),
            "extract.csv",
            mapping("nyc-current.toml"),
            |_| {},
        )
        .await
        .unwrap()
    };
    let report = import(first).await;
    assert_eq!(report.imported, 3);
    let newer = file(&[
        row(1, closed, "Closed"),
        row(2, "", "Open"),
        row(3, closed, "Closed"),
        row(1, "", "Open"),
        row(4, "", "Open"),
    ]);
    let report = import(newer).await;
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(
        (report.imported, report.updated, report.unchanged),
        (1, 3, 1)
    );
    let id = |n: u32| civic311_domain::ServiceRequestId::parse(format!("nyc:{n}")).unwrap();
    let one = store.request(&id(1)).await.unwrap().unwrap();
    assert!(!one.status.is_closed(), "the later row of id 1 wins");
    assert_eq!(one.closed_at, None);
    let kinds: Vec<&str> = store
        .events(&id(1))
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match e.event.kind {
            EventKind::StatusChanged { .. } => Some("closed"),
            EventKind::Reopened { .. } => Some("reopened"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["closed", "reopened"]);
    let three = store.request(&id(3)).await.unwrap().unwrap();
    assert!(three.status.is_closed());
    // The same extract again says nothing new.
    let again = import(file(&[row(1, "", "Open"), row(3, closed, "Closed")])).await;
    assert_eq!((again.updated, again.unchanged), (0, 2));
}

/// A file that stops being readable half-way (a disk or network error).
struct Breaks(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Breaks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::other("the disk went away")),
            n => Ok(n),
        }
    }
}

both_backends!(an_unreadable_file_stops_the_import_and_restores_the_store);

/// The import stops with the reason instead of rejecting the same failed read forever; the
/// batch being read is not written, and the indexes of the bulk load are back.
async fn an_unreadable_file_stops_the_import_and_restores_the_store(db: &TestDb) {
    let store = &db.store;
    let path = root().join("testdata/new-york/nyc311_2022-05_41col_sample.csv");
    let text = std::fs::read(&path).unwrap();
    let cut = text[..text.len() / 2].to_vec();
    let err = csv_import::import_reader(
        store,
        Breaks(std::io::Cursor::new(cut)),
        "cut.csv",
        mapping("nyc-current.toml"),
        |_| {},
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("reading stopped after") && err.contains("the disk went away"),
        "{err}"
    );
    assert_eq!(
        store
            .count_requests(&RequestFilter::default())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.suspend_indexes().await.unwrap(),
        suspendable(db),
        "every index is back"
    );
}

/// What a bulk load drops: 11 indexes and the 11 triggers that keep the roll-ups; on
/// PostgreSQL the request tables' 5 foreign keys.
fn suspendable(db: &TestDb) -> usize {
    match db.backend {
        Backend::Sqlite => 11 + 11,
        Backend::Postgres => 11 + 11 + 5,
    }
}
