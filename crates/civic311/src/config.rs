//! Configuration: a TOML file, then environment variables, checked at start-up. A bad value
//! stops the program with the key and the reason.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use civic311_store::DatabaseUrl;
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
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            database_url: "sqlite:civic311.db".into(),
            listen: "127.0.0.1:8080".into(),
            log: "info".into(),
        }
    }
}

#[derive(Debug)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    pub log: String,
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
        let env = Env::prefixed("CIVIC311_").only(&["database_url", "listen", "log"]);
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
        Ok(Config {
            database_url,
            listen,
            log: raw.log,
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
