//! The real samples the analytics tests load.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;

use chrono_tz::Tz;
use civic311_store::Store;
use civic311_testkit::{Backend, TestDb};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Imports the Kansas City sample; returns the city's time zone.
pub async fn load_kansas_city(store: &Store) -> Tz {
    let sample = root().join("testdata/kansas-city/kc311_sample.csv");
    civic311_import::kansas_city::import_file(store, &sample)
        .await
        .unwrap();
    "America/Chicago".parse().unwrap()
}

/// Imports the four New York samples of three layouts, the first into an empty store (a bulk
/// load), the others through the triggers; returns the city's time zone.
pub async fn load_new_york(store: &Store) -> Tz {
    for (mapping, file) in [
        ("nyc-2010s.toml", "nyc311_2018-01_53col_sample.csv"),
        ("nyc-2010s.toml", "nyc311_2013-12-25_52col_sample.csv"),
        ("nyc-current.toml", "nyc311_2022-05_41col_sample.csv"),
        ("nyc-current.toml", "nyc311_2023-02-28_46col_sample.csv"),
    ] {
        let mapping = std::fs::read_to_string(root().join("mappings").join(mapping)).unwrap();
        let mapping = civic311_import::mapping::Mapping::from_toml(&mapping).unwrap();
        let sample = root().join("testdata/new-york").join(file);
        civic311_import::csv_import::import_file(store, &sample, mapping)
            .await
            .unwrap();
    }
    "America/New_York".parse().unwrap()
}

/// Loads the real Kansas City neighborhoods again as a layer of their own, `kc-hoods-by-point`,
/// after the requests, and places the stored requests in it by their points; returns the layer
/// and how many were placed.
pub async fn place_by_point(store: &Store) -> (civic311_domain::LayerId, u64) {
    let (hoods, _) = civic311_import::areas::read_geojson_file(
        &root().join("testdata/kansas-city/neighborhoods.geojson"),
        "nbhid",
        Some("nbhname"),
        &["0"],
    )
    .unwrap();
    let by_point = civic311_domain::LayerId::parse("kc-hoods-by-point").unwrap();
    store
        .upsert_areas(
            &by_point,
            "Kansas City neighborhoods, placed by point",
            &hoods,
        )
        .await
        .unwrap();
    let index = store.area_index().await.unwrap();
    let placed = store
        .place_stored_requests(&by_point, &index)
        .await
        .unwrap();
    (by_point, placed)
}

/// A layer `layer` of `rows` × `columns` rectangles over `[west, south, east, north]` (a test's
/// own grid, for a city whose samples name no areas), loaded after the requests, which are placed
/// in it by their points; returns how many were placed.
pub async fn place_in_grid(
    store: &Store,
    layer: &str,
    [west, south, east, north]: [f64; 4],
    rows: usize,
    columns: usize,
) -> u64 {
    let mut features = Vec::new();
    for row in 0..rows {
        for column in 0..columns {
            let (w, e) = (
                west + (east - west) * column as f64 / columns as f64,
                west + (east - west) * (column + 1) as f64 / columns as f64,
            );
            let (s, n) = (
                south + (north - south) * row as f64 / rows as f64,
                south + (north - south) * (row + 1) as f64 / rows as f64,
            );
            features.push(serde_json::json!({
                "type": "Feature",
                "properties": {"id": format!("r{row}c{column}")},
                "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            }));
        }
    }
    let text = serde_json::json!({"type": "FeatureCollection", "features": features}).to_string();
    let (cells, _) = civic311_import::areas::read_geojson(&text, layer, "id", None, &[]).unwrap();
    let id = civic311_domain::LayerId::parse(layer).unwrap();
    store.upsert_areas(&id, layer, &cells).await.unwrap();
    let index = store.area_index().await.unwrap();
    store.place_stored_requests(&id, &index).await.unwrap()
}

/// The text of migration `file` of the test's backend.
pub fn migration_of(db: &TestDb, file: &str) -> String {
    let dir = match db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    std::fs::read_to_string(
        root()
            .join("crates/civic311-store/migrations")
            .join(dir)
            .join(file),
    )
    .unwrap()
}

/// The statement of migration `file` (this backend's) that copies a column of the requests
/// into their areas: `UPDATE request_areas ...`, comments left out.
pub fn areas_backfill(db: &TestDb, file: &str) -> String {
    let code: String = migration_of(db, file)
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .find(|s| s.starts_with("UPDATE request_areas"))
        .unwrap()
        .to_owned()
}

pub async fn run_raw(db: &TestDb, statements: &[&str]) {
    match db.backend {
        Backend::Sqlite => {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(db.url.expose())
                .await
                .unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(*s))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(db.url.expose()).await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(*s))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        }
    }
}
