//! End to end over a real socket: train on synthetic data, start `qualify serve` on an
//! ephemeral port, and check that `/v1/score` and `/v1/score/batch` give what the batch
//! commands give for the same leads — the propensity what `qualify score` computes from the
//! flat CSV (to 1e-6), the rules part what `qualify rules score` computes from the records.
//! The server reads canonical records with `activities`; `qualify score` reads the flat
//! `<type>_count` / `last_activity_at` columns: agreement means the two forms meet in one
//! encoder. Also runs every curl example in docs/api.md against the server.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

const AS_OF: &str = "2026-06-30T00:00:00Z";

fn qualify() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
}

fn ok(args: &[&str]) {
    let out = qualify().args(args).output().expect("run qualify");
    assert!(
        out.status.success(),
        "qualify {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A running `qualify serve`; stopped with SIGTERM on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = qualify()
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("NO_COLOR", "1")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start qualify serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .expect("read stderr");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("address")
                    .parse()
                    .expect("socket address");
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    /// One HTTP/1.1 request; returns (status, body).
    fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .expect("write request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        let (head, body) = response.split_once("\r\n\r\n").expect("HTTP response");
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "this client reads only Content-Length bodies"
        );
        (status, body.to_string())
    }

    fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        std::mem::forget(self);
        exit
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Synthetic leads as flat CSV and as canonical JSONL (same seed: the same leads), and one
/// model per kind trained on the CSV under `dir/models/<kind>`.
fn trained(dir: &Path, rows: &str, kinds: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
    let csv = dir.join("leads.csv");
    let jsonl = dir.join("leads.jsonl");
    ok(&["synth", "--rows", rows, "--seed", "11", "--out", s(&csv)]);
    ok(&["synth", "--rows", rows, "--seed", "11", "--out", s(&jsonl)]);
    let models = dir.join("models");
    for kind in kinds {
        ok(&[
            "train",
            "--data",
            s(&csv),
            "--schema",
            s(&repo().join("data/sample/schema.toml")),
            "--model",
            kind,
            "--out",
            s(&models.join(kind)),
        ]);
    }
    (csv, jsonl, models)
}

fn read_scores(path: &Path) -> HashMap<String, f64> {
    let text = std::fs::read_to_string(path).expect("scores");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,propensity"));
    lines
        .map(|l| {
            let (id, p) = l.split_once(',').expect("two columns");
            (id.to_string(), p.parse().expect("number"))
        })
        .collect()
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

const RULE_KEYS: [&str; 8] = [
    "score",
    "fit_score",
    "engagement_score",
    "stage",
    "gates_failed",
    "reasons",
    "frameworks",
    "route",
];

fn check_against_batch(
    result: &Value,
    lead: &Value,
    scores: &HashMap<String, f64>,
    rules: &HashMap<String, Value>,
) {
    let id = lead["id"].as_str().expect("id");
    assert_eq!(result["id"], lead["id"]);
    let served = result["propensity"].as_f64().expect("propensity");
    let batch = scores[id];
    assert!(
        (served - batch).abs() <= 1e-6,
        "{id}: server {served} vs qualify score {batch}"
    );
    for key in RULE_KEYS {
        assert_eq!(result["rules"][key], rules[id][key], "{id}: rules.{key}");
    }
}

#[test]
fn server_scores_equal_the_batch_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kinds = ["logistic", "gbm"];
    let (csv, jsonl, models) = trained(dir.path(), "600", &kinds);
    let rules_file = repo().join("rules/default.toml");
    let rules_path = dir.path().join("rules.jsonl");
    ok(&[
        "rules",
        "score",
        "--rules",
        s(&rules_file),
        "--data",
        s(&jsonl),
        "--as-of",
        AS_OF,
        "--out",
        s(&rules_path),
    ]);
    let rules: HashMap<String, Value> = read_jsonl(&rules_path)
        .into_iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r))
        .collect();
    let leads = read_jsonl(&jsonl);
    assert_eq!(leads.len(), 600);

    let server = Server::start(&[
        "--models",
        s(&models),
        "--default-model",
        "logistic",
        "--rules",
        s(&rules_file),
    ]);
    for kind in kinds {
        let scores_path = dir.path().join(format!("{kind}.csv"));
        ok(&[
            "score",
            "--model",
            s(&models.join(kind)),
            "--data",
            s(&csv),
            "--as-of",
            AS_OF,
            "--out",
            s(&scores_path),
        ]);
        let scores = read_scores(&scores_path);
        let query = format!("?model={kind}&as_of={AS_OF}");
        for lead in leads.iter().take(60) {
            let (status, body) =
                server.request("POST", &format!("/v1/score{query}"), &lead.to_string());
            assert_eq!(status, 200, "{body}");
            let result: Value = serde_json::from_str(&body).expect("json");
            check_against_batch(&result, lead, &scores, &rules);
            let explanation = &result["explanation"];
            assert!(explanation["top_positive"].is_array(), "{kind}: {result}");
        }
        for chunk in leads.chunks(300) {
            let (status, body) = server.request(
                "POST",
                &format!("/v1/score/batch{query}"),
                &Value::Array(chunk.to_vec()).to_string(),
            );
            assert_eq!(status, 200, "{body}");
            let results: Vec<Value> = serde_json::from_str(&body).expect("json");
            assert_eq!(results.len(), chunk.len());
            for (result, lead) in results.iter().zip(chunk) {
                check_against_batch(result, lead, &scores, &rules);
            }
        }
    }
    let (status, body) = server.request("POST", "/v1/score", "{\"employees\": \"many\"}");
    assert_eq!(status, 422, "{body}");

    // SIGHUP picks up a new version written next to the served one.
    let model_dir = models.join("logistic");
    let served = qualify_core::bundle::resolve_version(&model_dir).expect("served version");
    let next = model_dir.join("29990101T000000.000Z");
    std::fs::create_dir(&next).expect("mkdir");
    for entry in std::fs::read_dir(&served).expect("read_dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), next.join(entry.file_name())).expect("copy");
    }
    let manifest = next.join("manifest.json");
    let mut m: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).expect("read")).expect("json");
    m["version"] = Value::from("29990101T000000.000Z");
    std::fs::write(&manifest, m.to_string()).expect("write");
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    let reloaded = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (_, body) = server.request("GET", "/v1/models", "");
        body.contains("29990101T000000.000Z")
    });
    assert!(reloaded, "SIGHUP did not load the new version");
    assert!(server.stop().success(), "graceful shutdown exits 0");
}

