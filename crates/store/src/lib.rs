//! The lead store: leads, their events and outcomes, and the score log, behind one API with
//! two backends, SQLite (embedded, the default: `sqlite://PATH`) and PostgreSQL
//! (`postgres://USER@HOST:PORT/DB`).
//!
//! Why one API over sqlx's `Any` driver: the server, `qualify store import` and
//! `qualify train --store` must behave the same whichever database holds the data, and the
//! same test suite must hold both to it. Every query is written once with `$1` placeholders
//! (both drivers read them) and portable SQL (`ON CONFLICT`); only the migrations differ
//! per backend ([`migrate`]: column types, identity syntax). Queries are checked at run time
//! (no database at compile time).
//!
//! **Data model** (docs/store.md): a lead is an id, its attributes (a JSON object read with
//! the canonical lead record's rules, [`leads`]) and its creation time; events
//! `{lead_id, type, at, event_id?, value?}` are idempotent on `event_id` and create a stub
//! lead when the lead is unknown ([`events`]); a lead's outcomes follow qualify-core's
//! policy (only a bad-timing disqualification may be followed by another outcome), never
//! before its creation ([`outcomes`], the file readers' policy); the score log keeps
//! [`ScoreLogEntry`]s ([`scores`]). Times are kept in milliseconds since the Unix epoch,
//! UTC, as the history's feature code reads them.
//!
//! **Durability.** Every call that writes runs in one transaction: it returns `Ok` only
//! after the commit, and a failure or a killed process leaves nothing of it. SQLite runs in
//! WAL mode with `synchronous = FULL`: each commit is fsynced before it returns, so an
//! acknowledged write survives a killed process *and* a power loss (`NORMAL` would survive
//! the first only, for less than one fsync per batch). Writes to SQLite take the write lock
//! at `BEGIN IMMEDIATE`, so a transaction that reads then writes never fails half-way on a
//! lock upgrade. PostgreSQL commits durably with its defaults (`synchronous_commit = on`).
//!
//! **Training** reads the three tables back as qualify-core [`RawTable`]s named as the file
//! contract names them ([`tables`]); with the `files` feature, [`files`] turns them into a
//! checked `History` with the same function the file readers use, and imports files.
//!
//! The handle is `Clone + Send + Sync` (a connection pool), for tokio handlers.
//!
//! [`RawTable`]: qualify_core::value::RawTable
//! [`ScoreLogEntry`]: qualify_core::scorelog::ScoreLogEntry

mod error;
pub mod events;
#[cfg(feature = "files")]
pub mod files;
pub mod leads;
pub mod migrate;
mod model;
pub mod monitoring;
pub mod outcomes;
mod read;
pub mod scores;
pub mod tables;
#[cfg(feature = "test-support")]
pub mod test_support;
mod time;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use error::{EventProblem, Item, Part, StoreError};
pub use migrate::SCHEMA_VERSION;
#[cfg(feature = "openapi")]
pub use model::Outcome;
pub use model::{NewEvent, NewOutcome, StoredEvent, StoredLead, StoredOutcome};
pub use tables::{HistoryTables, SetSeparators};

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    ///
    /// # Errors
    /// [`StoreError::Url`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url {
                url: url.to_string(),
            })
        }
    }
}

/// A connected, migrated store (see the crate docs). Cheap to clone: clones share the pools.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// One connection of its own for the score log's appends, the store's steadiest writer,
    /// opened at the first append. With SQLite a connection keeps its page cache while no
    /// other connection writes; appends taken in turn from the shared pool would find it
    /// stale each time (one connection wrote the previous batch, another writes this one).
    score_log: AnyPool,
    backend: Backend,
}

/// The statement that opens a write transaction on each backend.
fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

impl Store {
    /// Connects to `url`, creating a SQLite file (and its directory) when missing, and
    /// applies the pending migrations.
    ///
    /// # Errors
    /// A URL of neither backend, a database that cannot be reached or created,
    /// [`StoreError::SchemaTooNew`] for a store written by a newer qualify, a failed
    /// migration.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::Url { url: url.clone() })?;
        let pool = pool_options(backend)
            .max_connections(match backend {
                // One writer at a time anyway; a few readers beside it.
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .connect_with(options.clone())
            .await
            .map_err(error::db(Part::Migrations))?;
        migrate::migrate(&pool, backend).await?;
        let score_log = pool_options(backend)
            .max_connections(1)
            .connect_lazy_with(options);
        Ok(Store {
            pool,
            score_log,
            backend,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The schema version the store is at.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::store_version(&self.pool, self.backend).await
    }

    /// Closes the pools (waits for connections in use to return).
    pub async fn close(&self) {
        self.pool.close().await;
        self.score_log.close().await;
    }

    /// A read transaction: one snapshot for every statement in it (SQLite: from its first
    /// read, in WAL mode; PostgreSQL: repeatable read), so a read that spans tables never
    /// mixes states before and after a concurrent write.
    async fn read(&self, part: Part) -> Result<sqlx::Transaction<'_, sqlx::Any>, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        self.pool.begin_with(begin).await.map_err(error::db(part))
    }

    /// A write transaction on the score log's own connection (the `score_log` pool).
    async fn write_score_log(&self) -> Result<sqlx::Transaction<'_, sqlx::Any>, StoreError> {
        self.score_log
            .begin_with(begin_write(self.backend))
            .await
            .map_err(error::db(Part::ScoreLog))
    }

    /// A write transaction (see [`begin_write`]).
    async fn write(&self, part: Part) -> Result<sqlx::Transaction<'_, sqlx::Any>, StoreError> {
        self.pool
            .begin_with(begin_write(self.backend))
            .await
            .map_err(error::db(part))
    }
}

/// Pool options whose connections are set up for the backend (SQLite: WAL,
/// `synchronous = FULL`, foreign keys, a busy timeout).
fn pool_options(backend: Backend) -> AnyPoolOptions {
    AnyPoolOptions::new().after_connect(move |conn, _| {
        Box::pin(async move {
            if backend == Backend::Sqlite {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                )
                .await?;
            }
            Ok(())
        })
    })
}

/// `sqlite://PATH` (or `sqlite:PATH`) with the file created when missing (`mode=rwc`), its
/// directory too.
fn sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::Url {
            url: url.to_string(),
        })?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(StoreError::Url {
            url: url.to_string(),
        });
    }
    if path != ":memory:"
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Database {
            part: Part::Migrations,
            source: sqlx::Error::Io(source),
        })?;
    }
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(Backend::of_url("sqlite://x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(
            Backend::of_url("postgresql://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(matches!(
            Backend::of_url("mysql://u@h/db"),
            Err(StoreError::Url { .. })
        ));
        assert_eq!(
            sqlite_url("sqlite:///tmp/a/b.db").ok().as_deref(),
            Some("sqlite:///tmp/a/b.db?mode=rwc")
        );
        assert_eq!(
            sqlite_url("sqlite://rel.db?mode=ro").ok().as_deref(),
            Some("sqlite://rel.db?mode=ro")
        );
        assert!(sqlite_url("sqlite://").is_err());
    }
}
