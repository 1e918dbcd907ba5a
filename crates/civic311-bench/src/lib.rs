//! Shared pieces of the benchmarks: fresh databases and peak memory.

use anyhow::{Context, Result};
use civic311_store::{DatabaseUrl, Store};
use sqlx::Connection;

/// A fresh, migrated store: a new SQLite file at `path`, or a new schema `schema` (dropped
/// first) in the PostgreSQL database at `pg_url`.
pub async fn fresh_store(target: &str, path_or_url: &str) -> Result<Store> {
    let url = match target {
        "sqlite" => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path_or_url}{suffix}"));
            }
            format!("sqlite:{path_or_url}")
        }
        _ => {
            let schema = "civic311_bench";
            let mut admin = sqlx::PgConnection::connect(path_or_url)
                .await
                .with_context(|| format!("PostgreSQL at {path_or_url}"))?;
            for sql in [
                format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                format!("CREATE SCHEMA {schema}"),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await?;
            }
            let sep = if path_or_url.contains('?') { '&' } else { '?' };
            format!("{path_or_url}{sep}options=-c%20search_path%3D{schema}")
        }
    };
    Ok(Store::open(&DatabaseUrl::parse(&url)?).await?)
}

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
