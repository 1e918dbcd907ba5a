//! The command line: one subcommand per job, each explained by `civic311 help <command>`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use civic311_import::csv_import::Progress;
use civic311_store::Store;
use civic311_web::AppState;
use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(name = "civic311", version, about = "civic311: an open-source 311 platform", long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./civic311.toml if it exists. Environment variables
    /// CIVIC311_DATABASE_URL, CIVIC311_LISTEN, CIVIC311_LOG, CIVIC311_TIMEZONE and
    /// CIVIC311_PUBLIC_URL override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (web UI, JSON API) on the configured database, applying pending
    /// migrations first.
    Serve {
        /// Address to listen on [default: from config, else 127.0.0.1:8080]
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Bring the configured database's schema up to date and report its version. Refuses a
    /// database whose schema is newer than this binary, touching nothing.
    Migrate,
    /// Create a fresh SQLite database, load the real Kansas City sample shipped with civic311
    /// (5,013 requests and 240 neighborhoods) and serve it, printing the URLs.
    Demo {
        /// Address to listen on
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Where to create the demo database (replaced if it exists)
        #[arg(long, value_name = "PATH", default_value = "civic311-demo.db")]
        database: PathBuf,
    },
    /// Bring data from elsewhere into the configured database.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Issue or revoke the API keys Open311 clients need to file requests.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
    /// Manage the service catalog (departments, services, SLA targets per priority) as TOML or
    /// CSV; each saved change is a numbered version (docs/CATALOG.md).
    Catalog {
        #[command(subcommand)]
        action: CatalogAction,
    },
    /// Manage the routing table: which department and queue new requests go to, by service,
    /// area and time of day, with a fallback queue (format: docs/ROUTING.md).
    Routing {
        #[command(subcommand)]
        action: RoutingAction,
    },
    /// Set a department's business calendar (working days and hours, time zone, holidays), by
    /// which due dates in business days and hours are counted.
    Calendar {
        /// The department [default: the city's calendar, for departments without their own]
        #[arg(long, value_name = "CODE")]
        department: Option<String>,
        /// TOML: timezone, open, close, days, holidays (see docs/SLA.md)
        file: PathBuf,
    },
    /// Run the SLA escalation sweep once now (servers run it every minute).
    SlaSweep,
    /// Bookable services (bulky-item pickup): set a service's schedule of days and places per
    /// zone, and see the days open to booking.
    Appointments {
        #[command(subcommand)]
        action: AppointmentAction,
    },
    /// The outbox of work orders and notifications: deliver it now, list and retry dead letters
    /// (docs/WORK_ORDERS.md, docs/NOTIFICATIONS.md).
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Work orders in field systems: find where a field system's state disagrees with ours.
    Workorders {
        #[command(subcommand)]
        action: WorkorderAction,
    },
    /// Export requests in the exchange format (docs/EXCHANGE.md) as CSV, GeoJSON or Parquet,
    /// without personal data: requesters are never exported, e-mail addresses and phone numbers
    /// are taken out of descriptions, house numbers too with --scrub-street-numbers.
    Export(ExportArgs),
    /// Volume, time to close, backlog and SLA attainment of the requests selected, as JSON
    /// (definitions in docs/METRICS.md).
    Metrics(MetricsArgs),
    /// The budget table departments keep: per service, the labor minutes a request takes, the
    /// hourly rate of that labor and the unit cost of materials (docs/METRICS.md, "Cost per
    /// request"); the monthly report prices the work done with it.
    Budget {
        #[command(subcommand)]
        action: BudgetAction,
    },
    /// Reports to the mayor, the manager and the council (docs/METRICS.md, "Monthly report").
    Report {
        #[command(subcommand)]
        report: ReportKind,
    },
}

#[derive(Debug, Subcommand)]
pub enum BudgetAction {
    /// Save a CSV sheet (service_code, labor_minutes, hourly_rate, unit_cost) as the budget
    /// version taking effect on --from, replacing that version whole. Every bad cell is listed
    /// and nothing is saved.
    Import {
        file: PathBuf,
        /// The first day of its fiscal year (YYYY-MM-DD); without it, the version in force
        /// since always (until a dated one)
        #[arg(long)]
        from: Option<String>,
        /// Who saved it (kept with every row)
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Print the version in force on a day (default: today) as that CSV sheet.
    Export {
        /// YYYY-MM-DD
        #[arg(long)]
        on: Option<String>,
    },
    /// List the versions: when each takes effect, how many services, who saved it and when.
    Versions,
}

#[derive(Debug, Subcommand)]
pub enum ReportKind {
    /// A month's requests against the month before and a year before: volume, contacts, time
    /// to close, backlog, SLA, escalations, reassignments, surveys; every service, department and
    /// area; what moved most. Written as HTML, PDF or JSON by the output file's extension.
    Monthly(MonthlyArgs),
    /// The same metrics for several cities side by side on the exchange format's standard
    /// categories (docs/METRICS.md, "Comparing cities"), as HTML, PDF or JSON.
    Compare(CompareArgs),
    /// Process diagnostics from the event log: the paths requests take, where the time goes
    /// between steps, requests that bounced between departments, services with several intake
    /// paths (docs/METRICS.md), as HTML, PDF or JSON.
    Process(ProcessArgs),
    /// Queue the last complete month's report for the `[reports] monthly_to` list if it is due
    /// and they have not had it (servers ask every ten minutes); `civic311 outbox deliver` or a
    /// server then mails it.
    MailDue {
        /// Act as if it were this time
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
}

#[derive(Debug, clap::Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Where to write it: FILE.html, FILE.pdf or FILE.json
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// TOML: one [[city]] per city with name, database_url and timezone
    #[arg(long, value_name = "FILE")]
    pub cities: PathBuf,
    /// First local day (each city's own midnight)
    #[arg(long, value_name = "DATE")]
    pub from: String,
    /// Local day after the last
    #[arg(long, value_name = "DATE")]
    pub to: String,
    /// Where to write it: FILE.html, FILE.pdf or FILE.json
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Judge open requests (overdue) at this time instead of now
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Count requests the cities opened themselves (channel self_generated) in SLA attainment
    #[arg(long)]
    pub include_self_generated: bool,
}

#[derive(Debug, clap::Args)]
pub struct MonthlyArgs {
    /// The month, YYYY-MM [default: the last complete month]
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Where to write it: FILE.html, FILE.pdf or FILE.json
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// Judge open requests (overdue, age) at this time instead of now
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Count requests the city opened itself (channel self_generated) in SLA attainment
    #[arg(long)]
    pub include_self_generated: bool,
}

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    #[command(flatten)]
    pub select: Selection,
    /// Judge open requests (overdue, age) at this time instead of now
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Count requests the city opened itself (channel self_generated) in SLA attainment
    #[arg(long)]
    pub include_self_generated: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(long, value_name = "csv|geojson|parquet")]
    pub format: String,
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// The exporting city's id, written in every row (e.g. kansas-city)
    #[arg(long)]
    pub city: String,
    #[command(flatten)]
    pub select: Selection,
    /// Replace house numbers: addresses become blocks, "938 Main St" in text "[number] Main St"
    #[arg(long)]
    pub scrub_street_numbers: bool,
}

