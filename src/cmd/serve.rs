//! `qualify serve`: the HTTP scoring service (crates/server; docs/api.md).
//!
//! Settings come from defaults, then `--config FILE` (TOML), then environment variables
//! (`QUALIFY_*`), then flags — one struct in qualify-server declares them all
//! (`qualify_server::config`); this module adds the file and the log level.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use qualify_server::Config;
use qualify_server::config::CommandLine;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as in docs/api.md); environment
    /// variables and flags override it.
    #[arg(long = "config", env = "QUALIFY_CONFIG", value_name = "FILE")]
    pub config_file: Option<PathBuf>,
    #[command(flatten)]
    pub settings: CommandLine,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "QUALIFY_LOG", default_value = "info")]
    pub log: tracing_subscriber::filter::LevelFilter,
}

/// How long the process waits, once the server has stopped, for work it cannot cancel (a
/// reload stuck on a file read) before exiting anyway.
const EXIT_WAIT: Duration = Duration::from_secs(1);

pub fn run(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(args.log)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = Config::layered(args.config_file.as_deref(), &args.settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let served = runtime.block_on(qualify_server::serve(config));
    runtime.shutdown_timeout(EXIT_WAIT);
    Ok(served?)
}
