//! Stores for the store routes' suite: every case runs on SQLite (a temporary file) and on
//! PostgreSQL when `QUALIFY_TEST_POSTGRES_URL` names a server (`scripts/postgres start`
//! prints one; `scripts/test` sets it), each PostgreSQL case in a database of its own. Under
//! `CI=true` a missing URL fails instead of skipping, as the store's own suite does.

use std::sync::atomic::{AtomicU64, Ordering};

use qualify_store::Store;

pub const POSTGRES_ENV: &str = "QUALIFY_TEST_POSTGRES_URL";

/// A store to test on, and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    pub _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::connect(&url).await.expect("sqlite store");
    TestStore {
        store,
        _dir: Some(dir),
    }
}

/// A fresh database on the test server, or `None` (skipped) outside CI without one.
pub async fn postgres() -> Option<TestStore> {
    let Ok(base) = std::env::var(POSTGRES_ENV) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{POSTGRES_ENV} is not set: under CI the PostgreSQL cases must run (scripts/test starts a server)"
        );
        eprintln!("skipped on PostgreSQL: set {POSTGRES_ENV} (scripts/postgres start)");
        return None;
    };
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "qualify_server_test_{}_{}_{}",
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
    let url = with_database(&base, &name);
    let store = Store::connect(&url).await.expect("postgres store");
    Some(TestStore { store, _dir: None })
}

/// `base` with its database replaced by `name` (the query string kept).
fn with_database(base: &str, name: &str) -> String {
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

/// The stores to run a case on: SQLite, then PostgreSQL when there is one.
pub async fn both() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}
