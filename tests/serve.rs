//! End to end over a real socket: train on synthetic data, start `qualify serve` on an
//! ephemeral port, and check that `/v1/score` and `/v1/score/batch` give what the batch
//! commands give for the same leads — the propensity what `qualify score` computes from the
//! flat CSV (to 1e-6), the rules part what `qualify rules score` computes from the records.
//! The server reads canonical records with `activities`; `qualify score` reads the flat
//! `<type>_count` / `last_activity_at` columns: agreement means the two forms meet in one
//! encoder. The challenger (a different model) is held to its own batch scores while the
//! champion's decide. Also runs every curl example in docs/api.md against the server and
//! compares the answers with the documented ones, and checks what only a real process shows:
//! settings refused before listening, signals, draining, connection timeouts, bounded
//! shutdown.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, qualify, repo, s};
use serde_json::Value;

const AS_OF: &str = "2026-06-30T00:00:00Z";

fn ok(args: &[&str]) {
    let out = qualify().args(args).output().expect("run qualify");
    assert!(
        out.status.success(),
        "qualify {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Server {
    /// Starts `qualify serve` on a free port; without a drain period unless `args` set one
    /// (the default 5 s would slow every test's stop).
    fn start(args: &[&str]) -> Server {
        let drain: &[&str] = if args.contains(&"--drain-ms") {
            &[]
        } else {
            &["--drain-ms", "0"]
        };
        // No store unless the test names one (the default would be var/ in the checkout).
        let store: &[&str] = if args.contains(&"--store") {
            &[]
        } else {
            &["--store", "none"]
        };
        let mut command = qualify();
        command
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(drain)
            .args(store)
            .args(args);
        Server::spawn(command)
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

    // The GBM is the challenger in shadow: answers must hold the logistic model's propensity
    // (the champion decides) and the GBM's beside it, each equal to `qualify score`.
    let server = Server::start(&[
        "--models",
        s(&models),
        "--default-model",
        "logistic",
        "--rules",
        s(&rules_file),
        "--challenger",
        s(&models.join("gbm")),
        "--shadow-in-response",
    ]);
    let mut scores_by_kind = HashMap::new();
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
        scores_by_kind.insert(kind, read_scores(&scores_path));
    }
    let mut disagreements = 0;
    for kind in kinds {
        let scores = &scores_by_kind[kind];
        let shadow_scores = &scores_by_kind["gbm"];
        let query = format!("?model={kind}&as_of={AS_OF}");
        for lead in leads.iter().take(60) {
            let (status, body) =
                server.request("POST", &format!("/v1/score{query}"), &lead.to_string());
            assert_eq!(status, 200, "{body}");
            let result: Value = serde_json::from_str(&body).expect("json");
            check_against_batch(&result, lead, scores, &rules);
            let explanation = &result["explanation"];
            assert!(explanation["top_positive"].is_array(), "{kind}: {result}");
            let id = lead["id"].as_str().expect("id");
            let shadow = result["shadow"]["propensity"].as_f64().expect("shadow");
            assert!(
                (shadow - shadow_scores[id]).abs() <= 1e-6,
                "{id}: shadow {shadow} vs qualify score (gbm) {}",
                shadow_scores[id]
            );
            assert_eq!(result["shadow"]["model"]["name"], "gbm");
            disagreements += usize::from((shadow - scores[id]).abs() > 1e-3);
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
                check_against_batch(result, lead, scores, &rules);
            }
        }
    }
    assert!(
        disagreements > 10,
        "the two models agree on almost every lead ({disagreements} differ): the check shows nothing"
    );
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

/// The ```sh examples of docs/api.md, each with the ```json answer documented after it (if
/// any, before the next example).
fn doc_examples(doc: &str) -> Vec<(String, Option<Value>)> {
    let mut examples: Vec<(String, Option<Value>)> = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let (lang, body) = after.split_once('\n').expect("a fenced block");
        let end = body.find("```").expect("closed block");
        let text = &body[..end];
        match lang.trim() {
            "sh" => examples.push((text.to_string(), None)),
            "json" => {
                if let Some(last) = examples.last_mut()
                    && last.1.is_none()
                {
                    let answer = serde_json::from_str(text)
                        .unwrap_or_else(|e| panic!("documented answer is not JSON ({e}):\n{text}"));
                    last.1 = Some(answer);
                }
            }
            _ => {}
        }
        rest = &body[end + 3..];
    }
    examples
}

