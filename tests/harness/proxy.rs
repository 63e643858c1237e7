//! A TCP proxy in front of moto that tests switch between forwarding,
//! refusing connections, and accepting them but never answering (a hung
//! dependency). Switching drops connections already open, so the SDK's
//! pooled connections see the fault too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Close every connection at once (connection reset / refused).
    Refuse,
    /// Accept and read, never answer (a timeout).
    Hang,
    /// Answer every request with DynamoDB's throttling error (HTTP 400,
    /// `ProvisionedThroughputExceededException`), which the SDK retries.
    Throttle,
}

pub struct FaultProxy {
    pub endpoint: String,
    mode: watch::Sender<Mode>,
    connections: Arc<AtomicU64>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:port`) on a free port.
    pub async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
        let (mode, _) = watch::channel(Mode::Forward);
        let connections = Arc::new(AtomicU64::new(0));
        let rx = mode.subscribe();
        let counter = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(client, upstream.clone(), rx.clone()));
            }
        });
        Self { endpoint, mode, connections }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn serve(mut client: TcpStream, upstream: String, mut mode: watch::Receiver<Mode>) {
    let current = *mode.borrow_and_update();
    match current {
        Mode::Refuse => {}
        Mode::Hang => {
            // Hold the connection until the mode changes; never answer.
            let _ = mode.changed().await;
        }
        Mode::Throttle => {
            // Biased: a mode change wins over a request that arrived with it.
            tokio::select! {
                biased;
                _ = mode.changed() => {}
                _ = async { while answer_throttled(&mut client).await {} } => {}
            }
        }
        Mode::Forward => {
            let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
            tokio::select! {
                biased;
                _ = mode.changed() => {}
                _ = copy_bidirectional(&mut client, &mut server) => {}
            }
        }
    }
}

/// Reads one HTTP request and answers it with a throttling error; false
/// when the connection is done.
async fn answer_throttled(client: &mut TcpStream) -> bool {
    let mut request = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let headers = String::from_utf8_lossy(&request[..header_end]).to_ascii_lowercase();
    let length: usize = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < header_end + length {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate of requests exceeds the allowed throughput."}"#;
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-requestid: throttled\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await.is_ok()
}
