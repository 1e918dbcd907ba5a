//! Exports of the real Kansas City sample in the exchange format, on SQLite and PostgreSQL:
//! what goes out comes back the same, filters select what the store selects, and no personal
//! data leaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use civic311_domain::privacy::Scrub;
use civic311_domain::{
    Actor, AreaId, AreaRef, Channel, Consent, LayerId, NewServiceRequest, Priority, Requester,
    ServiceCode, ServiceRequestId, StandardCategory,
};
use civic311_exchange::{ExportOptions, Format, export};
use civic311_store::{RequestFilter, Store};
use civic311_testkit::{Backend, TestDb, both_backends};

fn testdata(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(path)
}

/// A `Write` whose bytes the test reads after the export.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn export_to_string(
    store: &Store,
    format: Format,
    filter: RequestFilter,
    scrub: Scrub,
) -> String {
    let buffer = Buffer::default();
    let options = ExportOptions {
        city: "kansas-city".into(),
        filter,
        scrub,
        format,
    };
    export(store, &options, buffer.clone()).await.unwrap();
    let bytes = buffer.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

/// Every request, as CSV, nothing scrubbed beyond what always is.
async fn export_all(store: &Store) -> String {
    export_to_string(
        store,
        Format::Csv,
        RequestFilter::default(),
        Scrub::default(),
    )
    .await
}

/// A CSV export's header and rows.
fn table(text: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let rows = reader.records().map(Result::unwrap).collect();
    (header, rows)
}

fn column(header: &csv::StringRecord, name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

async fn load_sample(store: &Store) -> u64 {
    let report =
        civic311_import::kansas_city::import_file(store, &testdata("kansas-city/kc311_sample.csv"))
            .await
            .unwrap();
    assert!(report.rejected.is_empty());
    report.imported
}

/// `report` imported all `rows` without a reject, and `store` now exports `first` again.
async fn assert_same_after_import(
    report: &civic311_import::ImportReport,
    rows: u64,
    first: &str,
    store: &Store,
) {
    assert!(
        report.rejected.is_empty(),
        "{:?}",
        &report.rejected[..3.min(report.rejected.len())]
    );
    assert_eq!(report.imported, rows);
    let second = export_all(store).await;
    if first != second {
        let diff = first
            .lines()
            .zip(second.lines())
            .find(|(a, b)| a != b)
            .unwrap_or_default();
        panic!("the round trip changed a row:\n{}\n{}", diff.0, diff.1);
    }
}

both_backends!(our_export_imports_back_with_nothing_lost);

/// Kansas City's sample out as CSV, into an empty second store, out again: the same bytes.
/// Importing the file again changes nothing.
async fn our_export_imports_back_with_nothing_lost(db: &TestDb) {
    let rows = load_sample(&db.store).await;
    let first = export_all(&db.store).await;
    let (header, records) = table(&first);
    assert_eq!(records.len() as u64, rows);
    assert!(
        header.iter().any(|h| h == "area:kc-neighborhoods")
            && header.iter().any(|h| h == "area:kc-council-districts"),
        "{header:?}"
    );
    let col = |name: &str| column(&header, name);
    // The first sample row, as the source has it: 11/16/2019 02:55 PM in Kansas City is 20:55 UTC.
    let row = records
        .iter()
        .find(|r| &r[col("request_id")] == "2019193337")
        .unwrap();
    assert_eq!(&row[col("created_at")], "2019-11-16T20:55:00Z");
    assert_eq!(&row[col("category")], "water_sewer");
    assert_eq!(&row[col("status")], "closed");
    assert_eq!(&row[col("area:kc-council-districts")], "4");
    assert_eq!(&row[col("latitude")], "39.102738");
    // The keyword rules place most real requests in a standard category.
    let other = records
        .iter()
        .filter(|r| &r[col("category")] == "other")
        .count();
    assert!(
        other * 10 < records.len(),
        "{other} of {} requests in no standard category",
        records.len()
    );

    let peer = TestDb::migrated(db.backend).await.unwrap();
    let report = civic311_import::exchange::import_reader(&peer.store, first.as_bytes(), "kc.csv")
        .await
        .unwrap();
    assert_same_after_import(&report, rows, &first, &peer.store).await;
    let again = civic311_import::exchange::import_reader(&peer.store, first.as_bytes(), "kc.csv")
        .await
        .unwrap();
    assert_eq!(
        (again.imported, again.updated, again.unchanged),
        (0, 0, rows)
    );
    // The categories came with the services: the importing city compares the same things.
    let service = peer
        .store
        .service(&ServiceCode::parse(row[col("service_code")].to_owned()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(service.category, Some(StandardCategory::WaterSewer));
    peer.finish().await;
}

#[cfg(feature = "parquet")]
both_backends!(a_parquet_export_imports_back_with_nothing_lost);

/// The same round trip with Parquet as the file that travels (read back a batch at a time): the
/// store it went into exports the very CSV of the store it came from.
#[cfg(feature = "parquet")]
async fn a_parquet_export_imports_back_with_nothing_lost(db: &TestDb) {
    let rows = load_sample(&db.store).await;
    let first = export_all(&db.store).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kc.parquet");
    let options = ExportOptions {
        city: "kansas-city".into(),
        filter: RequestFilter::default(),
        scrub: Scrub::default(),
        format: Format::Parquet,
    };
    let file = std::fs::File::create(&path).unwrap();
    export(&db.store, &options, file).await.unwrap();
    let peer = TestDb::migrated(db.backend).await.unwrap();
    let report = civic311_import::exchange::import_file(&peer.store, &path)
        .await
        .unwrap();
    assert_same_after_import(&report, rows, &first, &peer.store).await;
    // A damaged file is refused with the reason; nothing is written.
    let mut bytes = std::fs::read(&path).unwrap();
    let tail = bytes.len() - 8;
    bytes[tail..tail + 4].copy_from_slice(&[0xff; 4]);
    let broken = dir.path().join("broken.parquet");
    std::fs::write(&broken, &bytes).unwrap();
    let other = TestDb::migrated(db.backend).await.unwrap();
    let err = civic311_import::exchange::import_file(&other.store, &broken)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Parquet"), "{err}");
    assert_eq!(other.store.request_counts().await.unwrap().total, 0);
    other.finish().await;
    peer.finish().await;
}

both_backends!(a_duplicate_before_its_original_is_linked);

/// Exports go in store order, so a request merged into one filed after it comes first in the
/// file. Imported elsewhere, it still points at its original, and the file comes back the same.
async fn a_duplicate_before_its_original_is_linked(db: &TestDb) {
    load_sample(&db.store).await;
    let (header, records) = table(&export_all(&db.store).await);
    let open: Vec<ServiceRequestId> = records
        .iter()
        .filter(|r| &r[column(&header, "status")] != "closed")
        .map(|r| ServiceRequestId::parse(r[column(&header, "request_id")].to_owned()).unwrap())
        .collect();
    let (child, original) = (open.first().unwrap(), open.last().unwrap());
    db.store
        .merge_requests(child, original, Actor::Staff("agent".into()), Utc::now())
        .await
        .unwrap();
    let first = export_all(&db.store).await;
    let (_, rows) = table(&first);
    let at = |id: &ServiceRequestId| {
        rows.iter()
            .position(|r| &r[column(&header, "request_id")] == id.as_str())
            .unwrap()
    };
    assert!(at(child) < at(original), "the duplicate comes first");
    let linked = rows[at(child)].get(column(&header, "duplicate_of"));
    assert_eq!(linked, Some(original.as_str()));

    let peer = TestDb::migrated(db.backend).await.unwrap();
    civic311_import::exchange::import_reader(&peer.store, first.as_bytes(), "kc.csv")
        .await
        .unwrap();
    let imported = peer.store.request(child).await.unwrap().unwrap();
    assert_eq!(imported.parent_id.as_ref(), Some(original));
    assert_eq!(export_all(&peer.store).await, first);
    peer.finish().await;
}

both_backends!(a_cohort_read_by_pages_is_what_the_lists_read);

/// Exports and metrics read a cohort by pages (on PostgreSQL as plain columns, the areas by a
/// query of their own); the API's lists read the same requests as one JSON document a page.
/// Both give the same requests, field by field: areas, the parent of a merged duplicate and
/// every date included, for the whole store and for a cohort listed by its keys.
async fn a_cohort_read_by_pages_is_what_the_lists_read(db: &TestDb) {
    load_sample(&db.store).await;
    let list = async |filter: &RequestFilter| {
        let all = civic311_store::Page {
            limit: 100_000,
            offset: 0,
        };
        db.store.public_requests(filter, all).await.unwrap()
    };
    let all = list(&RequestFilter::default()).await;
    let open: Vec<&ServiceRequestId> = all
        .iter()
        .filter(|r| r.closed_at.is_none())
        .map(|r| &r.id)
        .collect();
    let (child, original) = (open[0], open[open.len() - 1]);
    db.store
        .merge_requests(child, original, Actor::Staff("agent".into()), Utc::now())
        .await
        .unwrap();
    let latest = db.store.newest_request().await.unwrap().unwrap().created_at;
    let cohorts = [
        RequestFilter::default(),
        RequestFilter {
            created_from: Some(latest - chrono::Duration::days(120)),
            ..Default::default()
        },
    ];
    for filter in cohorts {
        let mut listed: std::collections::HashMap<_, _> = list(&filter)
            .await
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
        assert!(listed.len() > 100, "{filter:?}: {} requests", listed.len());
        let (mut read, mut with_areas, mut with_parent) = (0, 0, 0);
        let mut pages = db.store.read_cohort(&filter, 500).await.unwrap();
        while let Some(page) = pages.next_page().await.unwrap() {
            for (_, r) in page {
                let alone = listed
                    .remove(&r.id)
                    .unwrap_or_else(|| panic!("{} read twice or not listed", r.id));
                assert_eq!(r, alone);
                read += 1;
                with_areas += usize::from(!r.location.areas.is_empty());
                with_parent += usize::from(r.parent_id.is_some());
            }
        }
        assert!(
            listed.is_empty(),
            "{} listed requests not read by pages",
            listed.len()
        );
        assert!(with_areas > read / 2, "{with_areas} of {read} with areas");
        assert!(with_parent >= 1 || filter.created_from.is_some());
    }
    let merged = db.store.public_request(child).await.unwrap().unwrap();
    assert_eq!(merged.parent_id.as_ref(), Some(original));
}

both_backends!(filters_select_what_the_store_selects);

async fn filters_select_what_the_store_selects(db: &TestDb) {
    load_sample(&db.store).await;
    let rows = |text: &str| table(text).1.len() as i64;
    let october = RequestFilter {
        created_from: Some("2019-10-01T05:00:00Z".parse().unwrap()),
        created_before: Some("2019-11-01T05:00:00Z".parse().unwrap()),
        ..Default::default()
    };
    let district = RequestFilter {
        area: Some(AreaRef {
            layer: LayerId::parse("kc-council-districts").unwrap(),
            area: AreaId::parse("4").unwrap(),
        }),
        ..Default::default()
    };
    let busiest = db.store.service_counts(1).await.unwrap().remove(0).0;
    let one_service = RequestFilter {
        service_codes: vec![ServiceCode::parse(busiest).unwrap()],
        ..Default::default()
    };
    for filter in [october, district, one_service] {
        let expected = db.store.count_requests(&filter).await.unwrap();
        assert!(expected > 0 && expected < 5_013, "{filter:?}: {expected}");
        let text = export_to_string(&db.store, Format::Csv, filter.clone(), Scrub::default()).await;
        assert_eq!(rows(&text), expected, "{filter:?}");
    }
}

both_backends!(no_personal_data_leaves_in_any_format);

/// A resident's name, e-mail and phone are never exported; the same written in the description
/// are scrubbed; with street numbers scrubbed, addresses become blocks.
async fn no_personal_data_leaves_in_any_format(db: &TestDb) {
    load_sample(&db.store).await;
    let sample = db
        .store
        .public_requests(
            &RequestFilter::default(),
            civic311_store::Page {
                limit: 1,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .remove(0);
    let filed = db
        .store
        .create_request(
            NewServiceRequest {
                service_code: sample.service_code.clone(),
                description: Some(
                    "Water in front of 938 Mulberry St; call Jane at 816-555-0134 or jane.roe@example.org"
                        .into(),
                ),
                location: civic311_domain::Location {
                    address: Some("938 Mulberry St".into()),
                    ..sample.location.clone()
                },
                channel: Channel::Web,
                priority: Priority::Normal,
                requester: Some(Requester {
                    first_name: Some("Jane".into()),
                    last_name: Some("Roe".into()),
                    email: Some("jane.roe@example.org".into()),
                    phone: Some("816-555-0134".into()),
                    consent: Consent {
                        contact: true,
                        survey: true,
                    },
                    ..Requester::default()
                }),
                attributes: vec![],
                media_url: None,
            },
            Actor::Resident,
            Utc::now(),
        )
        .await
        .unwrap();
    let only = RequestFilter {
        ids: vec![filed.id.clone()],
        ..Default::default()
    };
    let scrub = Scrub {
        street_numbers: true,
    };
    let csv = export_to_string(&db.store, Format::Csv, only.clone(), scrub).await;
    let geojson = export_to_string(&db.store, Format::GeoJson, only.clone(), scrub).await;
    for text in [&csv, &geojson] {
        for personal in ["Roe", "jane.roe@example.org", "555-0134", "938 Mulberry"] {
            assert!(!text.contains(personal), "{personal} in\n{text}");
        }
        assert!(text.contains(filed.id.as_str()));
        assert!(
            text.contains("[number] Mulberry St; call Jane at [phone] or [email]"),
            "{text}"
        );
        assert!(text.contains("900 block of Mulberry St"), "{text}");
    }
    // GeoJSON: a FeatureCollection with the point as [long, lat].
    let doc: serde_json::Value = serde_json::from_str(&geojson).unwrap();
    let feature = &doc["features"][0];
    let point = filed.location.point.unwrap();
    assert_eq!(doc["type"], "FeatureCollection");
    assert_eq!(doc["features"].as_array().unwrap().len(), 1);
    assert_eq!(
        feature["geometry"]["coordinates"],
        serde_json::json!([point.long(), point.lat()])
    );
    assert_eq!(feature["properties"]["request_id"], filed.id.as_str());
    assert_eq!(feature["properties"]["exchange_version"], 1);
    // Without the switch, the address stays whole (it is where the pothole is).
    let plain = export_to_string(&db.store, Format::Csv, only, Scrub::default()).await;
    assert!(
        plain.contains("938 Mulberry St") && !plain.contains("555-0134"),
        "{plain}"
    );
}

#[tokio::test]
async fn a_newer_version_or_a_foreign_file_is_refused_with_the_reason() {
    let db = TestDb::migrated(Backend::Sqlite).await.unwrap();
    let err = civic311_import::exchange::import_reader(&db.store, "a,b\n1,2\n".as_bytes(), "x.csv")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("x.csv") && err.contains("exchange_version"),
        "{err}"
    );
    load_sample(&db.store).await;
    let text = export_all(&db.store).await;
    // Four rows: one of a newer version, one with a status we do not know, one with a
    // description longer than any request may carry, one good.
    let (header, records) = table(&text);
    let col = |name: &str| column(&header, name);
    let mut rows: Vec<Vec<String>> = records[..4]
        .iter()
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    rows[0][col("exchange_version")] = "2".into();
    rows[1][col("status")] = "finished".into();
    rows[2][col("description")] = "x".repeat(civic311_domain::MAX_DESCRIPTION_CHARS + 1);
    let mut writer = csv::Writer::from_writer(vec![]);
    writer.write_record(&header).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    let file = writer.into_inner().unwrap();
    let peer = TestDb::migrated(Backend::Sqlite).await.unwrap();
    let report = civic311_import::exchange::import_reader(&peer.store, file.as_slice(), "x.csv")
        .await
        .unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.rejected);
    assert_eq!(report.rejected.len(), 3, "{:?}", report.rejected);
    assert_eq!(
        report.rejected[0].column.as_deref(),
        Some("exchange_version")
    );
    assert_eq!(report.rejected[0].line, 2);
    assert!(
        report.rejected[0].reason.contains("version 2"),
        "{:?}",
        report.rejected
    );
    assert_eq!(report.rejected[1].column.as_deref(), Some("status"));
    assert_eq!(report.rejected[2].column.as_deref(), Some("description"));
    peer.finish().await;
    db.finish().await;
}

both_backends!(area_ids_join_census_tables_without_guessing);

/// Kansas City's ACS 2019 table by neighborhood joins the exported area column on its own id:
/// every neighborhood of the layer and every exported request's neighborhood has its row.
async fn area_ids_join_census_tables_without_guessing(db: &TestDb) {
    let (hoods, _) = civic311_import::areas::read_geojson_file(
        &testdata("kansas-city/neighborhoods.geojson"),
        "nbhid",
        Some("nbhname"),
        &["0"],
    )
    .unwrap();
    let layer = LayerId::parse("kc-neighborhoods").unwrap();
    db.store
        .upsert_areas(&layer, "Kansas City neighborhoods", &hoods)
        .await
        .unwrap();
    load_sample(&db.store).await;
    let mut acs = csv::Reader::from_path(testdata(
        "kansas-city/neighborhoods_socioeconomic_acs2019.csv",
    ))
    .unwrap();
    let census: std::collections::HashSet<String> =
        acs.records().map(|r| r.unwrap()[0].to_owned()).collect();
    let layer_ids: Vec<String> = db
        .store
        .area_counts(&layer)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(layer_ids.len(), 240);
    assert!(layer_ids.iter().all(|id| census.contains(id)));
    let text = export_all(&db.store).await;
    let (header, records) = table(&text);
    let col = column(&header, "area:kc-neighborhoods");
    let (mut joined, mut placed) = (0, 0);
    for r in &records {
        if !r[col].is_empty() {
            placed += 1;
            joined += usize::from(census.contains(&r[col]));
        }
    }
    assert!(placed > 4_000, "{placed} requests in a neighborhood");
    assert_eq!(joined, placed, "every placed request joins its census row");
}