/// Which requests: by creation time, area and service.
#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Requests created at or after this time (2019-10-01 is the city's local midnight)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Requests created before this time (2019-11-01 is the city's local midnight)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only requests in this area, as LAYER:AREA (e.g. kc-neighborhoods:42)
    #[arg(long, value_name = "LAYER:AREA")]
    pub area: Option<String>,
    /// Only these services (repeatable)
    #[arg(long, value_name = "CODE")]
    pub service: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Check FILE (.toml or .csv) and save it as the next catalog version. Departments and
    /// services it names are added or changed; the others stay. Requests already filed keep
    /// their due dates.
    Import {
        file: PathBuf,
        /// Who made the change, kept with the version
        #[arg(long, default_value = "cli")]
        by: String,
        /// Only show what would change
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the catalog in force (or as it stood at --version).
    Export {
        #[arg(long, value_enum, default_value = "toml")]
        format: CatalogFormat,
        #[arg(long)]
        version: Option<i64>,
    },
    /// List the saved versions: number, when, who, what changed.
    Versions,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CatalogFormat {
    Toml,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum AppointmentAction {
    /// Make a service bookable with the schedule in FILE (TOML: service, layer, timezone, days,
    /// capacity, [[zone]], closed, lead_days, horizon_days; see docs/APPOINTMENTS.md).
    Schedule { file: PathBuf },
    /// The days open to booking for SERVICE in ZONE, with places taken and free.
    Slots {
        service: String,
        /// An area id of the schedule's layer [default: the whole city]
        #[arg(long, default_value = "*")]
        zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Hand every due message to where it goes now (servers do it every 10 seconds).
    Deliver,
    /// List the messages that were not delivered (refused, or out of attempts), with the last
    /// error.
    DeadLetters,
    /// Put a dead letter back in the queue, by its key (a work order's id).
    Retry { key: String },
}

#[derive(Debug, Subcommand)]
pub enum WorkorderAction {
    /// Ask SYSTEM for the state of every work order it has, and list the requests whose
    /// external state disagrees with ours. Exits 1 when there is any.
    Reconcile {
        system: String,
        /// Print JSON lines instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoutingAction {
    /// Check FILE (TOML) against the catalog and the loaded area layers, and save it as the new
    /// version of the routing table.
    Import {
        file: PathBuf,
        /// Who made the change, kept with the version
        #[arg(long, default_value = "cli")]
        by: String,
    },
    /// Print the routing table in force as TOML.
    Export,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Load an area layer (neighborhoods, council districts, tracts, ZIP codes) from GeoJSON.
    /// Each feature keeps the source's own id (a tract GEOID, the city's neighborhood number) so
    /// census tables join without guessing. Requests imported or filed later are placed in it.
    Areas {
        file: PathBuf,
        /// The layer's id, e.g. nyc-tracts
        #[arg(long)]
        layer: String,
        /// Its display name [default: the layer id]
        #[arg(long)]
        name: Option<String>,
        /// The feature property holding each area's id, e.g. geoid
        #[arg(long, value_name = "PROPERTY")]
        id_property: String,
        /// The feature property holding each area's name
        #[arg(long, value_name = "PROPERTY")]
        name_property: Option<String>,
        /// Ids that mean "no area" (e.g. Kansas City's unnamed polygons with id 0); repeatable
        #[arg(long, value_name = "ID")]
        skip: Vec<String>,
    },
    /// Import a city's CSV export through a mapping file that says what each column means
    /// (docs/IMPORT_MAPPING.md; shipped: mappings/kansas-city.toml, mappings/nyc-*.toml).
    /// Unusable rows are listed (row, line, column, reason) and the rest kept; importing the same
    /// file again changes nothing, and a newer extract updates what changed, as events.
    Csv {
        /// The mapping (TOML)
        #[arg(long, value_name = "FILE")]
        mapping: PathBuf,
        /// The city's export
        source: PathBuf,
        /// Write every rejected and flagged row here as CSV (row, line, column, reason)
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Import an exchange file, CSV or Parquet (docs/EXCHANGE.md): another city's export, or
    /// our own.
    /// Services unknown here are created with the file's names and standard categories.
    Exchange {
        file: PathBuf,
        /// Write every rejected and flagged row here as CSV (row, line, column, reason)
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
    },
    /// Pull another city's Open311 GeoReport v2 feed: services, then requests in date windows,
    /// with paging; resumes where the last run stopped, and re-reads requests updated since
    /// where the server supports `updated_after`. Ids and codes are stored as SOURCE:id.
    Open311 {
        /// The endpoint, e.g. https://311api.cityofchicago.org/open311/v2
        #[arg(long, value_name = "URL")]
        base: String,
        #[arg(long, value_name = "ID")]
        jurisdiction: Option<String>,
        /// Start at this date (W3C, e.g. 2024-01-01) instead of where the last run stopped
        /// [first run: 90 days ago]
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Stop at this date [default: now]
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Short name for this source [default: the endpoint's host name]
        #[arg(long)]
        source: Option<String>,
        /// The city's time zone, for dates the server writes without one
        #[arg(long, value_name = "TZ", default_value = "UTC")]
        timezone: String,
        /// Least milliseconds between two calls to the server
        #[arg(long, value_name = "MS", default_value_t = 1000)]
        interval_ms: u64,
        /// Days per date window (split further when the server caps its answers)
        #[arg(long, value_name = "DAYS", default_value_t = 7)]
        window_days: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyAction {
    /// Issue a key to NAME (an app, a partner, a city system) and print it; only its hash is
    /// stored, so it cannot be shown again.
    Create {
        name: String,
        /// A staff key: the staff API (`Authorization: Bearer KEY`) and personal data
        #[arg(long)]
        staff: bool,
    },
    /// Revoke every key issued to NAME.
    Revoke { name: String },
}

pub async fn run(cli: Cli) -> Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    config.init_logging();
    match cli.command {
        Command::Serve { listen } => {
            let mailing = config.reports.mailing(config.open311.timezone);
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            let state = AppState::new(store, config.open311)
                .with_field_systems(config.outbound.field_systems.clone())
                .with_reports(&config.reports.title, config.reports.cityscore.clone());
            serve(
                state,
                config.outbound,
                mailing,
                listen.unwrap_or(config.listen),
                &[],
            )
            .await
        }
        Command::Migrate => {
            let store = Store::connect(&config.database_url).await?;
            let applied = store.migrate().await?;
            let status = store.schema_status().await?;
            println!(
                "{}: applied {applied} migration(s); schema version {}",
                config.database_url, status.database
            );
            store.close().await;
            Ok(())
        }
        Command::Demo { listen, database } => crate::demo::run(listen, &database).await,
        Command::Import { source } => {
            with_store(&config.database_url, async |store| {
                import(store, source).await
            })
            .await
        }
        Command::Apikey { action } => {
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            let now = chrono::Utc::now();
            match action {
                ApikeyAction::Create { name, staff } => {
                    let name = name.trim();
                    if name.is_empty() {
                        anyhow::bail!("the key's NAME must not be empty");
                    }
                    let role = if staff {
                        civic311_store::KeyRole::Staff
                    } else {
                        civic311_store::KeyRole::Client
                    };
                    let key = store.issue_api_key_with_role(name, role, now).await?;
                    println!("{key}");
                    eprintln!("API key issued to {name:?}; it is shown only this once.");
                }
                ApikeyAction::Revoke { name } => {
                    let n = store.revoke_api_keys(&name, now).await?;
                    if n == 0 {
                        anyhow::bail!("no active API key is issued to {name:?}");
                    }
                    println!("revoked {n} key(s) issued to {name:?}");
                }
            }
            store.close().await;
            Ok(())
        }
        Command::Calendar { department, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let calendar = crate::calendar::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let department = department
                .map(|d| civic311_domain::DepartmentCode::parse(d.as_str()))
                .transpose()?;
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            if let Some(d) = &department
                && !store.departments().await?.iter().any(|k| &k.code == d)
            {
                store.close().await;
                anyhow::bail!("unknown department {d}");
            }
            store.set_calendar(department.as_ref(), &calendar).await?;
            store.close().await;
            match department {
                Some(d) => println!("calendar of {d} saved"),
                None => println!("the city's calendar saved"),
            }
            Ok(())
        }
        Command::SlaSweep => {
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            let worker = format!("cli-{}", std::process::id());
            let policy = civic311_domain::sla::EscalationPolicy::default();
            let report = store.sweep_sla(&worker, &policy, chrono::Utc::now()).await;
            store.close().await;
            match report? {
                Some(r) => println!(
                    "checked {} open requests with a due date; escalated {} ({} events)",
                    r.checked, r.escalated, r.events
                ),
                None => println!("another server is running the sweep; nothing done"),
            }
            Ok(())
        }
        Command::Catalog { action } => {
            with_store(&config.database_url, async |store| {
                catalog(store, action).await
            })
            .await
        }
        Command::Appointments { action } => {
            with_store(&config.database_url, async |store| {
                appointments(store, action).await
            })
            .await
        }
        Command::Outbox { action } => {
            with_store(&config.database_url, async |store| {
                crate::workorders::outbox(store, &config.outbound, action).await
            })
            .await
        }
        Command::Export(args) => {
            let tz = config.open311.timezone;
            with_store(&config.database_url, async |store| {
                export(store, tz, args).await
            })
            .await
        }
        Command::Metrics(args) => {
            let tz = config.open311.timezone;
            with_store(&config.database_url, async |store| {
                metrics(store, tz, args).await
            })
            .await
        }
        Command::Report {
            report: ReportKind::Monthly(args),
        } => {
            let tz = config.open311.timezone;
            let reports = config.reports.clone();
            with_store(&config.database_url, async |store| {
                monthly_report(store, tz, &reports, args).await
            })
            .await
        }
        Command::Budget { action } => {
            let tz = config.open311.timezone;
            with_store(&config.database_url, async |store| {
                budget(store, action, tz).await
            })
            .await
        }
        Command::Report {
            report: ReportKind::Compare(args),
        } => compare_cities(args).await,
        Command::Report {
            report: ReportKind::Process(args),
        } => {
            let format = output_format(&args.output)?;
            let filter = selection(args.select, config.open311.timezone)?;
            let title = config.reports.title.clone();
            with_store(&config.database_url, async |store| {
                let report = civic311_analytics::process::process(store, &filter).await?;
                let bytes = civic311_report::render_process(&report, &title, format)
                    .map_err(anyhow::Error::msg)?;
                std::fs::write(&args.output, bytes)
                    .with_context(|| format!("cannot write {}", args.output.display()))?;
                eprintln!(
                    "process of {} requests written to {}",
                    report.requests,
                    args.output.display()
                );
                Ok(())
            })
            .await
        }
        Command::Report {
            report: ReportKind::MailDue { now },
        } => {
            let tz = config.open311.timezone;
            let mailing = config.reports.mailing(tz).ok_or_else(|| {
                anyhow::anyhow!("no one to mail reports to: set [reports] monthly_to")
            })?;
            let now = judged_at(now, tz)?;
            with_store(&config.database_url, async |store| {
                use civic311_report::mailing::Due;
                match civic311_report::mailing::queue_monthly(store, &mailing, now)
                    .await
                    .map_err(anyhow::Error::msg)?
                {
                    Due::NotYet { month, at } => {
                        println!("the report for {month} is due at {}", at.to_rfc3339());
                    }
                    Due::Queued {
                        month,
                        queued,
                        before,
                    } => println!(
                        "report for {month}: queued for {queued} recipients ({before} had it already)"
                    ),
                }
                Ok(())
            })
            .await
        }
        Command::Workorders { action } => {
            with_store(&config.database_url, async |store| {
                crate::workorders::run(store, &config.outbound, action).await
            })
            .await
        }
        Command::Routing { action } => {
            with_store(&config.database_url, async |store| {
                routing(store, action).await
            })
            .await
        }
    }
}

async fn catalog(store: &Store, action: CatalogAction) -> Result<()> {
    match action {
        CatalogAction::Import { file, by, dry_run } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let current = store.catalog().await?;
            let is_csv = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let doc: civic311_domain::CatalogDocument = if is_csv {
                civic311_import::catalog_csv::read(text.as_bytes(), &current)
                    .map_err(|errors| refused(&file, &errors))?
            } else {
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
            };
            let known: Vec<_> = current.departments.iter().map(|d| d.code.clone()).collect();
            doc.check(&known)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if dry_run {
                let changes = doc.changes(&current);
                println!("would change: {}", changes.summary());
                println!("{}", serde_json::to_string_pretty(&changes)?);
                return Ok(());
            }
            let (version, changes) = store.save_catalog(&doc, &by, chrono::Utc::now()).await?;
            match version {
                Some(v) => println!("catalog version {v}: {}", changes.summary()),
                None => println!("nothing changed; no new version"),
            }
        }
        CatalogAction::Export { format, version } => {
            let doc = match version {
                None => store.catalog().await?,
                Some(v) => store
                    .catalog_version(v)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("there is no catalog version {v}"))?,
            };
            match format {
                CatalogFormat::Toml => print!("{}", toml::to_string(&doc)?),
                CatalogFormat::Csv => {
                    civic311_import::catalog_csv::write(&doc, std::io::stdout().lock())?
                }
            }
        }
        CatalogAction::Versions => {
            for v in store.catalog_versions().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    v.version,
                    v.saved_at.to_rfc3339(),
                    v.saved_by,
                    v.summary
                );
            }
        }
    }
    Ok(())
}

async fn appointments(store: &Store, action: AppointmentAction) -> Result<()> {
    match action {
        AppointmentAction::Schedule { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let schedule: civic311_domain::AppointmentSchedule =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            schedule
                .check()
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            if let Some(layer) = &schedule.layer
                && !store
                    .area_layers()
                    .await?
                    .iter()
                    .any(|l| l == layer.as_str())
            {
                anyhow::bail!("{}: no area layer {layer} is loaded", file.display());
            }
            store.set_appointment_schedule(&schedule).await?;
            println!(
                "{} is bookable: {} place(s) per zone on {}",
                schedule.service,
                schedule.capacity,
                schedule.days.join(", ")
            );
        }
        AppointmentAction::Slots { service, zone } => {
            let code = civic311_domain::ServiceCode::parse(service.as_str())?;
            let schedule = store
                .appointment_schedule(&code)
                .await?
                .ok_or_else(|| anyhow::anyhow!("{code} is not a bookable service"))?;
            for s in store
                .appointment_slots(&schedule, &zone, chrono::Utc::now())
                .await?
            {
                println!(
                    "{}\t{} booked\t{} free",
                    s.day,
                    s.booked,
                    s.capacity.saturating_sub(s.booked)
                );
            }
        }
    }
    Ok(())
}

async fn routing(store: &Store, action: RoutingAction) -> Result<()> {
    match action {
        RoutingAction::Import { file, by } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let table: civic311_domain::RoutingTable =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            // Every code the table names must exist: a typo would silently never match.
            let services = store.services().await?;
            let departments = store.departments().await?;
            let layers = store.area_layers().await?;
            let known_department =
                |d: &civic311_domain::DepartmentCode| departments.iter().any(|k| &k.code == d);
            for rule in &table.rules {
                let at = |what: String| {
                    anyhow::anyhow!("{}: rule {:?}: {what}", file.display(), rule.name)
                };
                if let Some(code) = rule
                    .services
                    .iter()
                    .find(|c| !services.iter().any(|s| &s.code == *c))
                {
                    return Err(at(format!("unknown service {code}")));
                }
                if let Some(g) = rule
                    .groups
                    .iter()
                    .find(|g| !services.iter().any(|s| s.group.as_ref() == Some(g)))
                {
                    return Err(at(format!("no service is in group {g:?}")));
                }
                if !known_department(&rule.department) {
                    return Err(at(format!("unknown department {}", rule.department)));
                }
                if let Some(area) = &rule.area
                    && !layers.iter().any(|l| l == area.layer.as_str())
                {
                    return Err(at(format!("no area layer {} is loaded", area.layer)));
                }
            }
            if let Some(d) = &table.fallback.department
                && !known_department(d)
            {
                anyhow::bail!("{}: fallback: unknown department {d}", file.display());
            }
            let version = store.save_routing(&table, &by, chrono::Utc::now()).await?;
            println!(
                "routing table version {version}: {} rule(s), fallback queue {:?}",
                table.rules.len(),
                table.fallback.queue
            );
        }
        RoutingAction::Export => {
            let (version, table) = store.routing().await?;
            println!("# civic311 routing table, version {version}");
            print!("{}", toml::to_string(&table)?);
        }
    }
    Ok(())
}

/// Binds, prints where to look, and serves until Ctrl-C.
pub async fn serve(
    state: AppState,
    outbound: civic311_web::outbound::Outbound,
    mailing: Option<civic311_report::mailing::Mailing>,
    listen: SocketAddr,
    extra_paths: &[String],
) -> Result<()> {
    let store = state.store.clone();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    crate::jobs::spawn_sla_sweeps(store.clone());
    crate::jobs::spawn_deliveries(store.clone(), outbound);
    if let Some(mailing) = mailing {
        crate::jobs::spawn_monthly_reports(store.clone(), mailing);
    }
    println!("civic311 is serving {} on http://{addr}/", store.url());
    for path in [
        "/",
        "/api/v1/requests",
        "/api/v1/services",
        "/api/v1/stats",
        "/health",
        "/open311/v2/discovery.json",
        "/open311/v2/services.json",
    ]
    .iter()
    .copied()
    .chain(extra_paths.iter().map(String::as_str))
    {
        println!("  http://{addr}{path}");
    }
    println!("Press Ctrl-C to stop.");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    civic311_web::serve(listener, state, shutdown).await?;
    store.close().await;
    Ok(())
}

async fn import(store: &Store, source: ImportSource) -> Result<()> {
    match source {
        ImportSource::Areas {
            file,
            layer,
            name,
            id_property,
            name_property,
            skip,
        } => {
            let layer_id = civic311_domain::LayerId::parse(layer.as_str())
                .map_err(|e| anyhow::anyhow!("--layer: {e}"))?;
            let skip: Vec<&str> = skip.iter().map(String::as_str).collect();
            let (areas, skipped) = civic311_import::areas::read_geojson_file(
                &file,
                &id_property,
                name_property.as_deref(),
                &skip,
            )?;
            if areas.is_empty() {
                anyhow::bail!(
                    "{}: no feature has a usable {id_property:?} property; nothing loaded",
                    file.display()
                );
            }
            store
                .upsert_areas(&layer_id, name.as_deref().unwrap_or(&layer), &areas)
                .await?;
            println!(
                "layer {layer}: {} areas loaded, {skipped} features without a usable id left out",
                areas.len()
            );
            // Requests stored before the layer came are placed in it now.
            let index = store.area_index().await?;
            let placed = store.place_stored_requests(&layer_id, &index).await?;
            println!("{placed} stored requests placed in {layer} by their coordinates");
            Ok(())
        }
        ImportSource::Csv {
            mapping,
            source,
            report: report_file,
        } => {
            let text = std::fs::read_to_string(&mapping)
                .with_context(|| format!("cannot read {}", mapping.display()))?;
            let m = civic311_import::mapping::Mapping::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", mapping.display()))?;
            let file = std::fs::File::open(&source)
                .with_context(|| format!("cannot read {}", source.display()))?;
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let shown = source.display().to_string();
            let started = std::time::Instant::now();
            let progress = |step: Progress| match step {
                Progress::Read { rows, bytes } => {
                    let secs = started.elapsed().as_secs_f64().max(0.001);
                    let rate = rows as f64 / secs;
                    let eta = if bytes > 0 && size > bytes {
                        secs * (size - bytes) as f64 / bytes as f64
                    } else {
                        0.0
                    };
                    eprint!(
                        "\r{rows} rows, {rate:.0} rows/s, {:.0}% , ETA {eta:.0} s   ",
                        100.0 * bytes as f64 / size.max(1) as f64
                    );
                }
                // The ETA above counted rows only: say what the wait after 100% is.
                Progress::Indexing => eprint!(
                    "\nevery row read in {:.0} s; a first import builds its indexes and counts \
                     its roll-ups at the end, which can take as long again...",
                    started.elapsed().as_secs_f64()
                ),
            };
            let report = civic311_import::csv_import::import_reader(
                store,
                std::io::BufReader::new(file),
                &shown,
                m,
                progress,
            )
            .await
            .with_context(|| format!("import of {shown} stopped"))?;
            eprintln!();
            summarize(&shown, &report, started, report_file.as_deref())
        }
        ImportSource::Exchange {
            file,
            report: report_file,
        } => {
            let started = std::time::Instant::now();
            let report = civic311_import::exchange::import_file(store, &file)
                .await
                .with_context(|| format!("import of {} stopped", file.display()))?;
            summarize(
                &file.display().to_string(),
                &report,
                started,
                report_file.as_deref(),
            )
        }
        ImportSource::Open311 {
            base,
            jurisdiction,
            since,
            until,
            source,
            timezone,
            interval_ms,
            window_days,
        } => {
            let tz: chrono_tz::Tz = timezone
                .parse()
                .map_err(|_| anyhow::anyhow!("--timezone {timezone:?} is not an IANA time zone"))?;
            let date =
                |flag: &str, v: Option<String>| -> Result<Option<chrono::DateTime<chrono::Utc>>> {
                    v.map(|v| {
                        civic311_domain::time::parse_w3c(&v, tz).ok_or_else(|| {
                            anyhow::anyhow!("{flag} {v:?} is not a date (e.g. 2024-01-31)")
                        })
                    })
                    .transpose()
                };
            let source = match source {
                Some(s) => s,
                None => host_of(&base)?,
            };
            if window_days == 0 {
                anyhow::bail!("--window-days must be at least 1");
            }
            let mut pull = civic311_import::open311::Pull::new(&base, &source);
            pull.jurisdiction = jurisdiction;
            pull.since = date("--since", since)?;
            pull.until = date("--until", until)?;
            pull.timezone = tz;
            pull.min_interval = std::time::Duration::from_millis(interval_ms);
            pull.window = chrono::Duration::days(i64::from(window_days));
            let report = civic311_import::open311::pull(store, &pull, |line| eprintln!("{line}"))
                .await
                .with_context(|| {
                    format!("Open311 import from {base} stopped; run it again to resume")
                })?;
            println!("{source}: {report}");
            for r in report.import.rejected.iter().take(20) {
                println!("  rejected record {}: {:?} {}", r.row, r.column, r.reason);
            }
            for (from, to) in &report.possibly_truncated {
                println!(
                    "  warning: {from} .. {to} may be incomplete (the server caps its answers)"
                );
            }
            Ok(())
        }
    }
}

/// The host of a URL, as a source name: `https://311.city.gov/open311/v2` gives `311.city.gov`.
/// Opens the configured database, runs `f` on it and closes it, whatever `f` returns.
async fn with_store<T>(
    url: &civic311_store::DatabaseUrl,
    f: impl AsyncFnOnce(&Store) -> Result<T>,
) -> Result<T> {
    let store = Store::open(url).await.context("cannot open the database")?;
    let result = f(&store).await;
    store.close().await;
    result
}

/// Prints an import's summary and first rejects; writes every reject and flag to `report_file`.
fn summarize(
    shown: &str,
    report: &civic311_import::ImportReport,
    started: std::time::Instant,
    report_file: Option<&std::path::Path>,
) -> Result<()> {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{shown}: {report} in {secs:.1} s ({:.0} rows/s)",
        report.rows_read as f64 / secs.max(0.001)
    );
    for r in report.rejected.iter().take(20) {
        println!(
            "  rejected row {} (line {}) {}: {}",
            r.row,
            r.line,
            r.column.as_deref().unwrap_or("-"),
            r.reason
        );
    }
    if let Some(path) = report_file {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        w.write_record(["kind", "row", "line", "column", "reason"])?;
        let kinds = [
            ("rejected", &report.rejected),
            ("flagged", &report.warnings),
        ];
        for (kind, list) in kinds {
            for r in list {
                w.write_record([
                    kind,
                    &r.row.to_string(),
                    &r.line.to_string(),
                    r.column.as_deref().unwrap_or(""),
                    &r.reason,
                ])?;
            }
        }
        w.flush()?;
        println!("row report written to {}", path.display());
    }
    Ok(())
}

/// The requests `select` names, read in the city's time zone.
fn selection(select: Selection, timezone: chrono_tz::Tz) -> Result<civic311_store::RequestFilter> {
    let Selection {
        from,
        to,
        area,
        service: services,
    } = select;
    let time = |flag: &str, value: Option<String>| {
        value
            .map(|v| {
                civic311_domain::time::parse_w3c(&v, timezone).ok_or_else(|| {
                    anyhow::anyhow!("--{flag} {v:?}: write a date (2019-10-01) or a W3C time")
                })
            })
            .transpose()
    };
    let area = area
        .map(|a| civic311_domain::AreaRef::parse(&a).map_err(|e| anyhow::anyhow!("--area: {e}")))
        .transpose()?;
    let service_codes = services
        .iter()
        .map(|c| {
            civic311_domain::ServiceCode::parse(c.as_str())
                .map_err(|e| anyhow::anyhow!("--service: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(civic311_store::RequestFilter {
        service_codes,
        created_from: time("from", from)?,
        created_before: time("to", to)?,
        area,
        ..Default::default()
    })
}

/// `--now`, or now.
fn judged_at(
    now: Option<String>,
    timezone: chrono_tz::Tz,
) -> Result<chrono::DateTime<chrono::Utc>> {
    match now {
        Some(v) => civic311_domain::time::parse_w3c(&v, timezone)
            .ok_or_else(|| anyhow::anyhow!("--now {v:?}: write a date (2019-10-01) or a W3C time")),
        None => Ok(chrono::Utc::now()),
    }
}

/// `civic311 report monthly`: the report, written where --output says in the format its
/// extension names.
async fn monthly_report(
    store: &Store,
    timezone: chrono_tz::Tz,
    reports: &crate::config::Reports,
    args: MonthlyArgs,
) -> Result<()> {
    let format = output_format(&args.output)?;
    let now = judged_at(args.now, timezone)?;
    let month = match args.month {
        Some(m) => m
            .parse::<civic311_analytics::Month>()
            .map_err(|e| anyhow::anyhow!("--month: {e}"))?,
        None => civic311_analytics::Month::last_complete(now, timezone),
    };
    let options = civic311_analytics::MonthlyOptions {
        month,
        now,
        timezone,
        include_self_generated: args.include_self_generated,
        score_card: reports.cityscore.clone(),
    };
    let started = std::time::Instant::now();
    let report = civic311_analytics::monthly_report(store, &options).await?;
    let bytes =
        civic311_report::render(&report, &reports.title, format).map_err(anyhow::Error::msg)?;
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "report for {month} ({} requests) written to {} in {:.2} s",
        report.this_month.summary.volume.requests,
        args.output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A sheet refused: every cell that cannot be used, by line and column.
fn refused(
    file: &std::path::Path,
    errors: &[civic311_import::catalog_csv::CellError],
) -> anyhow::Error {
    let lines: Vec<String> = errors.iter().map(|e| format!("  {e}")).collect();
    anyhow::anyhow!(
        "{}: {} cell(s) cannot be used; nothing was saved:\n{}",
        file.display(),
        errors.len(),
        lines.join("\n")
    )
}

/// A `YYYY-MM-DD` date of the budget commands, or an error naming `key`.
fn budget_day(key: &str, value: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{key} {value:?}: write a date, e.g. 2019-07-01"))
}

/// `civic311 budget import | export | versions`.
async fn budget(store: &Store, action: BudgetAction, tz: chrono_tz::Tz) -> Result<()> {
    match action {
        BudgetAction::Import { file, from, by } => {
            let effective_from = match from {
                Some(day) => budget_day("--from", &day)?,
                None => civic311_store::BUDGET_SINCE_ALWAYS,
            };
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let services: std::collections::HashSet<String> = store
                .services()
                .await?
                .into_iter()
                .map(|s| s.code.to_string())
                .collect();
            let costs = civic311_import::costs_csv::read(text.as_slice(), &services)
                .map_err(|errors| refused(&file, &errors))?;
            store
                .save_costs(effective_from, &costs, &by, chrono::Utc::now())
                .await?;
            println!(
                "budget saved: {} services, in force from {effective_from}",
                costs.len()
            );
        }
        BudgetAction::Export { on } => {
            let on = match on {
                Some(day) => budget_day("--on", &day)?,
                None => chrono::Utc::now().with_timezone(&tz).date_naive(),
            };
            let costs = store
                .costs(on)
                .await?
                .map(|(_, costs)| costs)
                .unwrap_or_default();
            civic311_import::costs_csv::write(&costs, std::io::stdout().lock())?;
        }
        BudgetAction::Versions => {
            for v in store.budget_versions().await? {
                println!(
                    "in force from {}: {} services, saved {} by {}",
                    v.effective_from,
                    v.services,
                    v.saved_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    v.saved_by
                );
            }
        }
    }
    Ok(())
}

/// The cities file of `civic311 report compare`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CitiesFile {
    city: Vec<CityEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CityEntry {
    name: String,
    database_url: String,
    timezone: String,
}

/// `civic311 report compare`: each city's store opened, read, closed; then the document.
async fn compare_cities(args: CompareArgs) -> Result<()> {
    let format = output_format(&args.output)?;
    let text = std::fs::read_to_string(&args.cities)
        .with_context(|| format!("cannot read {}", args.cities.display()))?;
    let file: CitiesFile =
        toml::from_str(&text).with_context(|| format!("{}", args.cities.display()))?;
    if file.city.len() < 2 {
        anyhow::bail!(
            "{}: name at least two [[city]] entries to compare",
            args.cities.display()
        );
    }
    let day = |flag: &str, v: &str| {
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("--{flag} {v:?}: write a date, e.g. 2018-01-01"))
    };
    let (from, to) = (day("from", &args.from)?, day("to", &args.to)?);
    if from >= to {
        anyhow::bail!("--from {from} is not before --to {to}");
    }
    let mut cities = Vec::with_capacity(file.city.len());
    for (i, c) in file.city.into_iter().enumerate() {
        let key = |k: &str| {
            format!(
                "{}: city {} ({:?}): {k}",
                args.cities.display(),
                i + 1,
                c.name
            )
        };
        let timezone: chrono_tz::Tz = c.timezone.parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: {:?} is not an IANA time zone",
                key("timezone"),
                c.timezone
            )
        })?;
        let url = civic311_store::DatabaseUrl::parse(&c.database_url)
            .with_context(|| key("database_url"))?;
        let store = Store::open(&url)
            .await
            .with_context(|| key("cannot open the database"))?;
        cities.push(civic311_analytics::compare::City {
            name: c.name,
            timezone,
            store,
        });
    }
    let options = civic311_analytics::compare::CompareOptions {
        from,
        to,
        now: judged_at(args.now, chrono_tz::UTC)?,
        include_self_generated: args.include_self_generated,
    };
    let compared = civic311_analytics::compare::compare(&cities, &options).await;
    for city in cities {
        city.store.close().await;
    }
    let bytes =
        civic311_report::render_comparison(&compared?, format).map_err(anyhow::Error::msg)?;
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("comparison written to {}", args.output.display());
    Ok(())
}

