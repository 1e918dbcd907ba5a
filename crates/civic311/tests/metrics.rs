//! `civic311 metrics` against an independent computation: DuckDB (PyPI) running SQL over the
//! Parquet that `civic311 export` wrote of the same store, on the real Kansas City and New York
//! samples. Counts must be equal; durations within a second (docs/METRICS.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary against one SQLite store in `dir`, in `timezone`.
struct City<'a> {
    dir: &'a Path,
    db: String,
    timezone: &'static str,
}

impl<'a> City<'a> {
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

    /// The real Kansas City sample in `dir/kc.db`.
    fn kansas_city(dir: &'a Path) -> City<'a> {
        let city = City {
            dir,
            db: format!("sqlite:{}", dir.join("kc.db").display()),
            timezone: "America/Chicago",
        };
        city.import("kansas-city.toml", "kansas-city/kc311_sample.csv");
        city
    }

    /// `civic311 export` of the whole store as `dir/NAME.parquet`.
    fn export_parquet(&self, name: &str) -> PathBuf {
        let parquet = self.dir.join(format!("{name}.parquet"));
        self.run(&[
            "export",
            "--city",
            name,
            "--format",
            "parquet",
            "--output",
            parquet.to_str().unwrap(),
        ]);
        parquet
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
            } else if path.ends_with("cost") || path.contains("costs.") {
                // Sums of money, added in another order.
                1e-6
            } else {
                0.0
            };
            assert!((a - b).abs() <= tolerance, "{path}: ours {a}, DuckDB {b}");
        }
        _ => assert_eq!(ours, duck, "{path}"),
    }
}

