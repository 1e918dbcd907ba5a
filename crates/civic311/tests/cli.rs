//! The binary as a user runs it: exit codes and messages for bad input, migrate, and the demo.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn civic311(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_civic311"));
    cmd.current_dir(dir);
    for var in [
        "CIVIC311_DATABASE_URL",
        "CIVIC311_LISTEN",
        "CIVIC311_LOG",
        "CIVIC311_TIMEZONE",
        "CIVIC311_PUBLIC_URL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `civic311 import csv --mapping MAPPING SAMPLE` through `cli`, which must succeed.
fn import_csv(
    cli: &impl Fn(&[&str]) -> (bool, String, String),
    mapping: &std::path::Path,
    sample: &std::path::Path,
) {
    let (ok, out, err) = cli(&[
        "import",
        "csv",
        "--mapping",
        mapping.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    assert!(ok, "{out}{err}");
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.success(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

#[test]
fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(civic311(dir.path()).arg("--help"));
    assert!(ok);
    for cmd in ["serve", "migrate", "demo"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(cmd)),
            "{cmd} in\n{out}"
        );
    }
    let (ok, out, _) = run(civic311(dir.path()).args(["help", "demo"]));
    assert!(
        ok && out.contains("--listen") && out.contains("Kansas City"),
        "{out}"
    );
}

#[test]
fn unknown_config_key_is_named_and_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("civic311.toml"),
        "databse_url = \"sqlite:x.db\"\n",
    )
    .unwrap();
    let (ok, _, err) = run(civic311(dir.path()).arg("migrate"));
    assert!(!ok);
    assert!(err.contains("databse_url"), "{err}");
    assert!(!dir.path().join("x.db").exists());
}

#[test]
fn bad_values_name_their_key() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(civic311(dir.path())
        .arg("migrate")
        .env("CIVIC311_LISTEN", "port 80"));
    assert!(
        !ok && err.contains("`listen`") && err.contains("port 80"),
        "{err}"
    );
    let (ok, _, err) = run(civic311(dir.path())
        .arg("migrate")
        .env("CIVIC311_DATABASE_URL", "mysql://root:pw@db/x"));
    assert!(
        !ok && err.contains("`database_url`") && !err.contains(":pw@"),
        "{err}"
    );
    let (ok, _, err) = run(civic311(dir.path()).args(["--config", "missing.toml", "migrate"]));
    assert!(!ok && err.contains("missing.toml does not exist"), "{err}");
    let (ok, _, err) = run(civic311(dir.path())
        .arg("migrate")
        .env("CIVIC311_TIMEZONE", "Kansas City"));
    assert!(
        !ok && err.contains("`timezone`") && err.contains("Kansas City"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("civic311.toml"),
        "[open311]\nrequire_api_keys = false\n",
    )
    .unwrap();
    let (ok, _, err) = run(civic311(dir.path()).arg("migrate"));
    assert!(!ok && err.contains("require_api_keys"), "{err}");
}

