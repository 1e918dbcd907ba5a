//! How well the duplicate suggester finds the duplicates Kansas City's staff marked (STATUS DUP),
//! and how often it flags requests the city kept distinct, against the plain rule "an earlier
//! request of the same type within R metres and D days" as the baseline.
//!
//! Every request of the real file is loaded into a fresh SQLite store, then each one is asked
//! for suggestions through the store, as intake does (`Store::suggest_duplicates`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use civic311_domain::{ClosureReason, DuplicateRules, ServiceRequest, Status};
use civic311_store::{Page, RequestFilter};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The Kansas City 311 file (../shared/data/kansas-city/kc311_2007_2020.csv).
    #[arg(long)]
    csv: PathBuf,
    /// Where to build the SQLite store.
    #[arg(long, default_value = "bench-out/duplicates.db")]
    db: String,
    /// The baseline's radius (metres) and window (days), several allowed: 100,30 50,14.
    #[arg(long, num_args = 1.., default_values = ["50,14", "100,30", "200,60"])]
    baseline: Vec<String>,
}

fn is_dup(r: &ServiceRequest) -> bool {
    r.status == Status::Closed(ClosureReason::Duplicate)
}

fn metres(a: &ServiceRequest, b: &ServiceRequest) -> Option<f64> {
    use geo::{Distance, Haversine, Point};
    let (a, b) = (a.location.point?, b.location.point?);
    Some(Haversine.distance(Point::new(a.long(), a.lat()), Point::new(b.long(), b.lat())))
}

/// (duplicates flagged, others flagged) for a rule given as "is request i flagged".
fn tally(all: &[ServiceRequest], flagged: impl Fn(usize) -> bool) -> (usize, usize) {
    let (mut dup, mut other) = (0, 0);
    for (i, r) in all.iter().enumerate() {
        if flagged(i) {
            if is_dup(r) {
                dup += 1;
            } else {
                other += 1;
            }
        }
    }
    (dup, other)
}

fn line(name: &str, dups: usize, (dup, other): (usize, usize)) {
    let precision = if dup + other == 0 {
        0.0
    } else {
        100.0 * dup as f64 / (dup + other) as f64
    };
    println!(
        "{name:<52} recall {dup:>3}/{dups} = {:>5.1}%   flags {other:>6} kept-distinct requests   precision {precision:>5.2}%",
        100.0 * dup as f64 / dups as f64
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if !args.csv.exists() {
        bail!(
            "{} is absent: this benchmark needs ../shared/data (the real Kansas City file)",
            args.csv.display()
        );
    }
    let store = civic311_bench::fresh_store("sqlite", &args.db).await?;
    let started = Instant::now();
    let report = civic311_import::kansas_city::import_file(&store, &args.csv)
        .await
        .context("importing the Kansas City file")?;
    println!(
        "imported {} requests ({} rejected) in {:.1}s",
        report.imported,
        report.rejected.len(),
        started.elapsed().as_secs_f64()
    );
    let mut all = store
        .public_requests(
            &RequestFilter::default(),
            Page {
                limit: u32::MAX,
                offset: 0,
            },
        )
        .await?;
    all.sort_by_key(|r| r.created_at);
    let dups = all.iter().filter(|r| is_dup(r)).count();
    let catalog = store.services().await?;
    println!("{} requests, {dups} marked DUP by the city", all.len());

    // The suggester, asked for its best suggestion at any score, so one pass gives every
    // threshold.
    let rules = DuplicateRules {
        min_score: 0.0,
        max_suggestions: 1,
        ..DuplicateRules::default()
    };
    let started = Instant::now();
    let mut best = Vec::with_capacity(all.len());
    for r in &all {
        let found = store.suggest_duplicates(r, &catalog, &rules).await?;
        best.push(found.first().map_or(0.0, |(s, _)| s.score));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "suggester: {} requests in {seconds:.1}s = {:.0} suggestions/s (each a store query), peak RSS {:.0} MiB",
        all.len(),
        all.len() as f64 / seconds,
        civic311_bench::peak_rss_mib()
    );
    for threshold in [0.5, 0.6, 0.8, 1.0] {
        let name = format!("suggester, score >= {threshold}");
        line(&name, dups, tally(&all, |i| best[i] >= threshold));
    }

    // The baseline: same type, within R metres and D days before, of any status but DUP.
    let mut by_type: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in all.iter().enumerate() {
        by_type.entry(r.service_code.as_str()).or_default().push(i);
    }
    for spec in &args.baseline {
        let (radius, days) = spec
            .split_once(',')
            .and_then(|(r, d)| Some((r.parse::<f64>().ok()?, d.parse::<i64>().ok()?)))
            .with_context(|| format!("--baseline {spec:?}: expected METRES,DAYS"))?;
        let window = chrono::Duration::days(days);
        let mut flagged = vec![false; all.len()];
        for same in by_type.values() {
            for (k, &i) in same.iter().enumerate() {
                let new = &all[i];
                flagged[i] = same[..k]
                    .iter()
                    .rev()
                    .map(|&j| &all[j])
                    .take_while(|e| new.created_at - e.created_at <= window)
                    .any(|e| {
                        e.created_at < new.created_at
                            && !is_dup(e)
                            && metres(new, e).is_some_and(|d| d <= radius)
                    });
            }
        }
        let name = format!("baseline: same type, {radius} m, {days} days");
        line(&name, dups, tally(&all, |i| flagged[i]));
    }
    store.close().await;
    Ok(())
}
