//! Versioned schema migrations, embedded in the binary and applied at connect.
//!
//! Each backend has its own SQL files (`migrations/sqlite`, `migrations/postgres`: the
//! column types and identity syntax differ), numbered alike, so a version means the same
//! tables on both. sqlx's [`Migrator`] applies the pending ones in order, each in a
//! transaction, records them with a checksum in `_sqlx_migrations` (an edited migration is
//! refused), and on PostgreSQL holds an advisory lock so two servers starting at once do not
//! race. The one thing it does not say well is a store *newer* than the code (it reports the
//! first unknown version only): `check_not_newer` reads the store's version first and
//! refuses with both numbers.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::AnyPool;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use crate::Backend;
use crate::error::{Part, StoreError, db};

/// `(version, description, SQL)` of SQLite's migrations.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "leads events outcomes scores",
        include_str!("../migrations/sqlite/0001_leads_events_outcomes_scores.sql"),
    ),
    (
        2,
        "several outcomes per lead",
        include_str!("../migrations/sqlite/0002_several_outcomes_per_lead.sql"),
    ),
];

/// `(version, description, SQL)` of PostgreSQL's migrations (same versions as SQLite's).
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "leads events outcomes scores",
        include_str!("../migrations/postgres/0001_leads_events_outcomes_scores.sql"),
    ),
    (
        2,
        "several outcomes per lead",
        include_str!("../migrations/postgres/0002_several_outcomes_per_lead.sql"),
    ),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 2;

/// The embedded migrations of one backend.
#[derive(Debug, Clone, Copy)]
struct Embedded(Backend);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        let list = match self.0 {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        let migrations = list
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Refuses a store newer than [`SCHEMA_VERSION`], then applies the pending migrations.
pub(crate) async fn migrate(pool: &AnyPool, backend: Backend) -> Result<i64, StoreError> {
    check_not_newer(pool, backend).await?;
    let migrator = Migrator::new(Embedded(backend))
        .await
        .map_err(|source| StoreError::Migrate { source })?;
    migrator
        .run(pool)
        .await
        .map_err(|source| StoreError::Migrate { source })?;
    Ok(SCHEMA_VERSION)
}

/// The store's schema version (0 for a new store).
pub(crate) async fn store_version(pool: &AnyPool, backend: Backend) -> Result<i64, StoreError> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
        }
    };
    let n: i64 = sqlx::query_scalar(exists)
        .fetch_one(pool)
        .await
        .map_err(db(Part::Migrations))?;
    if n == 0 {
        return Ok(0);
    }
    let max: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await
            .map_err(db(Part::Migrations))?;
    Ok(max.unwrap_or(0))
}

async fn check_not_newer(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let store = store_version(pool, backend).await?;
    if store > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            store,
            code: SCHEMA_VERSION,
        });
    }
    Ok(())
}