/// Runs one of tests/python's DuckDB scripts and reads the JSON it prints.
fn duckdb(python: &Path, script: &str, args: &[&str]) -> Value {
    let output = Command::new(python)
        .arg(root().join("tests/python").join(script))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Exports the store, then compares `civic311 metrics` with DuckDB for each window (UTC).
fn check(city: &City<'_>, name: &str, now: &str, windows: &[(&str, &str)]) -> Vec<Value> {
    let Some(python) = civic311_testkit::clients_python() else {
        return Vec::new();
    };
    let parquet = city.export_parquet(name);
    let mut summaries = Vec::new();
    for (from, to) in windows {
        for with_self in ["no", "yes"] {
            let mut args = vec!["metrics", "--now", now, "--from", from, "--to", to];
            if with_self == "yes" {
                args.push("--include-self-generated");
            }
            let ours: Value = serde_json::from_str(&city.run(&args)).unwrap();
            let duck = duckdb(
                &python,
                "metrics_duckdb.py",
                &[
                    parquet.to_str().unwrap(),
                    city.timezone,
                    now,
                    from,
                    to,
                    with_self,
                ],
            );
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
    let city = City::kansas_city(dir.path());
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

/// Compares the fields DuckDB computes of each row (names are the catalog's, not compared).
fn same_rows(path: &str, ours: &Value, duck: &Value) {
    let (ours, duck) = (ours.as_array().unwrap(), duck.as_array().unwrap());
    assert_eq!(ours.len(), duck.len(), "{path}: rows");
    for (i, (a, b)) in ours.iter().zip(duck).enumerate() {
        for field in b.as_object().unwrap().keys() {
            same(&format!("{path}[{i}].{field}"), &a[field], &b[field]);
        }
    }
}

#[test]
fn monthly_report_agrees_with_duckdb_and_with_metrics_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let city = City::kansas_city(dir.path());
    let now = "2021-06-01T00:00:00Z";
    // A budget table for the month's three busiest services.
    let october: Value =
        serde_json::from_str(&city.run(&["metrics", "--from", "2019-10-01", "--to", "2019-11-01"]))
            .unwrap();
    let mut busiest: Vec<(&String, u64)> = october["volume"]["by_service"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k, v.as_u64().unwrap()))
        .collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let budget = dir.path().join("budget.csv");
    std::fs::write(
        &budget,
        format!(
            "service_code,labor_minutes,hourly_rate,unit_cost\n{},45,60,18.5\n{},30,52.25,4\n{},0,0,125\n",
            busiest[0].0, busiest[1].0, busiest[2].0
        ),
    )
    .unwrap();
    // It is Kansas City's fiscal year 2020 budget (from May 1st, 2019); the next year's, at
    // other rates and for one more service, must not price October 2019.
    assert!(
        city.run(&["budget", "import", "budget.csv", "--from", "2019-05-01"])
            .contains("3 services, in force from 2019-05-01")
    );
    let next_year = dir.path().join("budget-fy2021.csv");
    std::fs::write(
        &next_year,
        format!(
            "service_code,labor_minutes,hourly_rate,unit_cost\n{},50,70,20\n{},30,60,5\n{},0,0,130\n{},10,60,0\n",
            busiest[0].0, busiest[1].0, busiest[2].0, busiest[3].0
        ),
    )
    .unwrap();
    city.run(&[
        "budget",
        "import",
        "budget-fy2021.csv",
        "--from",
        "2020-05-01",
        "--by",
        "budget office",
    ]);
    let exported = city.run(&["budget", "export", "--on", "2019-10-15"]);
    assert_eq!(exported.lines().count(), 4, "{exported}");
    let lines = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        lines(&exported),
        lines(&std::fs::read_to_string(&budget).unwrap()),
        "the version in force in October 2019 is the sheet as it was imported"
    );
    assert_eq!(
        city.run(&["budget", "export", "--on", "2020-06-01"])
            .lines()
            .count(),
        5
    );
    assert_eq!(
        city.run(&["budget", "export", "--on", "2019-04-30"])
            .lines()
            .count(),
        1
    );
    let versions = city.run(&["budget", "versions"]);
    assert!(
        versions.contains("in force from 2019-05-01: 3 services")
            && versions.contains("in force from 2020-05-01: 4 services")
            && versions.contains("by budget office"),
        "{versions}"
    );
    let json = dir.path().join("october.json");
    let report = |output: &Path| {
        city.run(&[
            "report",
            "monthly",
            "--month",
            "2019-10",
            "--now",
            now,
            "--output",
            output.to_str().unwrap(),
        ])
    };
    report(&json);
    let ours: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();

    // The three months are the cohorts `civic311 metrics` gives for the same local months.
    for (period, from, to) in [
        ("this_month", "2019-10-01", "2019-11-01"),
        ("previous_month", "2019-09-01", "2019-10-01"),
        ("year_ago", "2018-10-01", "2018-11-01"),
    ] {
        let metrics: Value =
            serde_json::from_str(&city.run(&["metrics", "--now", now, "--from", from, "--to", to]))
                .unwrap();
        same(period, &ours[period]["summary"], &metrics);
    }
    let month = ours["this_month"]["summary"]["volume"]["requests"]
        .as_u64()
        .unwrap();
    assert!(
        month > 20,
        "October 2019 has requests in the sample: {month}"
    );
    // The city score with the default targets: Kansas City's history has no due dates and no
    // surveys, so its score is the median's alone: 3 days over the median, capped at 1.5.
    let median_days = ours["this_month"]["summary"]["time_to_close"]["median_seconds"]
        .as_f64()
        .unwrap()
        / 86_400.0;
    let expected = (3.0 / median_days).min(1.5);
    let score = &ours["cityscore"]["this_month"];
    let metrics: Vec<&str> = score["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        ["sla_attainment", "median_days_to_close", "satisfaction"]
    );
    assert!((score["metrics"][1]["score"].as_f64().unwrap() - expected).abs() < 1e-9);
    assert!((score["score"].as_f64().unwrap() - expected).abs() < 1e-9);
    assert!(score["metrics"][0]["score"].is_null());
    let services = ours["services"].as_array().unwrap();
    let by_service: u64 = services
        .iter()
        .map(|r| r["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(by_service, month);
    // Names come from the catalog the import built.
    assert!(
        services.iter().all(|r| r["name"].is_string()),
        "{services:?}"
    );

    if let Some(python) = civic311_testkit::clients_python() {
        let parquet = city.export_parquet("kansas-city");
        let duck = duckdb(
            &python,
            "report_duckdb.py",
            &[
                parquet.to_str().unwrap(),
                city.timezone,
                now,
                "2019-10",
                "no",
                budget.to_str().unwrap(),
            ],
        );
        same("trend", &ours["trend"], &duck["trend"]);
        let mut costs = ours["costs"].clone();
        let priced_with = costs.as_object_mut().unwrap().remove("budget_from");
        assert_eq!(priced_with, Some(json!("2019-05-01")));
        same("costs", &costs, &duck["costs"]);
        assert!(ours["costs"]["total"].as_f64().unwrap() > 0.0);
        same_rows("services", &ours["services"], &duck["services"]);
        same_rows("departments", &ours["departments"], &duck["departments"]);
        let layers = duck["areas"].as_object().unwrap();
        assert_eq!(layers.len(), 2, "council districts and neighborhoods");
        for (layer, rows) in layers {
            same_rows(layer, &ours["areas"][layer], rows);
        }
        for movers in ["month_over_month", "year_over_year"] {
            same_rows(movers, &ours["movers"][movers], &duck["movers"][movers]);
        }
    }

    // The same report as HTML and as PDF carries the same numbers.
    let html = dir.path().join("october.html");
    report(&html);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("monthly report, 2019-10"), "{html}");
    assert!(html.contains("<svg"), "charts are inline SVG");
    let top = &services[0];
    let median_days = format!(
        "{:.1} d",
        top["median_seconds"].as_f64().unwrap() / 86_400.0
    );
    for needle in [
        format!("{month} service requests"),
        top["name"].as_str().unwrap().to_owned(),
        median_days.clone(),
    ] {
        assert!(html.contains(&needle), "HTML lacks {needle:?}");
    }
    let pdf = dir.path().join("october.pdf");
    report(&pdf);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    if let Some(python) = civic311_testkit::clients_python() {
        // pypdf (PyPI) reads the text back out of the PDF.
        let output = Command::new(&python)
            .args(["-c", "import sys, pypdf; print('\\n'.join(p.extract_text() for p in pypdf.PdfReader(sys.argv[1]).pages))"])
            .arg(&pdf)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        for needle in [
            "monthly report, 2019-10".to_owned(),
            format!("{month} service requests"),
            median_days,
            "page 1 of".to_owned(),
        ] {
            assert!(text.contains(&needle), "PDF lacks {needle:?}: {text}");
        }
    }
}

#[test]
fn a_report_refuses_an_unknown_format_or_month_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("empty.db").display());
    for (args, message) in [
        (
            vec!["--month", "2019-10", "--output", "r.docx"],
            "name a .html, .pdf or .json file",
        ),
        (
            vec!["--month", "2019-13", "--output", "r.html"],
            "\"2019-13\" is not a month",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_civic311"))
            .current_dir(dir.path())
            .args(["report", "monthly"])
            .args(&args)
            .env("CIVIC311_DATABASE_URL", &db)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!dir.path().join(args[3]).exists());
    }
    let one = "[[city]]\nname = \"KC\"\ndatabase_url = \"sqlite:kc.db\"\ntimezone = \"America/Chicago\"\n";
    for (file, message) in [
        (one.to_owned(), "at least two [[city]]"),
        (
            format!("{one}{}", one.replace("America/Chicago", "Mars/Olympus")),
            "city 2 (\"KC\"): timezone: \"Mars/Olympus\" is not an IANA time zone",
        ),
        (format!("{one}{one}colour = 1\n"), "unknown field `colour`"),
    ] {
        std::fs::write(dir.path().join("cities.toml"), file).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_civic311"))
            .current_dir(dir.path())
            .args(["report", "compare", "--cities", "cities.toml"])
            .args([
                "--from",
                "2018-01-01",
                "--to",
                "2018-02-01",
                "--output",
                "c.html",
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(err.contains(message), "{message}: {err}");
        assert!(!dir.path().join("c.html").exists());
    }
}

/// Servers mail the last complete month's report to the distribution list once it is due, once
/// to each recipient however often they ask; here `report mail-due` asks as a server would.
#[tokio::test(flavor = "multi_thread")]
async fn the_monthly_report_is_mailed_once_when_due() {
    let (smtp, mailbox) = civic311_testkit::smtp::sink().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("civic311.toml"),
        format!(
            "[notifications]\nsmtp_url = \"{smtp}\"\nfrom = \"KC 311 <311@kcmo.example>\"\n\
             [reports]\ntitle = \"Kansas City 311\"\nmonthly_day = 2\n\
             monthly_to = [\"mayor@kcmo.example\", \"Council <council@kcmo.example>\"]\n"
        ),
    )
    .unwrap();
    let city = City::kansas_city(dir.path());
    // 2 November 2019, 05:59 in Kansas City: not yet.
    let early = city.run(&["report", "mail-due", "--now", "2019-11-02T10:59:00Z"]);
    assert!(
        early.contains("the report for 2019-10 is due at 2019-11-02T11:00:00+00:00"),
        "{early}"
    );
    let due = city.run(&["report", "mail-due", "--now", "2019-11-02T11:00:00Z"]);
    assert!(
        due.contains("queued for 2 recipients (0 had it already)"),
        "{due}"
    );
    let again = city.run(&["report", "mail-due", "--now", "2019-11-02T11:10:00Z"]);
    assert!(
        again.contains("queued for 0 recipients (2 had it already)"),
        "{again}"
    );
    city.run(&["outbox", "deliver"]);
    let mails = mailbox.lock().unwrap().clone();
    let mut to: Vec<String> = mails.iter().flat_map(|(rcpts, _)| rcpts.clone()).collect();
    to.sort();
    assert_eq!(to, ["council@kcmo.example", "mayor@kcmo.example"]);
    for (_, message) in &mails {
        assert!(
            message.contains("Subject: Kansas City 311: monthly report, 2019-10"),
            "{message}"
        );
        assert!(message.contains("multipart/alternative"), "{message}");
        assert!(message.contains("text/html"), "{message}");
    }
}

/// Kansas City and New York side by side on the exchange format's categories, January 2018 in
/// each city's own local days, against DuckDB over each city's exported Parquet.
#[test]
fn cities_compared_on_standard_categories_agree_with_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let kc = City::kansas_city(dir.path());
    let nyc = City {
        dir: dir.path(),
        db: format!("sqlite:{}", dir.path().join("nyc.db").display()),
        timezone: "America/New_York",
    };
    nyc.import("nyc-2010s.toml", "new-york/nyc311_2018-01_53col_sample.csv");
    std::fs::write(
        dir.path().join("cities.toml"),
        format!(
            "[[city]]\nname = \"Kansas City\"\ndatabase_url = \"{}\"\ntimezone = \"{}\"\n\n\
             [[city]]\nname = \"New York\"\ndatabase_url = \"{}\"\ntimezone = \"{}\"\n",
            kc.db, kc.timezone, nyc.db, nyc.timezone
        ),
    )
    .unwrap();
    let (from, to, now) = ("2018-01-01", "2018-02-01", "2018-02-01T00:00:00Z");
    let compare = |output: &str| {
        kc.run(&[
            "report",
            "compare",
            "--cities",
            "cities.toml",
            "--from",
            from,
            "--to",
            to,
            "--now",
            now,
            "--output",
            output,
        ])
    };
    compare("cmp.json");
    let ours: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("cmp.json")).unwrap()).unwrap();
    let cities = ours["cities"].as_array().unwrap();
    for city in cities {
        assert!(city["all"]["requests"].as_u64().unwrap() > 20, "{city}");
    }
    let shared = ours["categories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| {
            row["cities"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["requests"].as_u64().unwrap() > 0)
        })
        .count();
    assert!(shared >= 3, "categories both cities have: {shared}");

    if let Some(python) = civic311_testkit::clients_python() {
        let mut args = vec![
            from.to_owned(),
            to.to_owned(),
            now.to_owned(),
            "no".to_owned(),
        ];
        for (city, name) in [(&kc, "kansas-city"), (&nyc, "new-york")] {
            let parquet = city.export_parquet(name);
            args.push(parquet.to_str().unwrap().to_owned());
            args.push(city.timezone.to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let duck = duckdb(&python, "compare_duckdb.py", &args);
        for (i, city) in duck["cities"].as_array().unwrap().iter().enumerate() {
            same(&format!("cities[{i}].all"), &cities[i]["all"], &city["all"]);
        }
        let (ours, duck) = (
            ours["categories"].as_array().unwrap(),
            duck["categories"].as_array().unwrap(),
        );
        assert_eq!(ours.len(), duck.len(), "categories");
        for (a, b) in ours.iter().zip(duck) {
            assert_eq!(a["category"], b["category"]);
            same(&format!("{}", b["category"]), &a["cities"], &b["cities"]);
        }
    }
    for output in ["cmp.html", "cmp.pdf"] {
        compare(output);
        assert!(std::fs::metadata(dir.path().join(output)).unwrap().len() > 1000);
    }
    let html = std::fs::read_to_string(dir.path().join("cmp.html")).unwrap();
    assert!(html.contains("Kansas City, New York compared"), "{html}");
}

/// Process diagnostics of imported history: every request of the month has a path, the paths
/// the store's own events give (Kansas City's export records creation, routing and closing).
#[test]
fn process_diagnostics_of_a_month_of_real_requests() {
    let dir = tempfile::tempdir().unwrap();
    let city = City::kansas_city(dir.path());
    let window = ["--from", "2019-10-01", "--to", "2019-11-01"];
    let mut args = vec!["report", "process"];
    args.extend(window);
    args.extend(["--output", "process.json"]);
    city.run(&args);
    let process: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("process.json")).unwrap()).unwrap();
    let mut args = vec!["metrics", "--now", "2021-06-01"];
    args.extend(window);
    let metrics: Value = serde_json::from_str(&city.run(&args)).unwrap();
    assert_eq!(process["requests"], metrics["volume"]["requests"]);
    let services = process["services"].as_array().unwrap();
    let by_service = metrics["volume"]["by_service"].as_object().unwrap();
    assert_eq!(services.len(), by_service.len());
    for s in services {
        assert_eq!(
            s["requests"],
            by_service[s["service_code"].as_str().unwrap()]
        );
        let shown: u64 = s["top_variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["requests"].as_u64().unwrap())
            .sum();
        assert!(shown <= s["requests"].as_u64().unwrap());
        assert!(
            s["top_variants"][0]["path"]
                .as_str()
                .unwrap()
                .starts_with("created")
        );
    }
    let closed = metrics["volume"]["by_status"]["closed"].as_u64().unwrap();
    let ending_closed: u64 = process["top_variants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["path"].as_str().unwrap().ends_with("closed"))
        .map(|v| v["requests"].as_u64().unwrap())
        .sum();
    assert!(
        ending_closed > 0 && ending_closed <= closed,
        "{ending_closed} of {closed}"
    );
    for output in ["process.html", "process.pdf"] {
        let mut args = vec!["report", "process", "--output", output];
        args.extend(window);
        city.run(&args);
        assert!(std::fs::metadata(dir.path().join(output)).unwrap().len() > 1000);
    }
}
