//! One suite, two backends: every test runs on SQLite (a temporary file) and on PostgreSQL
//! when `QUALIFY_TEST_POSTGRES_URL` names a server (`scripts/postgres start` prints one;
//! `scripts/test` sets it). Each PostgreSQL test gets a database of its own. Under
//! `CI=true` a missing URL fails the PostgreSQL tests instead of skipping them.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use qualify_store::Store;

/// The environment variable naming the test server.
pub const POSTGRES_ENV: &str = "QUALIFY_TEST_POSTGRES_URL";

/// A store to test on, and what keeps it alive ([`on_both`] holds a clone until the case
/// ends: a case's closure may capture only some fields).
#[derive(Clone)]
pub struct Fixture {
    pub url: String,
    pub store: Store,
    _dir: Option<Arc<tempfile::TempDir>>,
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::connect(&url).await.expect("sqlite store");
    Fixture {
        url,
        store,
        _dir: Some(Arc::new(dir)),
    }
}

/// A fresh database on the test server, or `None` (skipped) when no server is named
/// outside CI.
pub async fn postgres() -> Option<Fixture> {
    let url = postgres_database().await?;
    let store = Store::connect(&url).await.expect("postgres store");
    Some(Fixture {
        url,
        store,
        _dir: None,
    })
}

/// The URL of a fresh, empty database on the test server (`None` as for [`postgres`]).
pub async fn postgres_database() -> Option<String> {
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
        "qualify_test_{}_{}_{}",
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

/// Runs `case` on SQLite, then on PostgreSQL when there is one.
pub async fn on_both<F, Fut>(case: F)
where
    F: Fn(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    let lite = sqlite().await;
    case(lite.clone()).await;
    lite.store.close().await;
    if let Some(pg) = postgres().await {
        case(pg.clone()).await;
        pg.store.close().await;
    }
}

/// A time from RFC 3339 text.
pub fn t(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// A JSON object from text.
pub fn obj(text: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => m,
        other => panic!("not an object: {other:?}"),
    }
}