#[test]
fn api_keys_are_issued_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let (ok, key, err) = run(civic311(dir.path())
        .args(["apikey", "create", "fixmystreet"])
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(ok, "{err}");
    let key = key.trim();
    assert_eq!(key.len(), 64, "{key}");
    assert!(err.contains("shown only this once"), "{err}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let owner = |key: &str| {
        rt.block_on(async {
            let store =
                civic311_store::Store::open(&civic311_store::DatabaseUrl::parse(&url).unwrap())
                    .await
                    .unwrap();
            let owner = store.api_key_owner(key).await.unwrap();
            store.close().await;
            owner
        })
    };
    assert_eq!(owner(key).as_deref(), Some("fixmystreet"));
    let (ok, out, _) = run(civic311(dir.path())
        .args(["apikey", "revoke", "fixmystreet"])
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(ok && out.contains("revoked 1 key(s)"), "{out}");
    assert_eq!(owner(key), None);
    let (ok, _, err) = run(civic311(dir.path())
        .args(["apikey", "revoke", "fixmystreet"])
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(
        !ok && err.contains("no active API key is issued to \"fixmystreet\""),
        "{err}"
    );
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(civic311(dir.path()).arg("migrate").env(
        "CIVIC311_DATABASE_URL",
        "postgres://postgres:pw@127.0.0.1:1/civic311",
    ));
    assert!(!ok);
    assert!(
        err.contains("cannot reach the database at postgres://postgres:***@127.0.0.1:1"),
        "{err}"
    );
}

#[test]
fn migrate_reports_the_version_and_refuses_a_newer_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let (ok, out, err) = run(civic311(dir.path())
        .arg("migrate")
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(ok, "{err}");
    // Every migration the store ships, the newest last.
    let mut versions: Vec<String> = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../civic311-store/migrations/sqlite"),
    )
    .unwrap()
    .map(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .split('_')
            .next()
            .unwrap()
            .to_owned()
    })
    .collect();
    versions.sort();
    let expected = format!(
        "applied {} migration(s); schema version {}",
        versions.len(),
        versions.last().unwrap()
    );
    assert!(out.contains(&expected), "{out}");
    let (ok, out, _) = run(civic311(dir.path())
        .arg("migrate")
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(ok && out.contains("applied 0 migration(s)"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'future', 1, X'00', 0)",
        )
        .execute(&mut c)
        .await
        .unwrap();
    });
    let (ok, _, err) = run(civic311(dir.path())
        .arg("serve")
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(!ok);
    assert!(err.contains("newer than this civic311 knows"), "{err}");
}

#[test]
fn demo_loads_the_real_sample_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = civic311(dir.path())
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut printed = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        printed.push(line.clone());
        if line.starts_with("Press Ctrl-C") || started.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let text = printed.join("\n");
    assert!(
        text.contains("5013 rows read, 5013 imported, 0 updated, 0 unchanged, 0 rejected"),
        "{text}"
    );
    assert!(
        text.contains("loaded 240 Kansas City neighborhoods"),
        "{text}"
    );
    let base = printed
        .iter()
        .find_map(|l| l.split("on http://").nth(1))
        .map(|a| format!("http://{}", a.trim_end_matches('/')))
        .expect("the demo prints its URL");
    for path in [
        "/",
        "/api/v1/requests",
        "/api/v1/services",
        "/api/v1/stats",
        "/health",
    ] {
        assert!(text.contains(&format!("{base}{path}")), "{path} printed");
    }
    let key = printed
        .iter()
        .find_map(|l| l.split("(jurisdiction kcmo.gov): ").nth(1))
        .expect("the demo prints an API key")
        .to_owned();
    let urls: Vec<String> = printed
        .iter()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("http://")
                .map(|u| format!("http://{u}"))
        })
        .collect();
    assert!(urls.len() >= 9, "{urls:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stats, posted, refused) = rt.block_on(async {
        for url in &urls {
            let resp = reqwest::get(url).await.unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{url}");
        }
        let stats: serde_json::Value = reqwest::get(format!("{base}/api/v1/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let client = reqwest::Client::new();
        let post = |key: String| {
            client
                .post(format!("{base}/open311/v2/requests.json"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "api_key={key}&jurisdiction_id=kcmo.gov&service_code=streets-roadways-alleys-pothole-district-2\
                     &lat=39.1&long=-94.58&description=demo"
                ))
                .send()
        };
        let posted = post(key.clone()).await.unwrap();
        let posted = (posted.status().as_u16(), posted.text().await.unwrap());
        let refused = post("wrong".into()).await.unwrap().status().as_u16();
        (stats, posted, refused)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(stats["requests"], 5013);
    assert_eq!(posted.0, 200, "{}", posted.1);
    assert!(
        posted.1.contains("\"service_request_id\":\"1\""),
        "{}",
        posted.1
    );
    assert_eq!(refused, 403);
    assert!(dir.path().join("civic311-demo.db").exists());
}

#[test]
fn routing_tables_are_checked_imported_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = civic311_store::Store::open(&civic311_store::DatabaseUrl::parse(&url).unwrap())
            .await
            .unwrap();
        let pw = civic311_domain::DepartmentCode::parse("public-works").unwrap();
        store
            .upsert_department(&civic311_domain::Department {
                code: pw.clone(),
                name: "Public Works".into(),
                email: None,
                phone: None,
            })
            .await
            .unwrap();
        store
            .upsert_service(&civic311_domain::Service {
                code: civic311_domain::ServiceCode::parse("pothole").unwrap(),
                name: "Pothole".into(),
                description: None,
                group: Some("Streets".into()),
                keywords: vec![],
                department: Some(pw),
                attributes: vec![],
                sla: None,
                sla_by_priority: Default::default(),
                category: None,
                active: true,
            })
            .await
            .unwrap();
        store.close().await;
    });
    let good = r#"
