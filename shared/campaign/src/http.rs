//! The HTTP client for Truecaller's Verified Campaign webhook endpoint:
//! built once at cold start (connection pool, TLS with the system's roots),
//! every attempt bounded by a timeout covering connect, send and the
//! answer.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::OrgToken;

/// At most this much of an answer's body is kept (for the dead letter).
pub const SNIPPET_BYTES: usize = 512;

/// What one push attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// 2xx.
    Accepted { status: u16 },
    /// An answer a retry cannot change (4xx other than 408/425/429, or an
    /// unexpected 1xx/3xx).
    Rejected { status: u16, snippet: String },
    /// 5xx, 408, 425, 429, a timeout or a connection failure.
    Retryable { reason: String, status: Option<u16>, snippet: Option<String> },
}

impl PushOutcome {
    pub fn classify(status: u16, body: &[u8]) -> Self {
        let snippet = || snippet(body);
        match status {
            200..=299 => PushOutcome::Accepted { status },
            408 | 425 | 429 | 500..=599 => PushOutcome::Retryable {
                reason: format!("http_{status}"),
                status: Some(status),
                snippet: Some(snippet()),
            },
            _ => PushOutcome::Rejected { status, snippet: snippet() },
        }
    }
}

/// The start of a body as text, cut on a character boundary.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET_BYTES)]);
    text.trim_end_matches('\u{fffd}').to_owned()
}

#[derive(Clone)]
pub struct TruecallerClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Uri,
    org_id: HeaderValue,
    token: HeaderValue,
    timeout: Duration,
}

impl std::fmt::Debug for TruecallerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TruecallerClient").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("loading the system's TLS roots failed: {0}")]
    Tls(std::io::Error),
    #[error("{0} is not a valid header value")]
    Header(&'static str),
}

impl TruecallerClient {
    pub fn new(endpoint: Uri, org_id: &str, token: &OrgToken, timeout: Duration) -> Result<Self, ClientError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(ClientError::Tls)?
            // Plain http only reaches here for loopback (checked in config).
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(50)).build(https);
        let org_id = HeaderValue::from_str(org_id).map_err(|_| ClientError::Header("TRUECALLER_ORG_ID"))?;
        let mut token = HeaderValue::from_str(token.expose()).map_err(|_| ClientError::Header("org token"))?;
        token.set_sensitive(true);
        Ok(Self { client, endpoint, org_id, token, timeout })
    }

    pub fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    /// One POST of a campaign body.
    pub async fn push_once(&self, body: &str) -> PushOutcome {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("x-org-id", self.org_id.clone())
            .header("x-org-token", self.token.clone())
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .expect("a request from valid parts");
        let attempt = async {
            let response = self.client.request(request).await.map_err(|e| connection_reason(&e))?;
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map_err(|_| "body_read_failed".to_owned())?.to_bytes();
            Ok::<_, String>(PushOutcome::classify(status, &body))
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(reason)) => PushOutcome::Retryable { reason, status: None, snippet: None },
            Err(_) => PushOutcome::Retryable { reason: "timeout".into(), status: None, snippet: None },
        }
    }
}

fn connection_reason(err: &hyper_util::client::legacy::Error) -> String {
    if err.is_connect() { "connect_failed".into() } else { "connection_error".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_whether_a_retry_can_help() {
        assert_eq!(PushOutcome::classify(202, b""), PushOutcome::Accepted { status: 202 });
        assert!(matches!(PushOutcome::classify(503, b"busy"), PushOutcome::Retryable { status: Some(503), .. }));
        assert!(matches!(PushOutcome::classify(429, b""), PushOutcome::Retryable { .. }));
        assert!(matches!(PushOutcome::classify(408, b""), PushOutcome::Retryable { .. }));
        assert_eq!(
            PushOutcome::classify(400, b"{\"error\":\"bad\"}"),
            PushOutcome::Rejected { status: 400, snippet: "{\"error\":\"bad\"}".into() }
        );
        assert!(matches!(PushOutcome::classify(301, b""), PushOutcome::Rejected { status: 301, .. }));
    }

    #[test]
    fn snippets_are_bounded_and_cut_on_a_character() {
        let long = "é".repeat(600);
        let cut = snippet(long.as_bytes());
        assert!(cut.len() <= SNIPPET_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
