//! `qualify serve`: the HTTP scoring service (crates/server; docs/api.md).
//!
//! Settings come from defaults, then `--config FILE` (TOML), then environment variables
//! (`QUALIFY_*`), then flags — each flag below names its variable in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use qualify_server::Config;
use qualify_server::config::{Challenger, Grades};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as in docs/api.md).
    #[arg(long, env = "QUALIFY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Models directory (one subdirectory per model), model directory or bundle directory
    /// [default: models].
    #[arg(long, env = "QUALIFY_MODELS")]
    pub models: Option<PathBuf>,
    /// Model that scores requests which do not name one [default: default].
    #[arg(long, env = "QUALIFY_DEFAULT_MODEL")]
    pub default_model: Option<String>,
    /// Rules file for the rule-based stage [default: rules/default.toml].
    #[arg(long, env = "QUALIFY_RULES")]
    pub rules: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8080].
    #[arg(long, env = "QUALIFY_ADDR")]
    pub addr: Option<SocketAddr>,
    /// Grade bands, best first, e.g. "A=0.5,B=0.25,C=0.1,D=0".
    #[arg(long, env = "QUALIFY_GRADES")]
    pub grades: Option<Grades>,
    /// Largest request body (and NDJSON line) in bytes [default: 1048576].
    #[arg(long, env = "QUALIFY_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Most leads in one JSON-array batch [default: 1000].
    #[arg(long, env = "QUALIFY_MAX_BATCH")]
    pub max_batch: Option<usize>,
    /// Requests handled at once; more get 503 with Retry-After [default: 512].
    #[arg(long, env = "QUALIFY_MAX_CONCURRENCY")]
    pub max_concurrency: Option<usize>,
    /// Request timeout in milliseconds [default: 10000].
    #[arg(long, env = "QUALIFY_TIMEOUT_MS")]
    pub timeout_ms: Option<u64>,
    /// Bearer token required on the scoring routes (none: open).
    #[arg(long, env = "QUALIFY_API_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
    /// Bearer token for /v1/admin/* (none: admin routes are off).
    #[arg(long, env = "QUALIFY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Reasons per direction in the explanation [default: 3].
    #[arg(long, env = "QUALIFY_EXPLAIN_TOP")]
    pub explain_top: Option<usize>,
    /// Challenger model scored in shadow (model or bundle directory).
    #[arg(long, env = "QUALIFY_CHALLENGER")]
    pub challenger: Option<PathBuf>,
    /// Share of requests the challenger scores, 0–1 [default: 1].
    #[arg(long, env = "QUALIFY_CHALLENGER_FRACTION")]
    pub challenger_fraction: Option<f64>,
    /// Also return the challenger's score under `shadow` in responses.
    #[arg(long, env = "QUALIFY_SHADOW_IN_RESPONSE")]
    pub shadow_in_response: bool,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, env = "QUALIFY_LOG", default_value = "info")]
    pub log: tracing_subscriber::filter::LevelFilter,
}

impl ServeArgs {
    /// The config file (or defaults) with environment variables and flags on top.
    fn into_config(self) -> Result<Config> {
        let mut c = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = self.$field { c.$field = v; })* };
        }
        set!(
            models,
            default_model,
            rules,
            addr,
            grades,
            max_body_bytes,
            max_batch
        );
        set!(max_concurrency, timeout_ms, explain_top);
        if self.api_token.is_some() {
            c.api_token = self.api_token;
        }
        if self.admin_token.is_some() {
            c.admin_token = self.admin_token;
        }
        if let Some(model) = self.challenger {
            c.challenger = Some(Challenger {
                model,
                fraction: 1.0,
                in_response: false,
            });
        }
        match (&mut c.challenger, self.challenger_fraction) {
            (Some(ch), Some(f)) => ch.fraction = f,
            (None, Some(_)) => anyhow::bail!("--challenger-fraction needs a --challenger"),
            _ => {}
        }
        if self.shadow_in_response {
            let ch = c
                .challenger
                .as_mut()
                .context("--shadow-in-response needs a --challenger")?;
            ch.in_response = true;
        }
        c.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(c)
    }
}

pub fn run(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(args.log)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = args.into_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(qualify_server::serve(config))
}
