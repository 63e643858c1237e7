//! A TCP proxy in front of moto that tests switch between forwarding,
//! refusing connections, and accepting them but never answering (a hung
//! dependency). Switching drops connections already open, so the SDK's
//! pooled connections see the fault too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Close every connection at once (connection reset / refused).
    Refuse,
    /// Accept and read, never answer (a timeout).
    Hang,
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
        Mode::Forward => {
            let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
            tokio::select! {
                _ = copy_bidirectional(&mut client, &mut server) => {}
                _ = mode.changed() => {}
            }
        }
    }
}
