//! What the end-to-end suites that run `qualify serve` share: the binary, the checkout, and a
//! running server with a minimal HTTP/1.1 client (one request per connection,
//! `Content-Length` bodies only). Each suite builds its own `serve` command line (models,
//! store, drain period) and hands it to [`Server::spawn`].

#![allow(dead_code)] // each suite uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};

use serde_json::Value;

/// The `qualify` binary under test.
pub fn qualify() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qualify"))
}

/// The checkout (bundled models, rules, sample data).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A running `qualify serve`; killed on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `command` (a `qualify serve` listening on `127.0.0.1:0`) and waits for the
    /// address it announces; its standard error is drained from then on, so the server never
    /// blocks on a full pipe.
    pub fn spawn(mut command: Command) -> Server {
        let mut child = command
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
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr }
    }

    /// One request; (status, body).
    pub fn request(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        try_request(self.addr, method, path, body).expect("an HTTP answer")
    }

    /// One request whose answer is JSON; (status, body).
    pub fn json(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = self.request(method, path, body);
        (status, serde_json::from_str(&text).expect("JSON body"))
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        self.child.wait().expect("wait")
    }

    /// SIGKILL, and wait for it.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `addr`; (status, body), or `None` when the connection fails or
/// ends without a whole answer (a killed server).
pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "this client reads only Content-Length bodies"
    );
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}
