//! Test databases for suites that run on both backends (feature `test-support`): this
//! crate's own suite and the server's store routes. Every case runs on SQLite, and on
//! PostgreSQL when [`POSTGRES_ENV`] names a server (`scripts/postgres start` prints one;
//! `scripts/test` sets it), each case in a fresh database of its own. Under `CI=true` a
//! missing URL fails the PostgreSQL cases instead of skipping them: CI must run them.
//!
//! Test code: it panics on a setup failure, which is how a test reports one.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the test server.
pub const POSTGRES_ENV: &str = "QUALIFY_TEST_POSTGRES_URL";

/// A SQLite store URL in `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("store.db").display())
}

/// The URL of a fresh, empty database on the test server, named `<prefix>_<pid>_<n>_<µs>`;
/// `None` when no server is named outside CI.
///
/// # Panics
/// No server named under `CI=true`; a server that cannot be reached or refuses to create
/// the database.
pub async fn postgres_database(prefix: &str) -> Option<String> {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{POSTGRES_ENV} is not set: under CI the PostgreSQL tests must run (scripts/test starts a server)"
            );
        }
        eprintln!("skipped on PostgreSQL: set {POSTGRES_ENV} (scripts/postgres start)");
        return None;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros()
    );
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .expect("the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    Some(with_database(&base, &name))
}

/// `base` with its database replaced by `name` (the query string kept).
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let path_start = head[scheme_end..]
        .find('/')
        .map_or(head.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &head[..path_start]);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres?sslmode=disable", "t1"),
            "postgres://u@127.0.0.1:5432/t1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "t2"),
            "postgres://u@h:1/t2"
        );
    }
}
