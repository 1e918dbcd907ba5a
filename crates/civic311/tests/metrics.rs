//! `civic311 metrics` against an independent computation: DuckDB (PyPI) running SQL over the
//! Parquet that `civic311 export` wrote of the same store, on the real Kansas City and New York
//! samples. Counts must be equal; durations within a second (docs/METRICS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary against one SQLite store in `dir`, in `timezone`.
struct City<'a> {
    dir: &'a Path,
    db: String,
    timezone: &'static str,
}

impl City<'_> {
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_civic311"))
            .current_dir(self.dir)
            .args(args)
            .env("CIVIC311_DATABASE_URL", &self.db)
            .env("CIVIC311_TIMEZONE", self.timezone)
            .env_remove("CIVIC311_LOG")
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        );
        assert!(output.status.success(), "{args:?}: {out}{err}");
        out
    }

    fn import(&self, mapping: &str, file: &str) {
        let mapping = root().join("mappings").join(mapping);
        let file = root().join("testdata").join(file);
        self.run(&[
            "import",
            "csv",
            "--mapping",
            mapping.to_str().unwrap(),
            file.to_str().unwrap(),
        ]);
    }
}

/// Walks both documents: the same keys, counts equal, seconds within one, rates within 1e-9.
fn same(path: &str, ours: &Value, duck: &Value) {
    match (ours, duck) {
        (Value::Object(a), Value::Object(b)) => {
            let keys = |m: &serde_json::Map<String, Value>| {
                let mut keys: Vec<_> = m.keys().cloned().collect();
                keys.sort();
                keys
            };
            assert_eq!(keys(a), keys(b), "{path}: different keys");
            for (k, v) in a {
                same(&format!("{path}.{k}"), v, &b[k]);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                same(&format!("{path}[{i}]"), x, y);
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            let tolerance = if path.ends_with("_seconds") {
                1.0
            } else if path.ends_with("attainment") {
                1e-9
            } else {
                0.0
            };
            assert!((a - b).abs() <= tolerance, "{path}: ours {a}, DuckDB {b}");
        }
        _ => assert_eq!(ours, duck, "{path}"),
    }
}

/// Exports the store, then compares `civic311 metrics` with DuckDB for each window (UTC).
fn check(city: &City<'_>, name: &str, now: &str, windows: &[(&str, &str)]) -> Vec<Value> {
    let Some(python) = civic311_testkit::clients_python() else {
        return Vec::new();
    };
    let parquet = city.dir.join(format!("{name}.parquet"));
    city.run(&[
        "export",
        "--city",
        name,
        "--format",
        "parquet",
        "--output",
        parquet.to_str().unwrap(),
    ]);
    let mut summaries = Vec::new();
    for (from, to) in windows {
        for with_self in ["no", "yes"] {
            let mut args = vec!["metrics", "--now", now, "--from", from, "--to", to];
            if with_self == "yes" {
                args.push("--include-self-generated");
            }
            let ours: Value = serde_json::from_str(&city.run(&args)).unwrap();
            let output = Command::new(&python)
                .arg(root().join("tests/python/metrics_duckdb.py"))
                .args([
                    parquet.to_str().unwrap(),
                    city.timezone,
                    now,
                    from,
                    to,
                    with_self,
                ])
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let duck: Value = serde_json::from_slice(&output.stdout).unwrap();
            same(
                &format!("{name} {from}..{to} self={with_self}"),
                &ours,
                &duck,
            );
            summaries.push(ours);
        }
    }
    summaries
}

#[test]
fn kansas_city_metrics_agree_with_duckdb_over_the_exported_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let city = City {
        dir: dir.path(),
        db: format!("sqlite:{}", dir.path().join("kc.db").display()),
        timezone: "America/Chicago",
    };
    city.import("kansas-city.toml", "kansas-city/kc311_sample.csv");
    let all = check(
        &city,
        "kansas-city",
        "2021-06-01T00:00:00Z",
        &[
            ("2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
            // October 2019, local midnights.
            ("2019-10-01T05:00:00Z", "2019-11-01T05:00:00Z"),
        ],
    );
    if let Some(all) = all.first() {
        // Not a comparison of two empty sets: the sample's requests are all there.
        assert_eq!(all["volume"]["requests"], 5013);
        assert!(all["time_to_close"]["closed"].as_u64().unwrap() > 4000);
        let areas = &all["volume"]["by_area"];
        assert_eq!(areas["kc-council-districts"].as_object().unwrap().len(), 5);
        assert!(areas["kc-neighborhoods"].as_object().unwrap().len() >= 10);
        // Kansas City's own work orders (source SYS) are left out of SLA unless asked.
        assert!(all["sla"]["self_generated_left_out"].as_u64().unwrap() > 0);
        assert!(all["backlog"]["open"].as_u64().unwrap() > 0);
    }
}

#[test]
fn new_york_metrics_with_its_own_due_dates_agree_with_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let city = City {
        dir: dir.path(),
        db: format!("sqlite:{}", dir.path().join("nyc.db").display()),
        timezone: "America/New_York",
    };
    for (mapping, file) in [
        ("nyc-2010s.toml", "nyc311_2013-12-25_52col_sample.csv"),
        ("nyc-2010s.toml", "nyc311_2018-01_53col_sample.csv"),
        ("nyc-current.toml", "nyc311_2022-05_41col_sample.csv"),
        ("nyc-current.toml", "nyc311_2023-02-28_46col_sample.csv"),
    ] {
        city.import(mapping, &format!("new-york/{file}"));
    }
    let all = check(
        &city,
        "new-york",
        "2018-02-01T00:00:00Z",
        &[
            ("2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z"),
            ("2018-01-01T05:00:00Z", "2018-02-01T05:00:00Z"),
        ],
    );
    if let Some(all) = all.first() {
        assert_eq!(all["volume"]["requests"], 1155);
        let sla = &all["sla"];
        // NYC's rows carry the agencies' due dates: every verdict occurs.
        for verdict in ["met", "closed_late", "open_overdue", "open_on_time"] {
            assert!(sla[verdict].as_u64().unwrap() > 0, "{verdict}: {sla}");
        }
    }
}
