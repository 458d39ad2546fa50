//! Stores for the store routes' suite: every case runs on SQLite (a temporary file) and on
//! PostgreSQL when `QUALIFY_TEST_POSTGRES_URL` names a server, each PostgreSQL case in a
//! database of its own (qualify-store's `test_support`, shared with the store's own suite).

use qualify_store::Store;
use qualify_store::test_support::{postgres_database, sqlite_url};

/// A store to test on, and what keeps it alive.
pub struct TestStore {
    pub store: Store,
    pub _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::connect(&sqlite_url(dir.path()))
        .await
        .expect("sqlite store");
    TestStore {
        store,
        _dir: Some(dir),
    }
}

/// A fresh database on the test server, or `None` (skipped) outside CI without one.
pub async fn postgres() -> Option<TestStore> {
    let url = postgres_database("qualify_server_test").await?;
    let store = Store::connect(&url).await.expect("postgres store");
    Some(TestStore { store, _dir: None })
}

/// The stores to run a case on: SQLite, then PostgreSQL when there is one.
pub async fn both() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}