[fallback]
queue = "311-triage"

[[rule]]
name = "streets after hours"
groups = ["Streets"]
hours = { from = "17:00:00", to = "07:00:00", timezone = "America/Chicago" }
department = "public-works"
queue = "on-call"
"#;
    let import = |text: &str| {
        let file = dir.path().join("routing.toml");
        std::fs::write(&file, text).unwrap();
        run(civic311(dir.path())
            .args(["routing", "import"])
            .arg(&file)
            .env("CIVIC311_DATABASE_URL", &url))
    };
    for (text, mentions) in [
        (
            good.replace("groups = [\"Streets\"]", "services = [\"potholes\"]"),
            "rule \"streets after hours\": unknown service potholes",
        ),
        (
            good.replace(
                "groups = [\"Streets\"]",
                "area = { layer = \"wards\", area = \"4\" }",
            ),
            "no area layer wards is loaded",
        ),
        (
            good.replace("department = \"public-works\"", "department = \"parks\""),
            "unknown department parks",
        ),
        (good.replace("hours", "when"), "unknown field `when`"),
    ] {
        let (ok, _, err) = import(&text);
        assert!(!ok && err.contains(mentions), "{mentions}: {err}");
    }
    let (ok, out, err) = import(good);
    assert!(ok, "{err}");
    assert!(out.contains("routing table version 1: 1 rule(s)"), "{out}");
    let (ok, out, err) = run(civic311(dir.path())
        .args(["routing", "export"])
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(
        ok && out.starts_with("# civic311 routing table, version 1"),
        "{out}{err}"
    );
    let exported: civic311_domain::RoutingTable = toml::from_str(&out).unwrap();
    assert_eq!(exported, toml::from_str(good).unwrap());
}

#[test]
fn calendars_are_checked_and_saved_and_the_sweep_runs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let file = dir.path().join("calendar.toml");
    let set = |text: &str, department: Option<&str>| {
        std::fs::write(&file, text).unwrap();
        let mut cmd = civic311(dir.path());
        cmd.arg("calendar").env("CIVIC311_DATABASE_URL", &url);
        if let Some(d) = department {
            cmd.args(["--department", d]);
        }
        run(cmd.arg(&file))
    };
    let good = "timezone = \"America/Chicago\"\nopen = \"08:00\"\nclose = \"17:00\"\n\
                days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nholidays = [\"2024-05-27\"]\n";
    for (text, mentions) in [
        (good.replace("\"fri\"", "\"fry\""), "`days`: \"fry\""),
        (good.replace("17:00", "5pm"), "`close`: \"5pm\""),
        (
            good.replace("2024-05-27", "27/05/2024"),
            "`holidays`: \"27/05/2024\"",
        ),
        (good.replace("America/Chicago", "Kansas City"), "`timezone`"),
        (
            good.replace("17:00", "07:00"),
            "opens at 08:00:00 but closes at 07:00:00",
        ),
    ] {
        let (ok, _, err) = set(&text, None);
        assert!(!ok && err.contains(mentions), "{mentions}: {err}");
    }
    let (ok, _, err) = set(good, Some("parks"));
    assert!(!ok && err.contains("unknown department parks"), "{err}");
    let (ok, out, err) = set(good, None);
    assert!(
        ok && out.contains("the city's calendar saved"),
        "{out}{err}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let saved = rt.block_on(async {
        let store = civic311_store::Store::open(&civic311_store::DatabaseUrl::parse(&url).unwrap())
            .await
            .unwrap();
        let c = store.calendar(None).await.unwrap();
        store.close().await;
        c
    });
    let memorial_day = chrono::NaiveDate::from_ymd_opt(2024, 5, 27).unwrap();
    assert!(saved.unwrap().is_holiday(memorial_day));
    let (ok, out, err) = run(civic311(dir.path())
        .arg("sla-sweep")
        .env("CIVIC311_DATABASE_URL", &url));
    assert!(ok && out.contains("checked 0 open requests"), "{out}{err}");
}