/// Every ```sh block in docs/api.md runs against a live server (with the documented address
/// replaced by the test's) and exits 0 with JSON (or Prometheus text) on stdout.
#[test]
fn api_doc_examples_run() {
    let doc = std::fs::read_to_string(repo().join("docs/api.md")).expect("docs/api.md");
    let blocks: Vec<&str> = doc
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().expect("closed block"))
        .collect();
    assert!(
        blocks.len() >= 6,
        "docs/api.md has {} sh examples",
        blocks.len()
    );
    let server = Server::start(&[
        "--models",
        s(&repo().join("models")),
        "--rules",
        s(&repo().join("rules/default.toml")),
        "--admin-token",
        "change-me-admin",
    ]);
    let url = format!("http://{}", server.addr);
    for block in blocks {
        let script = block.replace("http://127.0.0.1:8080", &url);
        let out = Command::new("sh")
            .args(["-ec", &script])
            .current_dir(repo())
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "example failed:\n{script}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let first = stdout.trim_start();
        assert!(!first.is_empty(), "example printed nothing:\n{script}");
        if first.starts_with('{') || first.starts_with('[') {
            // One or more JSON documents (several commands, or NDJSON), nothing else.
            for doc in serde_json::Deserializer::from_str(first).into_iter::<Value>() {
                doc.unwrap_or_else(|e| panic!("not JSON ({e}):\n{script}\n{stdout}"));
            }
        }
    }
    assert!(server.stop().success());
}