/// The format an --output file's extension names.
fn output_format(path: &std::path::Path) -> Result<civic311_report::Format> {
    civic311_report::Format::of_path(path).ok_or_else(|| {
        anyhow::anyhow!(
            "--output {}: name a .html, .pdf or .json file",
            path.display()
        )
    })
}

/// `civic311 metrics`: the summary of the requests selected, as JSON on stdout.
async fn metrics(store: &Store, timezone: chrono_tz::Tz, args: MetricsArgs) -> Result<()> {
    let now = judged_at(args.now, timezone)?;
    let options = civic311_analytics::Options {
        filter: selection(args.select, timezone)?,
        now,
        timezone,
        include_self_generated: args.include_self_generated,
    };
    let summary = civic311_analytics::summarize(store, &options).await?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

/// `civic311 export`: the filter from the flags, then the file.
async fn export(store: &Store, timezone: chrono_tz::Tz, args: ExportArgs) -> Result<()> {
    let ExportArgs {
        format,
        output,
        city,
        select,
        scrub_street_numbers,
    } = args;
    let output = output.as_path();
    use civic311_exchange::{ExportOptions, Format};
    let format = Format::parse(&format)
        .ok_or_else(|| anyhow::anyhow!("--format {format:?}: use csv, geojson or parquet"))?;
    let options = ExportOptions {
        city,
        filter: selection(select, timezone)?,
        scrub: civic311_domain::privacy::Scrub {
            street_numbers: scrub_street_numbers,
        },
        format,
    };
    // Written next to the target and renamed when complete: a failed export leaves no half file.
    let partial = output.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let started = std::time::Instant::now();
    let summary = match civic311_exchange::export(store, &options, file).await {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e.into());
        }
    };
    std::fs::rename(&partial, output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} requests exported in {secs:.1} s ({:.0} rows/s); area columns: {}; {} descriptions or addresses scrubbed",
        output.display(),
        summary.rows,
        summary.rows as f64 / secs.max(0.001),
        if summary.layers.is_empty() {
            "none".to_owned()
        } else {
            summary.layers.join(", ")
        },
        summary.scrubbed
    );
    Ok(())
}

fn host_of(base: &str) -> Result<String> {
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or_else(|| anyhow::anyhow!("--base {base:?} must start with http:// or https://"))?;
    let host = rest.split(['/', ':', '?']).next().unwrap_or("");
    if host.is_empty() {
        anyhow::bail!("--base {base:?} has no host name");
    }
    Ok(host.to_owned())
}