#[test]
fn field_systems_are_checked_and_the_outbox_is_managed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let config = dir.path().join("civic311.toml");
    let good = "[[field_systems]]\nname = \"streets\"\nendpoint = \"http://127.0.0.1:9/wo\"\n\
                secret = \"0123456789abcdef0123\"\n";
    for (text, mentions) in [
        (
            good.replace("streets", "streets dept"),
            "`field_systems[0].name`",
        ),
        (
            good.replace("http://", "ftp://"),
            "`field_systems[0].endpoint`",
        ),
        (
            good.replace("0123456789abcdef0123", "short"),
            "at least 16 characters",
        ),
        (
            good.replace("secret = ", "secret_env = \"CIVIC311_TEST_NO_SUCH_VAR\"\n#"),
            "CIVIC311_TEST_NO_SUCH_VAR is not set",
        ),
        (format!("{good}{good}"), "configured twice"),
        (good.replace("endpoint", "url"), "url"),
        (
            format!("{good}[notifications]\nsmtp_url = \"smtp://127.0.0.1:25\"\n"),
            "give both `smtp_url` and `from`",
        ),
        (
            format!("{good}[notifications]\nsmtp_url = \"mailto:x\"\nfrom = \"311@city.gov\"\n"),
            "not an SMTP URL",
        ),
        (
            format!("{good}[notifications]\nsms_gateway = \"http://127.0.0.1:9/sms\"\n"),
            "`notifications.sms_secret`",
        ),
        (
            format!("{good}[reports]\nmonthly_to = [\"mayor@city.gov\"]\n"),
            "e-mailing reports needs `[notifications]`",
        ),
        (
            format!("{good}[reports]\nmonthly_day = 31\n"),
            "`reports.monthly_day`: 31 is not a day from 1 to 28",
        ),
        (
            format!(
                "{good}[[reports.cityscore.targets]]\nmetric = \"median_days_to_close\"\ntarget = 0\n"
            ),
            "the target of Median days to close must be a number above 0",
        ),
        (
            format!("{good}[[reports.cityscore.targets]]\nmetric = \"happiness\"\ntarget = 1\n"),
            "happiness",
        ),
    ] {
        std::fs::write(&config, &text).unwrap();
        let (ok, _, err) = run(civic311(dir.path())
            .args(["outbox", "deliver"])
            .env("CIVIC311_DATABASE_URL", &url));
        assert!(!ok && err.contains(mentions), "{mentions}: {err}");
    }
    std::fs::write(&config, good).unwrap();
    let cli = |args: &[&str]| {
        run(civic311(dir.path())
            .args(args)
            .env("CIVIC311_DATABASE_URL", &url))
    };
    let (ok, out, err) = cli(&["outbox", "deliver"]);
    assert!(ok && out.contains("delivered 0"), "{out}{err}");
    let (ok, _, err) = cli(&["outbox", "dead-letters"]);
    assert!(ok && err.contains("0 dead letter(s)"), "{err}");
    let (ok, _, err) = cli(&["outbox", "retry", "wo_0000"]);
    assert!(!ok && err.contains("\"wo_0000\""), "{err}");
    let (ok, _, err) = cli(&["workorders", "reconcile", "parks"]);
    assert!(!ok && err.contains("\"parks\""), "{err}");
    let (ok, _, err) = cli(&["workorders", "reconcile", "streets"]);
    assert!(ok && err.contains("every work order agrees"), "{err}");
}

