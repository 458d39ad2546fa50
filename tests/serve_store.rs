//! The server's store with the real binary over a real socket: a stored lead of the sample
//! history scored from the store equals its record posted to `/v1/score` (to 1e-12,
//! explanations included, at several moments); ingestion acknowledged with a 200 survives
//! `kill -9`; the score log after `kill -9` under scoring load holds only whole entries; a
//! graceful stop writes what the log had queued; a store newer than the binary is refused
//! before listening; with no `--store` the server keeps its store under `var/`.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Server, qualify, repo, s, try_request};
use qualify_store::test_support::sqlite_url;
use qualify_store::{Store, StoredLead};
use serde_json::{Value, json};

impl Server {
    /// `qualify serve` on the bundled models and rules, with `store` (none given when empty).
    fn start(store: &str, extra: &[&str]) -> Server {
        Server::start_in(repo(), store, extra)
    }

    fn start_in(dir: &Path, store: &str, extra: &[&str]) -> Server {
        let mut command = qualify();
        command
            .current_dir(dir)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0", "--drain-ms", "0"])
            .args(["--models", s(&repo().join("models"))])
            .args(["--rules", s(&repo().join("rules/default.toml"))]);
        if !store.is_empty() {
            command.args(["--store", store]);
        }
        command.args(extra);
        Server::spawn(command)
    }
}

/// One request to `addr` whose answer is JSON (`null` when it is not), or `None` when the
/// connection fails or ends without a whole answer (a killed server).
fn try_json(addr: SocketAddr, method: &str, path: &str, body: &str) -> Option<(u16, Value)> {
    let (status, text) = try_request(addr, method, path, body)?;
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    try_json(addr, method, path, body).expect("an HTTP answer")
}

fn ok(addr: SocketAddr, method: &str, path: &str, body: &str) -> Value {
    let (status, answer) = request(addr, method, path, body);
    assert_eq!(status, 200, "{method} {path}: {answer}");
    answer
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Parity over the sample history (the bundled default model is trained on a history):
/// imported with `qualify store import`, each lead scored from the store equals the record
/// `StoredLead::record` makes of it posted to `/v1/score`.
#[test]
fn a_stored_lead_scores_as_its_record_posted_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_url(dir.path());
    let history = repo().join("data/sample/history");
    let out = qualify()
        .args(["store", "import", "--store", &store])
        .args(["--leads", s(&history.join("leads.csv"))])
        .args(["--events", s(&history.join("events.csv"))])
        .args(["--outcomes", s(&history.join("outcomes.csv"))])
        .output()
        .expect("run qualify store import");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start(&store, &[]);
    let mut compared = 0;
    for n in [1, 2, 3, 7, 11, 19] {
        let id = format!("lead-{n:06}");
        let stored: StoredLead =
            serde_json::from_value(ok(server.addr, "GET", &format!("/v1/leads/{id}"), ""))
                .expect("a stored lead");
        let record = serde_json::to_string(&stored.record().expect("record")).expect("json");
        for as_of in [
            "2025-12-01T00:00:00Z",
            "2026-05-10T12:00:00Z",
            "2026-09-01T00:00:00Z",
        ] {
            let from_store = ok(
                server.addr,
                "GET",
                &format!("/v1/leads/{id}/score?as_of={as_of}"),
                "",
            );
            let posted = ok(
                server.addr,
                "POST",
                &format!("/v1/score?as_of={as_of}"),
                &record,
            );
            let close = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() <= 1e-12,
                _ => a == b,
            };
            assert!(
                close(&from_store["propensity"], &posted["propensity"]),
                "{id} as of {as_of}: {} vs {}",
                from_store["propensity"],
                posted["propensity"]
            );
            let e = (&from_store["explanation"], &posted["explanation"]);
            assert!(e.0.is_object(), "{from_store}");
            for side in ["top_positive", "top_negative"] {
                let (a, b) = (e.0[side].as_array(), e.1[side].as_array());
                let (a, b) = (a.expect("reasons"), b.expect("reasons"));
                assert_eq!(a.len(), b.len());
                for (a, b) in a.iter().zip(b) {
                    assert_eq!(a["column"], b["column"], "{id} as of {as_of}");
                    assert!(close(&a["contribution"], &b["contribution"]));
                }
            }
            assert!(close(&e.0["raw_score"], &e.1["raw_score"]));
            assert_eq!(from_store["rules"], posted["rules"], "{id} as of {as_of}");
            assert_eq!(from_store["warnings"], posted["warnings"]);
            compared += 1;
        }
    }
    assert_eq!(compared, 18);
    // Both answers of each pair were logged, as `stored` and `record`.
    assert!(server.stop().success());
    let entries = runtime().block_on(async {
        let store = Store::connect(&store).await.expect("store");
        store.lead_scores("lead-000001").await.expect("history")
    });
    let sources: Vec<String> = entries.iter().map(|e| e.source.to_string()).collect();
    assert_eq!(
        sources.iter().filter(|s| *s == "stored").count(),
        3,
        "{sources:?}"
    );
    assert_eq!(
        sources.iter().filter(|s| *s == "record").count(),
        3,
        "{sources:?}"
    );
}

