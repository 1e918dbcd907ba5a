//! Request inserts per second, each request with its events, on SQLite or PostgreSQL.
//!
//! Rows come from a Kansas City-format CSV (the real sample, or `resample.py` output); they are
//! parsed before the clock starts, so only storage is timed. Two modes:
//! - `one`: one transaction per request (request + areas + events), as the API files them;
//! - `batch`: 1,000 requests per transaction, as imports do.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use civic311_import::ImportReport;
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Kansas City-format CSV
    #[arg(long)]
    csv: PathBuf,
    /// sqlite or postgres
    #[arg(long, default_value = "sqlite")]
    target: String,
    /// SQLite file, or PostgreSQL URL
    #[arg(long, default_value = "bench-out/insert.db")]
    db: String,
    /// one (transaction per request) or batch (1,000 per transaction)
    #[arg(long, default_value = "batch")]
    mode: String,
    /// Stop after this many rows
    #[arg(long)]
    limit: Option<usize>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let file = std::io::BufReader::new(std::fs::File::open(&args.csv)?);
    let shown = args.csv.display().to_string();
    let mut reader = civic311_import::kansas_city::rows(file, &shown)?;
    let mut report = ImportReport::default();
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row(&mut report) {
        rows.push(row);
        if args.limit.is_some_and(|l| rows.len() >= l) {
            break;
        }
    }
    // A file that stopped being readable is an error, not a shorter benchmark.
    reader.finish(&shown)?;
    let store = civic311_bench::fresh_store(&args.target, &args.db).await?;
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        if let Some(d) = &row.department
            && seen.insert(format!("d:{}", d.code))
        {
            store.upsert_department(d).await?;
        }
        if seen.insert(format!("s:{}", row.service.code)) {
            store.upsert_service(&row.service).await?;
        }
    }
    let pairs: Vec<_> = rows.into_iter().map(|r| (r.request, r.events)).collect();
    let events: usize = pairs.iter().map(|(_, e)| e.len()).sum();
    let started = Instant::now();
    match args.mode.as_str() {
        "one" => {
            for pair in pairs.chunks(1) {
                store.insert_requests(pair).await?;
            }
        }
        _ => {
            for chunk in pairs.chunks(1000) {
                store.insert_requests(chunk).await?;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let size = store.database_size_bytes().await?;
    let n = pairs.len();
    println!(
        "target={} mode={} requests={n} events={events} seconds={secs:.2} requests_per_s={:.0} \
         db_bytes={size} bytes_per_request={:.0} gib_per_million={:.2} rejected={} peak_rss_mib={:.0}",
        args.target,
        args.mode,
        n as f64 / secs,
        size as f64 / n as f64,
        size as f64 / n as f64 * 1e6 / f64::from(1u32 << 30),
        report.rejected.len(),
        civic311_bench::peak_rss_mib(),
    );
    store.close().await;
    Ok(())
}
