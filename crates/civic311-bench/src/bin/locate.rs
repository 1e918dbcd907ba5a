//! Routing by geography: how fast requests are placed in their areas with ten real area layers
//! loaded (Kansas City neighborhoods; New York boroughs, community districts, council districts,
//! NTAs and census tracts; Chicago tracts, community areas, neighborhoods and wards), locating
//! the real New York 311 points of February 2023, then routed through a routing table of 123
//! rules by area, service group and time of day (one precinct queue per community district for
//! the police's complaint types, one street crew per council district for the transportation
//! department's, an after-hours crew for environmental protection). Also checks the answers
//! against the data:
//! every point with coordinates should fall in a tract, and the community district should
//! agree with the request's own `Community Board` field (../shared/data/MANIFEST.md counts
//! 4,912/4,912 and 4,821/4,912).
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDateTime, Utc};
use civic311_domain::{
    AreaIndex, AreaRef, DepartmentCode, LatLong, LayerId, RoutingRule, RoutingTable, Service,
    ServiceCode,
};
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

/// A service per complaint type, in a group and department named by the agency (NYPD, DOT...).
fn service(complaint: &str, agency: &str) -> Result<Service> {
    let slug: String = complaint
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let agency = agency
        .to_lowercase()
        .replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    Ok(Service {
        code: ServiceCode::parse(if slug.is_empty() {
            "unknown".into()
        } else {
            slug
        })?,
        name: complaint.to_owned(),
        description: None,
        group: Some(agency.clone()),
        keywords: vec![],
        department: DepartmentCode::parse(agency).ok(),
        attributes: vec![],
        sla: None,
        sla_by_priority: Default::default(),
        category: None,
        active: true,
    })
}

fn rule(name: String, group: &str, area: Option<AreaRef>, queue: String) -> Result<RoutingRule> {
    Ok(RoutingRule {
        name,
        services: vec![],
        groups: vec![group.to_owned()],
        area,
        hours: None,
        department: DepartmentCode::parse(group)?,
        queue: Some(queue),
    })
}

/// 71 precinct queues, 51 street crews and one after-hours crew: 123 rules, tried in order.
fn routing_table(index: &AreaIndex) -> Result<RoutingTable> {
    let mut rules = Vec::new();
    for (layer, group, queue) in [
        ("nyc-community-districts", "nypd", "precinct-cd"),
        ("nyc-council-districts", "dot", "street-crew-council"),
    ] {
        let layer = LayerId::parse(layer)?;
        for area in index.areas_of(&layer) {
            rules.push(rule(
                format!("{group} in {layer} {area}"),
                group,
                Some(AreaRef {
                    layer: layer.clone(),
                    area: area.clone(),
                }),
                format!("{queue}-{area}"),
            )?);
        }
    }
    let mut after_hours = rule("dep after hours".into(), "dep", None, "dep-night".into())?;
    after_hours.hours = Some(civic311_domain::routing::Hours {
        from: chrono::NaiveTime::from_hms_opt(17, 0, 0).context("17:00")?,
        to: chrono::NaiveTime::from_hms_opt(7, 0, 0).context("07:00")?,
        timezone: chrono_tz::America::New_York,
    });
    rules.push(after_hours);
    let table = RoutingTable {
        rules,
        ..RoutingTable::default()
    };
    table.check()?;
    Ok(table)
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
    let (agency, complaint, created) =
        (col("Agency")?, col("Complaint Type")?, col("Created Date")?);
    let mut points = Vec::new();
    // (service, received) of each point, for routing.
    let mut requests: Vec<(Service, DateTime<Utc>)> = Vec::new();
    let mut rows = 0;
    for rec in rdr.records() {
        let rec = rec?;
        rows += 1;
        if let (Ok(y), Ok(x)) = (rec[lat].parse::<f64>(), rec[long].parse::<f64>())
            && let Ok(p) = LatLong::new(y, x)
        {
            points.push((p, community_board(&rec[board])));
            let local = NaiveDateTime::parse_from_str(&rec[created], "%m/%d/%Y %I:%M:%S %p")
                .with_context(|| format!("Created Date {:?}", &rec[created]))?;
            let at = local
                .and_local_timezone(chrono_tz::America::New_York)
                .earliest()
                .context("a local time that does not exist")?
                .with_timezone(&Utc);
            requests.push((service(&rec[complaint], &rec[agency])?, at));
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

    // Locate and route, as intake does for every new request.
    let table = routing_table(&index)?;
    let mut by_kind = std::collections::BTreeMap::<&str, usize>::new();
    for ((p, _), (service, at)) in points.iter().zip(&requests) {
        let route = table.route(service, &index.locate(*p), *at);
        let kind = match route.rule.as_str() {
            "service default department" | "fallback queue" => "service default or fallback",
            r if r.starts_with("nypd") => "precinct rule",
            r if r.starts_with("dot") => "street crew rule",
            _ => "after-hours rule",
        };
        *by_kind.entry(kind).or_default() += 1;
    }
    let started = Instant::now();
    let mut queued = 0usize;
    for _ in 0..args.rounds {
        for ((p, _), (service, at)) in points.iter().zip(&requests) {
            queued += usize::from(table.route(service, &index.locate(*p), *at).queue.is_some());
        }
    }
    let route_secs = started.elapsed().as_secs_f64();
    println!(
        "routing: rules={} routed={located} seconds={route_secs:.2} routed_per_s={:.0} with_queue={:.2} decisions={by_kind:?}",
        table.rules.len(),
        located as f64 / route_secs,
        queued as f64 / located as f64,
    );
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