/// Whether `actual` is what the abridged `documented` answer shows: every documented key
/// with its value; `"…"` stands for anything, `"text…"` for a string that starts so, and a
/// trailing `"…"` in an array for more elements; a number matches to the digits shown.
fn shows(documented: &Value, actual: &Value, path: &str) -> Result<(), String> {
    let differ = || {
        Err(format!(
            "{path}: documented {documented}, answered {actual}"
        ))
    };
    match documented {
        Value::String(d) if d == "…" => Ok(()),
        Value::String(d) if d.ends_with('…') => match actual.as_str() {
            Some(a) if a.starts_with(d.trim_end_matches('…')) => Ok(()),
            _ => differ(),
        },
        Value::Number(d) => {
            let shown = d.to_string();
            let decimals = shown.split_once('.').map_or(0, |(_, f)| f.len());
            let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + 1e-12;
            match (d.as_f64(), actual.as_f64()) {
                (Some(d), Some(a)) if (d - a).abs() <= tolerance => Ok(()),
                _ => differ(),
            }
        }
        Value::Object(d) => {
            for (key, value) in d {
                let a = actual
                    .get(key)
                    .ok_or_else(|| format!("{path}.{key}: missing"))?;
                shows(value, a, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        Value::Array(d) => {
            let Some(a) = actual.as_array() else {
                return differ();
            };
            let open = d.last().is_some_and(|l| l == "…");
            let shown = if open { &d[..d.len() - 1] } else { &d[..] };
            if a.len() < shown.len() || (!open && a.len() != shown.len()) {
                return differ();
            }
            for (i, (d, a)) in shown.iter().zip(a).enumerate() {
                shows(d, a, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ if documented == actual => Ok(()),
        _ => differ(),
    }
}

/// Every ```sh block in docs/api.md runs against a live server (with the documented address
/// replaced by the test's): every curl uses `--fail-with-body`, an example documented with a
/// JSON answer prints that answer (an error answer exits 22, curl's code for an HTTP error),
/// and the others exit 0 printing JSON (or Prometheus text).
#[test]
fn api_doc_examples_run_and_answer_what_the_doc_shows() {
    let doc = std::fs::read_to_string(repo().join("docs/api.md")).expect("docs/api.md");
    let examples = doc_examples(&doc);
    assert!(
        examples.len() >= 8,
        "docs/api.md has {} sh examples",
        examples.len()
    );
    assert!(
        examples
            .iter()
            .filter(|(_, answer)| answer.is_some())
            .count()
            >= 3,
        "docs/api.md documents too few answers"
    );
    // The store routes' examples need a store: a fresh one.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite://{}", dir.path().join("store.db").display());
    let server = Server::start(&[
        "--models",
        s(&repo().join("models")),
        "--rules",
        s(&repo().join("rules/default.toml")),
        "--admin-token",
        "change-me-admin",
        "--store",
        &store,
    ]);
    let url = format!("http://{}", server.addr);
    for (block, answer) in examples {
        for command in block.split("curl ").skip(1) {
            assert!(
                command.contains("--fail-with-body"),
                "curl without --fail-with-body:\n{block}"
            );
        }
        let script = block.replace("http://127.0.0.1:8080", &url);
        let out = Command::new("sh")
            .args(["-ec", &script])
            .current_dir(repo())
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let fails = answer.as_ref().is_some_and(|a| a.get("error").is_some());
        assert_eq!(
            out.status.code(),
            Some(if fails { 22 } else { 0 }),
            "example:\n{script}\nstdout: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let first = stdout.trim_start();
        assert!(!first.is_empty(), "example printed nothing:\n{script}");
        if first.starts_with('{') || first.starts_with('[') {
            // One or more JSON documents (several commands, or NDJSON), nothing else.
            let docs: Vec<Value> = serde_json::Deserializer::from_str(first)
                .into_iter::<Value>()
                .map(|d| d.unwrap_or_else(|e| panic!("not JSON ({e}):\n{script}\n{stdout}")))
                .collect();
            if let Some(answer) = &answer {
                shows(answer, &docs[0], "$")
                    .unwrap_or_else(|e| panic!("docs/api.md shows another answer: {e}\n{script}"));
            }
        } else {
            assert!(
                answer.is_none(),
                "a documented JSON answer, but not JSON:\n{stdout}"
            );
        }
    }
    assert!(server.stop().success());
}

fn signal(server: &Server, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

/// Waits up to `limit` for the server to exit; its exit status, or None if it is still
/// running (a liveness bound, not a speed measure).
fn exits_within(
    server: &mut Server,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

fn bundled() -> [String; 4] {
    [
        "--models".into(),
        s(&repo().join("models")).into(),
        "--rules".into(),
        s(&repo().join("rules/default.toml")).into(),
    ]
}

fn start_bundled(extra: &[&str]) -> Server {
    let base = bundled();
    let args: Vec<&str> = base
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        .collect();
    Server::start(&args)
}

/// Issue 11, bug 5: a setting out of range, from a flag, the environment or the file, is an
/// error that names it, before anything listens (it was a panic, exit 101, after "listening").
#[test]
fn an_out_of_range_setting_is_an_error_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("serve.toml");
    std::fs::write(&file, "max_concurrency = 2305843009213693952\n").expect("write");
    let huge = "2305843009213693952";
    // (flags, environment): the same value from each layer.
    type Run<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let runs: Vec<Run> = vec![
        (vec!["--max-concurrency", huge], vec![]),
        (vec![], vec![("QUALIFY_MAX_CONCURRENCY", huge)]),
        (vec!["--config", s(&file)], vec![]),
    ];
    for (args, env) in runs {
        let out = qualify()
            .arg("serve")
            .args(bundled())
            .args(["--addr", "127.0.0.1:0", "--store", "none"])
            .args(&args)
            .envs(env.iter().copied())
            .output()
            .expect("run qualify serve");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("max_concurrency"), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}

/// Issue 11, bug 7: after SIGTERM the server keeps listening for the drain period with
/// /readyz at 503 `draining` (so a balancer can see it), then exits 0.
#[test]
fn sigterm_drains_with_readyz_at_503_then_exits() {
    let mut server = start_bundled(&["--drain-ms", "2000"]);
    let (status, body) = server.request("GET", "/readyz", "");
    assert_eq!(status, 200, "{body}");
    signal(&server, "TERM");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, body) = server.request("GET", "/readyz", "");
    assert_eq!(status, 503, "{body}");
    let ready: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(ready["status"], "draining");
    let (status, _) = server.request("POST", "/v1/score", "{}");
    assert_eq!(status, 200, "scoring goes on while draining");
    let exit = exits_within(&mut server, std::time::Duration::from_secs(30)).expect("exits");
    assert!(exit.success(), "{exit}");
}

/// Issue 11, bug 7: SIGHUP is handled from the moment "listening" is printed (it used to be
/// installed afterwards, and an early SIGHUP killed the process).
#[test]
fn sighup_sent_as_soon_as_listening_is_announced_reloads() {
    let server = start_bundled(&[]);
    signal(&server, "HUP");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, _) = server.request("GET", "/healthz", "");
    assert_eq!(status, 200);
    let reloaded = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let (_, body) = server.request("GET", "/metrics", "");
        body.contains("qualify_reloads_total{outcome=\"ok\"} 1")
    });
    assert!(reloaded, "the SIGHUP reload was not counted");
    assert!(server.stop().success());
}

/// Issue 11, R2: connections that sit idle or trickle their headers are closed after the
/// header timeout.
#[test]
fn idle_and_trickling_connections_are_closed() {
    let server = start_bundled(&["--header-timeout-ms", "300"]);
    for first_bytes in [&b""[..], b"GET /healthz HTTP/1.1\r\nHo"] {
        let mut stream = TcpStream::connect(server.addr).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("timeout");
        stream.write_all(first_bytes).expect("write");
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(
            read.is_ok(),
            "the server kept a connection open ({:?} sent): {read:?}",
            String::from_utf8_lossy(first_bytes)
        );
    }
    // A connection that sends its request in time is served.
    assert_eq!(server.request("GET", "/healthz", "").0, 200);
    assert!(server.stop().success());
}

/// Issue 11, R3: an NDJSON stream that never ends delays shutdown by at most the shutdown
/// timeout.
#[test]
fn an_endless_stream_delays_shutdown_at_most_the_shutdown_timeout() {
    // The body timeout is long, so only the shutdown timeout can end the stream.
    let mut server = start_bundled(&[
        "--drain-ms",
        "0",
        "--shutdown-timeout-ms",
        "500",
        "--body-timeout-ms",
        "600000",
    ]);
    let mut stream = TcpStream::connect(server.addr).expect("connect");
    write!(
        stream,
        "POST /v1/score/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
    .expect("write head");
    let line = b"{\"id\": \"a\"}\n";
    write!(stream, "{:x}\r\n", line.len()).expect("chunk size");
    stream.write_all(line).expect("chunk");
    stream.write_all(b"\r\n").expect("chunk end");
    let mut first = [0u8; 64];
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let n = stream.read(&mut first).expect("the answer's head");
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    signal(&server, "TERM");
    let exit = exits_within(&mut server, std::time::Duration::from_secs(15));
    assert!(
        exit.is_some(),
        "an open stream kept the server from exiting"
    );
    drop(stream);
}

/// Issue 11, R4: a reload stuck on a file read (a FIFO nobody writes to) does not keep
/// SIGTERM from stopping the server.
#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_while_a_reload_hangs_on_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.toml");
    std::fs::copy(repo().join("rules/default.toml"), &rules).expect("copy");
    let mut server = Server::start(&[
        "--models",
        s(&repo().join("models")),
        "--rules",
        s(&rules),
        "--drain-ms",
        "0",
        "--reload-timeout-ms",
        "500",
    ]);
    std::fs::remove_file(&rules).expect("rm");
    assert!(
        Command::new("mkfifo")
            .arg(&rules)
            .status()
            .expect("mkfifo")
            .success()
    );
    signal(&server, "HUP");
    let degraded = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        server.request("GET", "/readyz", "").1.contains("degraded")
    });
    assert!(
        degraded,
        "a reload stuck past its timeout leaves /readyz ready"
    );
    signal(&server, "TERM");
    let exit = exits_within(&mut server, std::time::Duration::from_secs(15));
    // Unblock the read whatever happened, so no thread is left behind.
    let fifo = rules.clone();
    std::thread::spawn(move || drop(std::fs::OpenOptions::new().write(true).open(fifo)));
    assert!(
        exit.is_some(),
        "SIGTERM did not stop a server whose reload hangs"
    );
}

/// Issue 11, R9: `--help` steers tokens away from the command line, where `ps` shows them.
#[test]
fn help_says_to_give_tokens_in_the_environment_or_a_file() {
    let out = qualify().args(["serve", "--help"]).output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--admin-token-file",
        "--api-token-file",
        "prefer QUALIFY_ADMIN_TOKEN or --admin-token-file",
        "[env: QUALIFY_MAX_QUEUED_LEADS=]",
        "[default: 2000]",
    ] {
        assert!(help.contains(needle), "{needle:?} not in --help:\n{help}");
    }
}