#[test]
fn the_catalog_is_imported_and_exported_as_toml_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let cli = |args: &[&str]| {
        run(civic311(dir.path())
            .arg("catalog")
            .args(args)
            .env("CIVIC311_DATABASE_URL", &url))
    };
    let toml_file = dir.path().join("catalog.toml");
    std::fs::write(
        &toml_file,
        "[[departments]]\ncode = \"public-works\"\nname = \"Public Works\"\n\n\
         [[services]]\ncode = \"pothole\"\nname = \"Streets - Pothole\"\ndepartment = \"public-works\"\n\
         sla = { amount = 7, unit = \"calendar_days\" }\n\
         sla_by_priority = { urgent = { amount = 8, unit = \"business_hours\" } }\n\n\
         [[services.attributes]]\ncode = \"SIZE\"\nvariable = true\ndatatype = \"string\"\n\
         required = false\norder = 1\ndescription = \"How large?\"\nvalues = []\n",
    )
    .unwrap();
    let (ok, out, err) = cli(&["import", toml_file.to_str().unwrap(), "--by", "director"]);
    assert!(ok && out.contains("catalog version 1"), "{out}{err}");
    // The sheet changes the SLA; the service keeps its question, which the sheet does not carry.
    let csv_file = dir.path().join("catalog.csv");
    let (ok, sheet, err) = cli(&["export", "--format", "csv"]);
    assert!(ok, "{err}");
    assert!(sheet.contains("pothole,Streets - Pothole"), "{sheet}");
    std::fs::write(
        &csv_file,
        sheet.replace("7 calendar_days", "5 business_days"),
    )
    .unwrap();
    let (ok, out, err) = cli(&["import", csv_file.to_str().unwrap(), "--dry-run"]);
    assert!(ok && out.contains("1 SLA target(s) changed"), "{out}{err}");
    let (ok, out, err) = cli(&["import", csv_file.to_str().unwrap()]);
    assert!(ok && out.contains("catalog version 2"), "{out}{err}");
    let (ok, toml_now, _) = cli(&["export"]);
    assert!(
        ok && toml_now.contains("business_days") && toml_now.contains("SIZE"),
        "{toml_now}"
    );
    let (ok, old, _) = cli(&["export", "--version", "1"]);
    assert!(ok && old.contains("calendar_days"), "{old}");
    let (ok, out, _) = cli(&["versions"]);
    assert!(
        ok && out.lines().count() == 2 && out.contains("director"),
        "{out}"
    );
    // Bad cells are all named with their line, and nothing is saved.
    std::fs::write(
        &csv_file,
        "service_code,service_name,sla,active\npothole,x,7 weeks,maybe\n",
    )
    .unwrap();
    let (ok, _, err) = cli(&["import", csv_file.to_str().unwrap()]);
    assert!(
        !ok && err.contains("line 2, column sla") && err.contains("line 2, column active"),
        "{err}"
    );
    std::fs::write(
        &toml_file,
        "[[services]]\ncode = \"graffiti\"\nname = \"Graffiti\"\ndepartment = \"parks\"\n",
    )
    .unwrap();
    let (ok, _, err) = cli(&["import", toml_file.to_str().unwrap()]);
    assert!(!ok && err.contains("unknown department parks"), "{err}");
    let (ok, out, _) = cli(&["versions"]);
    assert!(ok && out.lines().count() == 2, "{out}");
}

