//! Configuration: a TOML file, then environment variables, checked at start-up. A bad value
//! stops the program with the key and the reason.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use chrono_tz::Tz;
use civic311_store::DatabaseUrl;
use civic311_web::open311::Open311Config;
use civic311_web::outbound::{FieldSystem, FieldSystems, Mailer, Outbound};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

const DEFAULT_FILE: &str = "civic311.toml";

/// The file and environment as read, before checking.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    database_url: String,
    listen: String,
    log: String,
    /// The city's IANA time zone, e.g. America/Chicago.
    timezone: String,
    /// The public base URL, when the server sits behind a proxy.
    public_url: Option<String>,
    open311: RawOpen311,
    /// `[[field_systems]]`: where work orders go (docs/WORK_ORDERS.md).
    field_systems: Vec<RawFieldSystem>,
    /// `[notifications]`: how residents and departments are told (docs/NOTIFICATIONS.md).
    notifications: RawNotifications,
    /// `[reports]`: the council's monthly report (docs/METRICS.md).
    reports: Reports,
}

/// The `[reports]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reports {
    /// The name on the reports, e.g. "Kansas City 311".
    pub title: String,
    /// Who receives the monthly report by e-mail (needs `[notifications]` smtp_url and from):
    /// servers send it, as HTML, once the month is over.
    pub monthly_to: Vec<String>,
    /// The day of the next month it is sent on (1 to 28), after 06:00 in the city's time zone:
    /// later days let late closings of the month count.
    pub monthly_day: u32,
    /// The city score: `cap` and `[[reports.cityscore.targets]]` (`metric`, `target`).
    pub cityscore: civic311_analytics::cityscore::ScoreCard,
}

impl Reports {
    /// Where and when the monthly report is mailed; `None` without a distribution list.
    pub fn mailing(&self, timezone: Tz) -> Option<civic311_report::mailing::Mailing> {
        (!self.monthly_to.is_empty()).then(|| civic311_report::mailing::Mailing {
            title: self.title.clone(),
            to: self.monthly_to.clone(),
            day: self.monthly_day,
            timezone,
            score_card: self.cityscore.clone(),
        })
    }
}

impl Default for Reports {
    fn default() -> Self {
        Reports {
            title: "City 311".into(),
            monthly_to: Vec::new(),
            monthly_day: 1,
            cityscore: Default::default(),
        }
    }
}

/// The `[notifications]` table.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawNotifications {
    /// `smtp://HOST:PORT`, `smtp://USER:PASS@HOST:587?tls=required`, `smtps://...`
    smtp_url: Option<String>,
    /// The sender, e.g. `KC 311 <311@kcmo.gov>`.
    from: Option<String>,
    /// A gateway that sends text messages: signed JSON POSTs.
    sms_gateway: Option<String>,
    sms_secret: Option<String>,
    sms_secret_env: Option<String>,
}

/// One `[[field_systems]]` entry.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFieldSystem {
    name: String,
    endpoint: String,
    /// The shared HMAC secret, or the environment variable holding it (`secret_env`).
    secret: Option<String>,
    secret_env: Option<String>,
    #[serde(default)]
    closes_requests: bool,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}

/// The `[open311]` table.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOpen311 {
    jurisdiction_id: Option<String>,
    require_api_key: bool,
    contact: String,
    key_service: String,
    /// Milliseconds a GET reply is served again to clients asking the same URL (0: off).
    cache_ms: u64,
}

impl Default for RawOpen311 {
    fn default() -> Self {
        let d = Open311Config::default();
        Self {
            jurisdiction_id: d.jurisdiction_id,
            require_api_key: d.require_api_key,
            contact: d.contact,
            key_service: d.key_service,
            cache_ms: u64::try_from(d.cache_ttl.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite:civic311.db".into(),
            listen: "127.0.0.1:8080".into(),
            log: "info".into(),
            timezone: "UTC".into(),
            public_url: None,
            open311: RawOpen311::default(),
            field_systems: Vec::new(),
            notifications: RawNotifications::default(),
            reports: Reports::default(),
        }
    }
}

#[derive(Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    pub log: String,
    pub open311: Open311Config,
    /// Field systems, the mailer and the SMS gateway: where the outbox delivers.
    pub outbound: Outbound,
    pub reports: Reports,
}

