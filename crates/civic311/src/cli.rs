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
    /// CIVIC311_DATABASE_URL, CIVIC311_LISTEN and CIVIC311_LOG override it.
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
}

pub async fn run(cli: Cli) -> Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    config.init_logging();
    match cli.command {
        Command::Serve { listen } => {
            let store = Store::open(&config.database_url)
                .await
                .context("cannot open the database")?;
            serve(store, listen.unwrap_or(config.listen), &[]).await
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
    }
}

/// Binds, prints where to look, and serves until Ctrl-C.
pub async fn serve(store: Store, listen: SocketAddr, extra_paths: &[String]) -> Result<()> {
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
    civic311_web::serve(
        listener,
        AppState {
            store: store.clone(),
        },
        shutdown,
    )
    .await?;
    store.close().await;
    Ok(())
}
