//! Reading [`Config`] in layers with figment: defaults, then the TOML file, then what was
//! given on the command line or in the environment.
//!
//! clap parses flags and `QUALIFY_*` variables into a whole `Config`, filling what was not
//! given with defaults. Merging that whole struct over the file would reset every file value
//! the command line did not mention (the old `--challenger` flag reset the file's `fraction`
//! and `in_response` that way). So [`CommandLine`] also records which arguments clap took from
//! the command line or the environment, and only those become the top layer. Arguments are
//! identified by their clap id, which is the file key (`max_batch`, `challenger.fraction`).
//!
//! Each layer keeps its name, so an error says where a bad value came from ("for key
//! `max_batch` in /etc/qualify.toml TOML file").

use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches};
use figment::providers::Serialized;
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

use super::{Config, ConfigError};

/// Settings as given by flags and environment variables: the parsed values, and which of
/// them were actually given (by argument id = file key).
#[derive(Debug, Clone)]
pub struct CommandLine {
    parsed: Config,
    from_flags: Vec<String>,
    from_env: Vec<String>,
}

impl CommandLine {
    /// Keys given as command-line flags (not defaults, not environment variables).
    pub fn flags(&self) -> impl Iterator<Item = &str> {
        self.from_flags.iter().map(String::as_str)
    }

    fn given(&self) -> impl Iterator<Item = &str> {
        self.from_flags
            .iter()
            .chain(&self.from_env)
            .map(String::as_str)
    }
}

