//! Durability: a writer appending event batches is killed with SIGKILL mid-stream; every
//! batch it was told was committed is there after a reopen, and no batch is there in part.
//! The writer is this test binary run again (`writer` below, active only with its
//! environment variable), so the kill hits the store's own code, not a test harness.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Fixture, on_both};
use qualify_core::history::HistoryColumns;
use qualify_core::lead::EventType;
use qualify_store::{NewEvent, Store};

const CHILD_URL: &str = "QUALIFY_STORE_TEST_WRITER_URL";
const BATCH: usize = 250;

/// The child: appends batches forever, printing `acked N` after each committed one.
#[tokio::test]
async fn writer() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let store = Store::connect(&url).await.expect("store");
    for n in 0.. {
        let batch: Vec<NewEvent> = (0..BATCH)
            .map(|i| NewEvent {
                lead_id: format!("lead-{}", i % 17),
                kind: EventType::new("email_open").expect("type"),
                at: chrono::DateTime::from_timestamp_millis(1_700_000_000_000 + i as i64)
                    .expect("time"),
                event_id: Some(format!("{n}-{i}")),
                value: Some(i as f64),
            })
            .collect();
        store.append_events(&batch).await.expect("append");
        println!("acked {}", n + 1);
    }
}

#[tokio::test]
async fn a_killed_writer_loses_no_acknowledged_batch_and_leaves_no_partial_one() {
    on_both(|f: Fixture| async move {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_URL, &f.url)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the writer");
        let stdout = child.stdout.take().expect("stdout");
        let mut acked = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            if let Some(n) = line.strip_prefix("acked ") {
                acked = n.trim().parse::<usize>().expect("a count");
                if acked >= 12 {
                    break;
                }
            }
        }
        // SIGKILL, no chance to clean up.
        child.kill().expect("kill");
        child.wait().expect("reap");
        let store = Store::connect(&f.url).await.expect("reopen");
        let events = store
            .history_tables(&HistoryColumns::default(), &Default::default())
            .await
            .expect("tables")
            .events
            .map_or(0, |e| e.rows());
        assert!(
            events >= acked * BATCH,
            "{events} events stored, {acked} batches acknowledged"
        );
        assert_eq!(events % BATCH, 0, "a batch stored in part: {events} events");
        store.close().await;
    })
    .await;
}
