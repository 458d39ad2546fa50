//! One suite, two backends: every test runs on SQLite (a temporary file) and on PostgreSQL
//! when `QUALIFY_TEST_POSTGRES_URL` names a server, each PostgreSQL test in a database of its
//! own (the crate's `test_support`: how, and what CI requires).

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;

use qualify_store::Store;
use qualify_store::test_support::{self, sqlite_url};

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
    let url = sqlite_url(dir.path());
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
    test_support::postgres_database("qualify_test").await
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
