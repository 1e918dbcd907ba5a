//! Routing by geography: how fast requests are placed in their areas with ten real area layers
//! loaded (Kansas City neighborhoods; New York boroughs, community districts, council districts,
//! NTAs and census tracts; Chicago tracts, community areas, neighborhoods and wards), locating
//! the real New York 311 points of February 2023. Also checks the answers against the data:
//! every point with coordinates should fall in a tract, and the community district should
//! agree with the request's own `Community Board` field (../shared/data/MANIFEST.md counts
//! 4,912/4,912 and 4,821/4,912).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use civic311_domain::{AreaIndex, LatLong, LayerId};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The shared data folder
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Locate the points this many times over (for a stable rate)
    #[arg(long, default_value_t = 50)]
    rounds: usize,
}

const LAYERS: [(&str, &str, &str); 10] = [
    (
        "kc-neighborhoods",
        "kansas-city/neighborhoods.geojson",
        "nbhid",
    ),
    (
        "nyc-boroughs",
        "new-york/boundaries/boroughs.geojson",
        "geoid",
    ),
    (
        "nyc-community-districts",
        "new-york/boundaries/community_districts.geojson",
        "borough_cd_id",
    ),
    (
        "nyc-council-districts",
        "new-york/boundaries/council_districts.geojson",
        "council_dist_id",
    ),
    ("nyc-nta", "new-york/boundaries/nta_2010.geojson", "nta_id"),
    (
        "nyc-tracts",
        "new-york/boundaries/census_tracts_2010.geojson",
        "geoid",
    ),
    (
        "chi-tracts",
        "chicago/boundaries/census_tracts_2010.geojson",
        "census_tract",
    ),
    (
        "chi-community-areas",
        "chicago/boundaries/community_areas.geojson",
        "AREA_NUMBE",
    ),
    (
        "chi-neighborhoods",
        "chicago/boundaries/neighborhoods.geojson",
        "pri_neigh",
    ),
    (
        "chi-wards",
        "chicago/boundaries/wards_2023.geojson",
        "ward_id",
    ),
];

fn community_board(field: &str) -> Option<String> {
    let (n, boro) = field.trim().split_once(' ')?;
    let code = match boro {
        "MANHATTAN" => 1,
        "BRONX" => 2,
        "BROOKLYN" => 3,
        "QUEENS" => 4,
        "STATEN ISLAND" => 5,
        _ => return None,
    };
    Some(format!("{code}{:02}", n.parse::<u32>().ok()?))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.data.join("MANIFEST.md").exists() {
        anyhow::bail!(
            "{} is absent: this benchmark needs the real boundaries and 311 data in ../shared",
            args.data.display()
        );
    }
    let started = Instant::now();
    let mut shapes = Vec::new();
    for (layer, file, id) in LAYERS {
        let (areas, _) =
            civic311_import::areas::read_geojson_file(&args.data.join(file), id, None, &[])
                .with_context(|| file.to_owned())?;
        let layer = LayerId::parse(layer)?;
        for a in areas {
            if let Some(g) = a.geometry {
                shapes.push((layer.clone(), a.id, g));
            }
        }
    }
    let read = started.elapsed();
    let started = Instant::now();
    let (index, unusable) = AreaIndex::build(
        shapes
            .iter()
            .map(|(l, a, g)| (l.clone(), a.clone(), g.as_str())),
    );
    let built = started.elapsed();

    let csv = args.data.join("new-york/nyc311_2023-02-28_46col.csv");
    let mut rdr = csv::Reader::from_path(&csv).with_context(|| csv.display().to_string())?;
    let header = rdr.headers()?.clone();
    let col = |n: &str| header.iter().position(|h| h == n).context(n.to_owned());
    let (lat, long, board) = (col("Latitude")?, col("Longitude")?, col("Community Board")?);
    let mut points = Vec::new();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec?;
        rows += 1;
        if let (Ok(y), Ok(x)) = (rec[lat].parse::<f64>(), rec[long].parse::<f64>())
            && let Ok(p) = LatLong::new(y, x)
        {
            points.push((p, community_board(&rec[board])));
        }
    }
    let (mut in_tract, mut with_board, mut board_agrees) = (0, 0, 0);
    for (p, board) in &points {
        let found = index.locate(*p);
        let area = |layer: &str| {
            found
                .iter()
                .find(|a| a.layer.as_str() == layer)
                .map(|a| a.area.to_string())
        };
        in_tract += usize::from(area("nyc-tracts").is_some());
        if let Some(b) = board {
            with_board += 1;
            board_agrees +=
                usize::from(area("nyc-community-districts").as_deref() == Some(b.as_str()));
        }
    }
    let started = Instant::now();
    let mut hits = 0usize;
    for _ in 0..args.rounds {
        for (p, _) in &points {
            hits += index.locate(*p).len();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let located = points.len() * args.rounds;
    println!(
        "layers=10 shapes={} unusable={} read_s={:.2} build_ms={:.1} rows={rows} points={} \
         in_tract={in_tract} board_fields={with_board} board_agrees={board_agrees} \
         located={located} seconds={secs:.2} points_per_s={:.0} areas_per_point={:.2} peak_rss_mib={:.0}",
        index.len(),
        unusable.len(),
        read.as_secs_f64(),
        built.as_secs_f64() * 1e3,
        points.len(),
        located as f64 / secs,
        hits as f64 / located as f64,
        civic311_bench::peak_rss_mib(),
    );
    Ok(())
}