impl FromArgMatches for CommandLine {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let parsed = Config::from_arg_matches(matches)?;
        // Ids that are not settings (the binary's own flags, clap's argument groups) are left
        // out: they are not keys of the settings.
        let keys = Value::serialize(&parsed).map_err(|e| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("settings: {e}"),
            )
        })?;
        let mut from_flags = Vec::new();
        let mut from_env = Vec::new();
        for id in matches
            .ids()
            .filter(|id| keys.find_ref(id.as_str()).is_some())
        {
            match matches.value_source(id.as_str()) {
                Some(ValueSource::CommandLine) => from_flags.push(id.to_string()),
                Some(ValueSource::EnvVariable) => from_env.push(id.to_string()),
                _ => {}
            }
        }
        Ok(CommandLine {
            parsed,
            from_flags,
            from_env,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = CommandLine::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for CommandLine {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Config::augment_args(cmd)
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Config::augment_args_for_update(cmd)
    }
}

impl Provider for CommandLine {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flags and QUALIFY_* environment variables")
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let all = Value::serialize(&self.parsed)?;
        let mut dict = Dict::new();
        for key in self.given() {
            if let Some(value) = all.find_ref(key) {
                insert(&mut dict, key, value.clone());
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// Puts `value` at the dotted `key` path, creating the tables on the way.
fn insert(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            dict.insert(key.to_string(), value);
        }
        Some((head, rest)) => {
            let entry = dict
                .entry(head.to_string())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}

/// A TOML settings file, parsed once up front so a syntax error names the file, line and
/// column; its values then merge as one named layer.
struct TomlFile {
    path: PathBuf,
    table: toml::Table,
}

impl TomlFile {
    fn read(path: &Path) -> Result<TomlFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let table = text
            .parse::<toml::Table>()
            .map_err(|source| ConfigError::Toml {
                path: path.to_path_buf(),
                source: Box::new(source),
            })?;
        Ok(TomlFile {
            path: path.to_path_buf(),
            table,
        })
    }
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", Source::File(self.path.clone()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.table).data()
    }
}

impl Config {
    /// Defaults, then `file` (TOML), then what `cli` says was given by flags or environment;
    /// then token files are read and every value is checked. A token given as a flag is
    /// logged as a warning (other users of the machine see it in `ps`).
    pub fn layered(file: Option<&Path>, cli: &CommandLine) -> Result<Config, ConfigError> {
        for key in cli.flags().filter(|k| k.ends_with("_token")) {
            tracing::warn!(
                "--{} on the command line is visible to other users (ps); prefer QUALIFY_{} or --{}-file",
                key.replace('_', "-"),
                key.to_ascii_uppercase(),
                key.replace('_', "-")
            );
        }
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            figment = figment.merge(TomlFile::read(path)?);
        }
        let mut config: Config = figment
            .merge(cli.clone())
            .extract()
            .map_err(|e| ConfigError::Layers(Box::new(e)))?;
        config.read_token_files()?;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        settings: CommandLine,
    }

    /// Parses `args` with no `QUALIFY_*` variable read (the parser reads them otherwise).
    fn parse(args: &[&str]) -> Cli {
        let matches = Cli::command()
            .mut_args(|a| a.env(None::<&'static str>))
            .try_get_matches_from(std::iter::once("serve").chain(args.iter().copied()))
            .expect("arguments parse");
        Cli::from_arg_matches(&matches).expect("arguments convert")
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("serve.toml");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn flags_override_the_file_only_where_given() {
        let (_dir, path) = file(
            "max_batch = 10\ntimeout_ms = 250\n[challenger]\nmodel = \"m\"\nfraction = 0.25\nin_response = true\n",
        );
        let cli = parse(&["--challenger", "other", "--timeout-ms", "900"]);
        let c = Config::layered(Some(&path), &cli.settings).expect("valid");
        assert_eq!(c.max_batch, 10, "the file's value stays");
        assert_eq!(c.timeout_ms, 900, "the flag wins");
        assert_eq!(c.challenger.model, Some(PathBuf::from("other")));
        // The old layering reset these two to their defaults when --challenger was given.
        assert_eq!(c.challenger.fraction, 0.25);
        assert!(c.challenger.in_response);
        assert_eq!(c.max_concurrency, super::super::defaults::MAX_CONCURRENCY);
    }

    #[test]
    fn without_a_file_flags_go_over_defaults() {
        let cli = parse(&[
            "--grades",
            "hot=0.4,cold=0",
            "--shadow-in-response",
            "--challenger",
            "m",
        ]);
        let c = Config::layered(None, &cli.settings).expect("valid");
        assert_eq!(c.grades.grade(0.5), "hot");
        assert!(c.challenger.in_response);
        assert_eq!(c.challenger.fraction, 1.0);
        assert_eq!(cli.settings.flags().count(), 3);
    }

    #[test]
    fn the_file_reads_nested_tables_and_rejects_unknown_keys_naming_the_file() {
        let (_dir, path) = file(
            "addr = \"0.0.0.0:9000\"\n[[grades]]\ngrade = \"hot\"\nmin = 0.3\n[[grades]]\ngrade = \"cold\"\nmin = 0\n",
        );
        let c = Config::layered(Some(&path), &parse(&[]).settings).expect("valid");
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.grades.grade(0.31), "hot");

        let (_dir, path) = file("adress = \"0.0.0.0:9000\"\n");
        let err = Config::layered(Some(&path), &parse(&[]).settings)
            .expect_err("typo")
            .to_string();
        assert!(
            err.contains("adress") && err.contains("serve.toml"),
            "{err}"
        );

        let (_dir, path) = file("max_batch = -3\n");
        let err = Config::layered(Some(&path), &parse(&[]).settings)
            .expect_err("negative")
            .to_string();
        assert!(
            err.contains("max_batch") && err.contains("serve.toml"),
            "{err}"
        );

        let (_dir, path) = file("max_batch = \n");
        let err = Config::layered(Some(&path), &parse(&[]).settings)
            .expect_err("syntax")
            .to_string();
        assert!(
            err.contains("serve.toml") && err.contains("line 1"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_values_are_errors_whatever_the_layer() {
        let cli = parse(&["--max-concurrency", "2305843009213693952"]);
        let err = Config::layered(None, &cli.settings)
            .expect_err("too many")
            .to_string();
        assert!(err.starts_with("max_concurrency"), "{err}");
        let (_dir, path) = file("max_concurrency = 2305843009213693952\n");
        let err = Config::layered(Some(&path), &parse(&[]).settings)
            .expect_err("too many")
            .to_string();
        assert!(err.starts_with("max_concurrency"), "{err}");
    }

    #[test]
    fn the_flags_defaults_are_the_structs_defaults() {
        // Every argument's `[default: …]` parses to what Config::default() holds, so the
        // help text and the defaults layer cannot disagree.
        let cmd = Cli::command();
        let defaults = Value::serialize(Config::default()).expect("serializes");
        let mut args = vec!["serve".to_string()];
        for arg in cmd.get_arguments() {
            if let (Some(long), [value], true) = (
                arg.get_long(),
                arg.get_default_values(),
                arg.get_action().takes_values(),
            ) {
                args.push(format!("--{long}={}", value.to_string_lossy()));
            }
        }
        let matches = Cli::command()
            .mut_args(|a| a.env(None::<&'static str>))
            .try_get_matches_from(&args)
            .expect("defaults parse");
        let cli = Cli::from_arg_matches(&matches).expect("convert");
        let given = Value::serialize(&cli.settings.parsed).expect("serializes");
        assert_eq!(given, defaults);
        assert!(args.len() > 15, "{args:?}");
    }
}