#[test]
fn csv_exports_import_through_a_mapping_with_a_row_report() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = root.join("testdata/new-york/nyc311_2018-01_53col_sample.csv");
    let rows = csv::Reader::from_path(&data).unwrap().records().count();
    let report = dir.path().join("rows.csv");
    let import = |mapping: &str| {
        run(civic311(dir.path())
            .args(["import", "csv", "--mapping"])
            .arg(root.join("mappings").join(mapping))
            .arg(&data)
            .arg("--report")
            .arg(&report)
            .env("CIVIC311_DATABASE_URL", &url))
    };
    let (ok, out, err) = import("nyc-2010s.toml");
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("{rows} rows read, {rows} imported")),
        "{out}"
    );
    // A first import is a bulk load: after its rows, the wait for its indexes is announced.
    let indexing = "a first import builds its indexes";
    assert!(err.contains(indexing), "{err}");
    // Rows closed before they were created are kept, flagged, in the row report.
    let flagged = std::fs::read_to_string(&report).unwrap();
    assert!(
        flagged
            .lines()
            .any(|l| l.starts_with("flagged,") && l.contains("before it was created")),
        "{flagged}"
    );
    let (ok, out, err) = import("nyc-2010s.toml");
    assert!(
        ok && out.contains(&format!("0 imported, 0 updated, {rows} unchanged")),
        "{out}"
    );
    assert!(!err.contains(indexing), "{err}");
    // The current-layout mapping reads a column this older file does not have.
    let (ok, _, err) = import("nyc-current.toml");
    assert!(!ok && err.contains("Open Data Channel Type"), "{err}");
}

#[test]
fn area_layers_load_and_imports_are_placed_by_point_in_polygon() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = |args: &[&str]| {
        run(civic311(dir.path())
            .args(args)
            .env("CIVIC311_DATABASE_URL", &url))
    };
    let hoods = root.join("testdata/kansas-city/neighborhoods.geojson");
    let hoods = hoods.to_str().unwrap();
    let (ok, _, err) = cli(&[
        "import",
        "areas",
        hoods,
        "--layer",
        "kc-neighborhoods",
        "--id-property",
        "nope",
    ]);
    assert!(!ok && err.contains("\"nope\""), "{err}");
    let (ok, out, err) = cli(&[
        "import",
        "areas",
        hoods,
        "--layer",
        "kc-neighborhoods",
        "--name",
        "Neighborhoods",
        "--id-property",
        "nbhid",
        "--name-property",
        "nbhname",
        "--skip",
        "0",
    ]);
    assert!(
        ok && out.contains("240 areas loaded, 6 features"),
        "{out}{err}"
    );
    // The Kansas City mapping without its area columns: every neighborhood comes from the point.
    let mapping = std::fs::read_to_string(root.join("mappings/kansas-city.toml")).unwrap();
    let cut = mapping.split("[[areas]]").next().unwrap().to_owned();
    let mapping_file = dir.path().join("kc-points-only.toml");
    std::fs::write(&mapping_file, cut).unwrap();
    let sample = root.join("testdata/kansas-city/kc311_sample.csv");
    import_csv(&cli, &mapping_file, &sample);
    // Compare with the neighborhood the redistributor joined to each row (nbh_id, 0 = none).
    let mut rdr = csv::Reader::from_path(&sample).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let expected: Vec<(String, String)> = rdr
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r[col("nbh_id")] != *"0" && !r[col("LATITUDE")].is_empty())
        .map(|r| (r[col("CASE ID")].to_owned(), r[col("nbh_id")].to_owned()))
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let placed: std::collections::HashMap<String, String> = rt.block_on(async {
        let store = civic311_store::Store::open(&civic311_store::DatabaseUrl::parse(&url).unwrap())
            .await
            .unwrap();
        let mut placed = std::collections::HashMap::new();
        for (id, _) in &expected {
            let r = store
                .request(&civic311_domain::ServiceRequestId::parse(id.as_str()).unwrap())
                .await
                .unwrap()
                .unwrap();
            if let Some(a) = r.location.area_in("kc-neighborhoods") {
                placed.insert(id.clone(), a.to_string());
            }
        }
        store.close().await;
        placed
    });
    let agree = expected
        .iter()
        .filter(|(id, nbh)| placed.get(id) == Some(nbh))
        .count();
    // The redistributor's join and point-in-polygon agree on 99.5% of the full file.
    assert!(
        agree * 100 >= expected.len() * 98,
        "{agree} of {} placed in the neighborhood the source names",
        expected.len()
    );

    // A layer loaded after the requests places the stored ones: the same polygons under another
    // id place exactly the requests the import placed.
    let (ok, out, err) = cli(&[
        "import",
        "areas",
        hoods,
        "--layer",
        "kc-neighborhoods-again",
        "--id-property",
        "nbhid",
        "--skip",
        "0",
    ]);
    let in_layer: usize = rt.block_on(async {
        let store = civic311_store::Store::open(&civic311_store::DatabaseUrl::parse(&url).unwrap())
            .await
            .unwrap();
        let layer = civic311_domain::LayerId::parse("kc-neighborhoods").unwrap();
        let counts = store.area_counts(&layer).await.unwrap();
        store.close().await;
        counts.iter().map(|(_, _, n)| *n as usize).sum()
    });
    assert!(in_layer > 4_000, "{in_layer}");
    assert!(
        ok && out.contains(&format!(
            "{in_layer} stored requests placed in kc-neighborhoods-again"
        )),
        "{out}{err}"
    );
}