/// Writers ingest events (each with an id) in batches until the server is killed with
/// SIGKILL; after a restart on the same store every acknowledged event is there.
#[test]
fn acknowledged_ingestion_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_url(dir.path());
    let server = Server::start(&store, &["--score-log", "off"]);
    let addr = server.addr;
    ok(
        addr,
        "PUT",
        "/v1/leads/K0",
        &json!({"employees": 40, "created_at": "2026-01-01"}).to_string(),
    );
    let outcome = json!({"lead_id": "K0", "outcome": "converted", "at": "2026-06-01T00:00:00Z"});
    ok(addr, "POST", "/v1/outcomes", &outcome.to_string());
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut batch = 0;
                while !stop.load(Ordering::Relaxed) {
                    let ids: Vec<String> = (0..50).map(|i| format!("w{w}-b{batch}-{i}")).collect();
                    let events: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            json!({"lead_id": format!("K{}", w + 1), "type": "email_open",
                                         "at": "2026-05-01T00:00:00Z", "event_id": id})
                        })
                        .collect();
                    let body = Value::Array(events).to_string();
                    // A request cut by the kill has no answer: it was never acknowledged.
                    match try_request(addr, "POST", "/v1/events", &body) {
                        Some((200, _)) => acked.lock().expect("lock").extend(ids),
                        _ => break,
                    }
                    batch += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.join();
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= 200,
        "only {} events acknowledged",
        acked.len()
    );

    let server = Server::start(&store, &["--score-log", "off"]);
    let mut found = HashSet::new();
    for w in 1..=4 {
        let lead = ok(server.addr, "GET", &format!("/v1/leads/K{w}"), "");
        for e in lead["events"].as_array().expect("events") {
            found.insert(e["event_id"].as_str().expect("id").to_string());
        }
    }
    let lost: Vec<&String> = acked.iter().filter(|id| !found.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let k0 = ok(server.addr, "GET", "/v1/leads/K0", "");
    assert_eq!(k0["attributes"]["employees"], 40);
    assert_eq!(k0["outcome"]["outcome"], "converted");
}

/// Scoring load, then SIGKILL: every row the score log holds reads back whole, no more rows
/// than answers; then a graceful stop writes every answer's entry.
#[test]
fn the_score_log_holds_whole_entries_after_kill_9_and_all_after_a_stop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_url(dir.path());
    let server = Server::start(&store, &[]);
    let addr = server.addr;
    let answered = Arc::new(AtomicBool::new(false));
    let count = Arc::new(Mutex::new(0usize));
    let stop = Arc::new(AtomicBool::new(false));
    let lead = json!({"job_title": "VP Sales", "employees": 300, "industry": "saas"});
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (count, stop, answered) =
                (Arc::clone(&count), Arc::clone(&stop), Arc::clone(&answered));
            let mut lead = lead.clone();
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    lead["id"] = json!(format!("c{c}-{i}"));
                    let body = lead.to_string();
                    match try_request(addr, "POST", "/v1/score", &body) {
                        Some((200, _)) => {
                            *count.lock().expect("lock") += 1;
                            answered.store(true, Ordering::Relaxed);
                        }
                        _ => break,
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let answers = *count.lock().expect("lock");
    assert!(
        answered.load(Ordering::Relaxed) && answers > 20,
        "{answers} answers"
    );
    let rt = runtime();
    let logged = rt.block_on(async {
        let store = Store::connect(&store).await.expect("store");
        let all = store
            .scores_between(
                "2000-01-01T00:00:00Z".parse().expect("t"),
                chrono::Utc::now(),
            )
            .await
            .expect("every row reads back");
        store.close().await;
        all
    });
    assert!(
        logged.len() <= answers,
        "{} rows for {answers} answers",
        logged.len()
    );
    for e in &logged {
        assert!(
            e.lead_id.as_deref().is_some_and(|id| id.starts_with('c')),
            "{e:?}"
        );
        assert!(
            e.propensity.is_finite() && !e.model_version.is_empty(),
            "{e:?}"
        );
    }

    // A graceful stop writes what is queued: N answers, N more entries.
    let server = Server::start(&store, &[]);
    for i in 0..40 {
        let mut lead = lead.clone();
        lead["id"] = json!(format!("after-{i}"));
        ok(server.addr, "POST", "/v1/score", &lead.to_string());
    }
    ok(
        server.addr,
        "POST",
        "/v1/score/batch",
        &json!([{"id": "after-b1"}, {"id": "after-b2"}]).to_string(),
    );
    assert!(server.stop().success());
    let after = rt.block_on(async {
        let store = Store::connect(&store).await.expect("store");
        let all = store
            .scores_between(
                "2000-01-01T00:00:00Z".parse().expect("t"),
                chrono::Utc::now(),
            )
            .await
            .expect("read");
        all.into_iter()
            .filter(|e| {
                e.lead_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with("after-"))
            })
            .count()
    });
    assert_eq!(after, 42);
}

/// A store written by a newer qualify is refused with both versions, before listening.
#[test]
fn a_store_newer_than_the_binary_is_refused_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = sqlite_url(dir.path());
    runtime().block_on(async {
        let s = Store::connect(&store).await.expect("store");
        s.close().await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&store).await.expect("pool");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'from the future', TRUE, x'00', 0)",
        )
        .execute(&pool)
        .await
        .expect("a future version");
        pool.close().await;
    });
    let out = qualify()
        .arg("serve")
        .args(["--addr", "127.0.0.1:0", "--store", &store])
        .args(["--models", s(&repo().join("models"))])
        .args(["--rules", s(&repo().join("rules/default.toml"))])
        .output()
        .expect("run qualify serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("version 99") && stderr.contains("newer"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");
    // A store URL of no backend is refused before anything starts, naming the setting.
    let out = qualify()
        .args(["serve", "--store", "mysql://u@h/db"])
        .output()
        .expect("run qualify serve");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("--store"),
        "{stderr}"
    );
}

/// With no `--store`, the server keeps its store at `var/qualify.db` under the working
/// directory, and the store routes work.
#[test]
fn without_store_settings_the_store_is_under_var() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start_in(dir.path(), "", &[]);
    ok(server.addr, "PUT", "/v1/leads/D1", "{}");
    assert!(server.stop().success());
    assert!(dir.path().join("var/qualify.db").is_file());
}
