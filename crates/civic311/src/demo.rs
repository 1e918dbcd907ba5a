//! `civic311 demo`: a fresh SQLite database with the real Kansas City sample, served.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use civic311_domain::LayerId;
use civic311_import::{areas, kansas_city};
use civic311_store::{DatabaseUrl, Store};
use civic311_web::AppState;
use civic311_web::open311::Open311Config;

use crate::sample;

pub async fn run(listen: SocketAddr, database: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", database.display());
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot replace {file}")),
        }
    }
    let url = DatabaseUrl::parse(&format!("sqlite:{}", database.display()))?;
    let store = Store::open(&url).await?;
    let store = load_sample(store).await?;
    let newest = store.newest_request().await?;
    let mut extra: Vec<String> = newest
        .iter()
        .map(|r| format!("/api/v1/requests/{}", r.id))
        .collect();
    // Open311 lists default to the last 90 days; the sample is older, so show its last month.
    if let Some(r) = &newest {
        let tz = chrono_tz::America::Chicago;
        let day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%Y-%m-%d");
        extra.push(format!(
            "/open311/v2/requests.json?start_date={}&end_date={}&extensions=true",
            day(r.created_at - chrono::Duration::days(30)),
            day(r.created_at)
        ));
        extra.push(format!("/open311/v2/requests/{}.xml", r.id));
    }
    let key = store.issue_api_key("demo", chrono::Utc::now()).await?;
    println!("Open311 API key for POSTs (jurisdiction kcmo.gov): {key}");
    let staff = store
        .issue_api_key_with_role(
            "demo-supervisor",
            civic311_store::KeyRole::Staff,
            chrono::Utc::now(),
        )
        .await?;
    println!("staff key (sign in at /staff/login for the dashboard; the staff API): {staff}");
    extra.push("/staff/login".to_owned());
    let open311 = Open311Config {
        jurisdiction_id: Some("kcmo.gov".into()),
        timezone: chrono_tz::America::Chicago,
        contact: "civic311 demo with real Kansas City 311 data".into(),
        key_service: "civic311 demo: the key is printed at start-up".into(),
        ..Open311Config::default()
    };
    crate::cli::serve(
        AppState::new(store, open311)
            .with_reports("Kansas City 311 (civic311 demo)", Default::default()),
        Default::default(),
        None,
        listen,
        &extra,
    )
    .await
}

/// Loads the neighborhoods and the requests of the built-in sample, printing what was kept.
pub async fn load_sample(store: Store) -> Result<Store> {
    let layer = LayerId::parse(kansas_city::NEIGHBORHOOD_LAYER)?;
    let (hoods, skipped) = areas::read_geojson(
        sample::KC_NEIGHBORHOODS,
        "neighborhoods.geojson",
        "nbhid",
        Some("nbhname"),
        &["0"],
    )?;
    store
        .upsert_areas(&layer, "Kansas City neighborhoods", &hoods)
        .await?;
    println!(
        "loaded {} Kansas City neighborhoods ({skipped} unnamed polygons left out)",
        hoods.len()
    );
    let report =
        kansas_city::import_reader(&store, sample::KC_REQUESTS.as_bytes(), "kc311_sample.csv")
            .await?;
    println!("loaded the Kansas City 311 sample: {report}");
    for r in report.rejected.iter().take(10) {
        println!(
            "  rejected row {} (line {}): {:?} {}",
            r.row, r.line, r.column, r.reason
        );
    }
    Ok(store)
}