#[test]
fn exports_in_three_formats_and_duckdb_reads_the_parquet_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("city.db").display());
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cli = |args: &[&str]| {
        run(civic311(dir.path())
            .args(args)
            .env("CIVIC311_DATABASE_URL", &url)
            .env("CIVIC311_TIMEZONE", "America/Chicago"))
    };
    let mapping = root.join("mappings/kansas-city.toml");
    let sample = root.join("testdata/kansas-city/kc311_sample.csv");
    import_csv(&cli, &mapping, &sample);
    // Bad flags: a clear message, a non-zero exit, no file.
    for (args, says) in [
        (&["--format", "xlsx"][..], "--format \"xlsx\""),
        (&["--format", "csv", "--area", "42"][..], "LAYER:AREA"),
        (&["--format", "csv", "--from", "last week"][..], "--from"),
    ] {
        let mut all = vec!["export", "--city", "kansas-city", "--output", "bad.out"];
        all.extend_from_slice(args);
        let (ok, _, err) = cli(&all);
        assert!(!ok && err.contains(says), "{args:?}: {err}");
        assert!(!dir.path().join("bad.out").exists());
    }
    let export = |format: &str, file: &str, extra: &[&str]| {
        let mut args = vec![
            "export",
            "--city",
            "kansas-city",
            "--format",
            format,
            "--output",
            file,
        ];
        args.extend_from_slice(extra);
        let (ok, out, err) = cli(&args);
        assert!(ok, "{out}{err}");
        out
    };
    let out = export("csv", "kc.csv", &[]);
    assert!(out.contains("5013 requests exported"), "{out}");
    export("parquet", "kc.parquet", &[]);
    let out = export(
        "geojson",
        "october.geojson",
        &["--from", "2019-10-01", "--to", "2019-11-01"],
    );
    // October 2019 in Kansas City, counted from the source file by its local creation date.
    let mut rdr = csv::Reader::from_path(&sample).unwrap();
    let header = rdr.headers().unwrap().clone();
    let date = header.iter().position(|h| h == "CREATION DATE").unwrap();
    let october = rdr
        .records()
        .filter(|r| {
            let r = r.as_ref().unwrap();
            r[date].starts_with("10/") && r[date].ends_with("/2019")
        })
        .count();
    assert!(
        out.contains(&format!("{october} requests exported")),
        "{out}"
    );
    let geojson: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("october.geojson")).unwrap())
            .unwrap();
    assert_eq!(geojson["features"].as_array().unwrap().len(), october);

    // What the CSV says, computed here...
    let mut rdr = csv::Reader::from_path(dir.path().join("kc.csv")).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut by_category = std::collections::BTreeMap::<String, i64>::new();
    let (mut closed, mut seconds) = (0i64, 0f64);
    for r in rdr.records() {
        let r = r.unwrap();
        *by_category
            .entry(r[col("category")].to_owned())
            .or_default() += 1;
        if !r[col("closed_at")].is_empty() {
            let at = |c: &str| chrono::DateTime::parse_from_rfc3339(&r[col(c)]).unwrap();
            closed += 1;
            seconds += (at("closed_at") - at("created_at")).num_seconds() as f64;
        }
    }
    // ...and what DuckDB reads from the Parquet file.
    let Some(python) = civic311_testkit::clients_python() else {
        return;
    };
    let query = r#"
