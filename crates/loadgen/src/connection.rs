//! One keep-alive connection: it sends the requests the pacer hands it, in order, and tallies
//! each answer against the time the request was due.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::outcome::Tally;
use crate::{LoadError, Target};

/// Which requests count, and how long answers are awaited.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Requests due before this are the warm-up: sent, not recorded.
    pub(crate) record_from: Instant,
    /// The end of the measured window (for the achieved rate).
    pub(crate) record_until: Instant,
    /// Requests not answered by then are counted as unfinished.
    pub(crate) give_up_at: Instant,
}

#[derive(Debug)]
pub(crate) struct Connection {
    target: Target,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub(crate) async fn open(target: &Target) -> Result<Self, LoadError> {
        Ok(Self {
            target: target.clone(),
            sender: handshake(target).await?,
        })
    }

    /// Sends every request handed over until the pacer is done, then returns the tally.
    pub(crate) async fn drive(
        mut self,
        mut requests: UnboundedReceiver<Instant>,
        window: Window,
    ) -> Tally {
        let mut tally = Tally::default();
        while let Some(due) = requests.recv().await {
            let recorded = due >= window.record_from;
            if Instant::now() >= window.give_up_at {
                if recorded {
                    tally.counts.unfinished += 1;
                }
                continue;
            }
            let sent = Instant::now();
            let answer = tokio::time::timeout_at(window.give_up_at.into(), self.exchange()).await;
            let done = Instant::now();
            match answer {
                Err(_elapsed) => {
                    if recorded {
                        tally.counts.unfinished += 1;
                    }
                }
                Ok(Ok(status)) => {
                    if recorded {
                        tally.record(due, sent, done, status, window.record_until);
                    }
                }
                // The next exchange opens a new connection if this one is gone.
                Ok(Err(error)) => {
                    if recorded {
                        tally.counts.errors += 1;
                    }
                    tally.note_error(error);
                }
            }
        }
        tally
    }

    /// One request and its whole answer; the answer's status.
    async fn exchange(&mut self) -> Result<u16, String> {
        if self.sender.ready().await.is_err() {
            // The connection is gone: the server closed it after its last answer
            // (`Connection: close`, HTTP/1.0), or the previous request failed. Nothing was
            // sent on it yet, so a client opens another one, on this request's time; if that
            // fails too, this request fails.
            self.sender = handshake(&self.target).await.map_err(|e| e.to_string())?;
            self.sender.ready().await.map_err(|e| e.to_string())?;
        }
        let response = self
            .sender
            .send_request(self.target.request())
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("reading the answer's body: {e}"))?;
        Ok(status)
    }
}

async fn handshake(target: &Target) -> Result<SendRequest<Full<Bytes>>, LoadError> {
    let stream = TcpStream::connect(target.authority.as_str())
        .await
        .map_err(|reason| LoadError::Connect {
            address: target.authority.clone(),
            reason,
        })?;
    // Requests are small and answered one at a time: send each at once, as wrk does.
    stream
        .set_nodelay(true)
        .map_err(|reason| LoadError::Connect {
            address: target.authority.clone(),
            reason,
        })?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|reason| LoadError::Handshake {
            address: target.authority.clone(),
            reason,
        })?;
    // The connection's own errors come back through the sender's next request.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}
