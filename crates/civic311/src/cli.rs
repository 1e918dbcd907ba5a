//! The command line: one subcommand per job, each explained by `civic311 help <command>`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
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
    /// Issue or revoke the API keys Open311 clients need to file requests.
    Apikey {
        #[command(subcommand)]
        action: ApikeyAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyAction {
    /// Issue a key to NAME (an app, a partner, a city system) and print it; only its hash is
    /// stored, so it cannot be shown again.
    Create { name: String },
    /// Revoke every key issued to NAME.
    Revoke { name: String },
}

pub async fn run(cli: Cli) -> Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    config.init_logging();
    match cli.command {
        Command::Serve { listen } => {
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            let state = AppState::new(store, config.open311);
            serve(state, listen.unwrap_or(config.listen), &[]).await
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
        Command::Apikey { action } => {
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            let now = chrono::Utc::now();
            match action {
                ApikeyAction::Create { name } => {
                    let name = name.trim();
                    if name.is_empty() {
                        anyhow::bail!("the key's NAME must not be empty");
                    }
                    let key = store.issue_api_key(name, now).await?;
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
    }
}

/// Binds, prints where to look, and serves until Ctrl-C.
pub async fn serve(state: AppState, listen: SocketAddr, extra_paths: &[String]) -> Result<()> {
    let store = state.store.clone();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
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
