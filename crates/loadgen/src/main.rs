//! `qualify-loadgen`: requests at a fixed rate, latency from each request's scheduled time
//! (see the library's documentation for why and how).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use qualify_loadgen::{Config, Target, run};

/// Open-loop HTTP load: sends requests at a fixed rate over keep-alive connections and
/// reports latency from each request's scheduled time (corrected for coordinated omission),
/// the service time from its actual send, and the generator's own lag. Exits with status 1
/// if any recorded request was not answered with a 2xx status, 2 if the run could not start.
#[derive(Debug, Parser)]
#[command(name = "qualify-loadgen", version)]
struct Args {
    /// The target, `http://host:port/path`.
    url: String,
    /// Requests per second, across all connections.
    #[arg(long)]
    rate: f64,
    /// Keep-alive connections; request k goes to connection k mod N.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured duration: `10s`, `500ms` or seconds.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Sent at the same rate before the measured duration, not recorded.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// How long answers are awaited after the last scheduled request.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    grace: Duration,
    /// POST this file's contents (without it: GET).
    #[arg(long)]
    body: Option<PathBuf>,
    /// The POST body's content type.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 10s, 500ms or 2.5"))?;
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| format!("{text:?} is not a duration of zero or more seconds"))
}

fn main() -> ExitCode {
    // Errors as the `qualify` binary prints them: one line, every cause.
    run_args(Args::parse()).unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(2)
    })
}

fn run_args(args: Args) -> anyhow::Result<ExitCode> {
    let body = match &args.body {
        Some(path) => Some(
            std::fs::read(path)
                .with_context(|| format!("reading the body {}", path.display()))?
                .into(),
        ),
        None => None,
    };
    let config = Config {
        target: Target::new(&args.url, body, &args.content_type)?,
        rate: args.rate,
        connections: args.connections,
        warmup: args.warmup,
        duration: args.duration,
        grace: args.grace,
    };
    let outcome = run(&config)?;
    let report = outcome.report();
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!("{report}");
    }
    Ok(if outcome.all_answered_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_or_without_a_unit() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2.5"), Ok(Duration::from_millis(2500)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