import duckdb, json, sys
con = duckdb.connect()
f = sys.argv[1]
cats = dict(con.execute(f"SELECT category, count(*) FROM '{f}' GROUP BY 1").fetchall())
closed, secs = con.execute(
    f"SELECT count(*), sum(epoch(closed_at) - epoch(created_at)) FROM '{f}' WHERE closed_at IS NOT NULL"
).fetchone()
types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '{f}')").fetchall())
version = con.execute(
    f"SELECT decode(value) FROM parquet_kv_metadata('{f}') WHERE decode(key) = 'civic311.exchange_version'"
).fetchone()[0]
print(json.dumps({"categories": cats, "closed": closed, "seconds": secs, "types": types, "version": version}))
"#;
    let output = Command::new(&python)
        .arg("-c")
        .arg(query)
        .arg(dir.path().join("kc.parquet"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let duck: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(duck["categories"], serde_json::json!(by_category));
    assert_eq!(duck["closed"], closed);
    let duck_seconds = duck["seconds"].as_f64().unwrap();
    assert!(
        (duck_seconds - seconds).abs() < 1.0,
        "{duck_seconds} vs {seconds}"
    );
    assert_eq!(duck["types"]["created_at"], "TIMESTAMP WITH TIME ZONE");
    assert_eq!(duck["types"]["latitude"], "DOUBLE");
    assert_eq!(duck["types"]["area:kc-neighborhoods"], "VARCHAR");
    assert_eq!(duck["version"], "1");

    // Parquet imports back: ours, and one DuckDB wrote from our CSV with the types it guessed
    // (ids, ZIP codes and area ids as BIGINT, times as TIMESTAMP WITH TIME ZONE). Each goes into
    // an empty store whose CSV export is then the very CSV above.
    let (ok, _, err) = run(Command::new(python).arg("-c").arg(
        "import duckdb, sys; duckdb.sql(f\"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)\")",
    ).arg(dir.path().join("kc.csv")).arg(dir.path().join("duck.parquet")));
    assert!(ok, "{err}");
    let original = std::fs::read_to_string(dir.path().join("kc.csv")).unwrap();
    for file in ["kc.parquet", "duck.parquet"] {
        let peer = format!("sqlite:{}", dir.path().join(format!("{file}.db")).display());
        let peer_cli = |args: &[&str]| {
            run(civic311(dir.path())
                .args(args)
                .env("CIVIC311_DATABASE_URL", &peer)
                .env("CIVIC311_TIMEZONE", "America/Chicago"))
        };
        let (ok, out, err) = peer_cli(&["import", "exchange", file]);
        assert!(
            ok && out.contains("5013 imported, 0 updated, 0 unchanged, 0 rejected"),
            "{file}: {out}{err}"
        );
        let back = format!("{file}.csv");
        let (ok, out, err) = peer_cli(&[
            "export",
            "--city",
            "kansas-city",
            "--format",
            "csv",
            "--output",
            &back,
        ]);
        assert!(ok, "{out}{err}");
        let again = std::fs::read_to_string(dir.path().join(&back)).unwrap();
        let diff = original.lines().zip(again.lines()).find(|(a, b)| a != b);
        assert!(
            original == again,
            "{file}: the round trip changed a row: {diff:?}"
        );
    }
}