impl Config {
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(anyhow!(
                    "configuration file {} does not exist",
                    path.display()
                ));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_FILE));
            }
            None => {}
        }
        let env = Env::prefixed("CIVIC311_").only(&[
            "database_url",
            "listen",
            "log",
            "timezone",
            "public_url",
        ]);
        let raw: RawConfig = figment
            .merge(env)
            .extract()
            .map_err(|e| anyhow!("invalid configuration: {e}"))?;
        Config::check(raw)
    }

    fn check(raw: RawConfig) -> Result<Config> {
        let database_url = DatabaseUrl::parse(&raw.database_url)
            .context("invalid configuration key `database_url`")?;
        let listen = raw.listen.parse().map_err(|e| {
            anyhow!(
                "invalid configuration key `listen`: {:?} is not HOST:PORT ({e})",
                raw.listen
            )
        })?;
        tracing_subscriber::EnvFilter::try_new(&raw.log)
            .map_err(|e| anyhow!("invalid configuration key `log`: {:?}: {e}", raw.log))?;
        let timezone: Tz = raw.timezone.parse().map_err(|_| {
            anyhow!(
                "invalid configuration key `timezone`: {:?} is not an IANA time zone such as \
                 America/Chicago",
                raw.timezone
            )
        })?;
        if let Some(url) = &raw.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(anyhow!(
                "invalid configuration key `public_url`: {url:?} must start with http:// or https://"
            ));
        }
        if raw
            .open311
            .jurisdiction_id
            .as_deref()
            .is_some_and(|j| j.trim().is_empty())
        {
            return Err(anyhow!(
                "invalid configuration key `open311.jurisdiction_id`: empty; leave it out instead"
            ));
        }
        let outbound = Outbound {
            field_systems: check_field_systems(raw.field_systems)?,
            ..check_notifications(raw.notifications)?
        };
        check_reports(&raw.reports, &outbound)?;
        Ok(Config {
            outbound,
            reports: raw.reports,
            database_url,
            listen,
            log: raw.log,
            open311: Open311Config {
                jurisdiction_id: raw.open311.jurisdiction_id,
                require_api_key: raw.open311.require_api_key,
                timezone,
                public_url: raw.public_url,
                contact: raw.open311.contact,
                key_service: raw.open311.key_service,
                cache_ttl: std::time::Duration::from_millis(raw.open311.cache_ms),
            },
        })
    }

    pub fn init_logging(&self) {
        let filter = tracing_subscriber::EnvFilter::try_new(&self.log)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

fn check_endpoint(key: &str, url: &str) -> Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(anyhow!(
            "invalid configuration key `{key}`: {url:?} must start with http:// or https://"
        ));
    }
    Ok(())
}

/// A shared secret given in the file or, better, in an environment variable.
fn check_secret(
    what: &str,
    prefix: &str,
    secret: Option<String>,
    env: Option<String>,
) -> Result<String> {
    let secret = match (secret, env) {
        (Some(s), None) => s,
        (None, Some(var)) => std::env::var(&var).map_err(|_| {
            anyhow!("invalid configuration key `{prefix}secret_env`: environment variable {var} is not set")
        })?,
        _ => {
            return Err(anyhow!(
                "invalid configuration for {what}: give exactly one of `{prefix}secret` and `{prefix}secret_env`"
            ));
        }
    };
    if secret.len() < 16 {
        return Err(anyhow!(
            "invalid configuration for {what}: the secret must be at least 16 characters"
        ));
    }
    Ok(secret)
}

fn check_reports(reports: &Reports, outbound: &Outbound) -> Result<()> {
    if reports.title.trim().is_empty() {
        return Err(anyhow!("invalid configuration key `reports.title`: empty"));
    }
    if !(1..=28).contains(&reports.monthly_day) {
        return Err(anyhow!(
            "invalid configuration key `reports.monthly_day`: {} is not a day from 1 to 28",
            reports.monthly_day
        ));
    }
    reports
        .cityscore
        .check()
        .map_err(|e| anyhow!("invalid configuration key `reports.cityscore`: {e}"))?;
    for to in &reports.monthly_to {
        if !civic311_web::outbound::is_mail_address(to) {
            return Err(anyhow!(
                "invalid configuration key `reports.monthly_to`: {to:?} is not an e-mail address"
            ));
        }
    }
    if !reports.monthly_to.is_empty() && outbound.mailer.is_none() {
        return Err(anyhow!(
            "invalid configuration key `reports.monthly_to`: e-mailing reports needs `[notifications]` smtp_url and from"
        ));
    }
    Ok(())
}

fn check_notifications(raw: RawNotifications) -> Result<Outbound> {
    let mailer = match (raw.smtp_url, raw.from) {
        (None, None) => None,
        (Some(url), Some(from)) => Some(
            Mailer::new(&url, &from)
                .map_err(|e| anyhow!("invalid configuration key `notifications`: {e}"))?,
        ),
        _ => {
            return Err(anyhow!(
                "invalid configuration key `notifications`: give both `smtp_url` and `from`, or neither"
            ));
        }
    };
    let sms = match raw.sms_gateway {
        None => None,
        Some(endpoint) => {
            check_endpoint("notifications.sms_gateway", &endpoint)?;
            Some(FieldSystem {
                name: "sms".into(),
                secret: check_secret(
                    "the SMS gateway",
                    "notifications.sms_",
                    raw.sms_secret,
                    raw.sms_secret_env,
                )?,
                endpoint,
                closes_requests: false,
                timeout: std::time::Duration::from_secs(10),
            })
        }
    };
    Ok(Outbound {
        field_systems: FieldSystems::default(),
        mailer,
        sms,
    })
}

fn check_field_systems(raw: Vec<RawFieldSystem>) -> Result<FieldSystems> {
    let mut systems: Vec<FieldSystem> = Vec::new();
    for (i, f) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("field_systems[{i}].{field}");
        let name = f.name.trim().to_owned();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(anyhow!(
                "invalid configuration key `{}`: {:?} must be letters, digits, - and _ (it is part of the webhook URL)",
                key("name"),
                f.name
            ));
        }
        if systems.iter().any(|s| s.name == name) {
            return Err(anyhow!(
                "invalid configuration key `{}`: {name:?} is configured twice",
                key("name")
            ));
        }
        check_endpoint(&key("endpoint"), &f.endpoint)?;
        let secret = check_secret(
            &format!("field system {name:?}"),
            &format!("field_systems[{i}]."),
            f.secret,
            f.secret_env,
        )?;
        systems.push(FieldSystem {
            name,
            endpoint: f.endpoint,
            secret,
            closes_requests: f.closes_requests,
            timeout: std::time::Duration::from_millis(f.timeout_ms.max(1)),
        });
    }
    Ok(FieldSystems::new(systems))
}
