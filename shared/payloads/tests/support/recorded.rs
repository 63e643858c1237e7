//! One recorded API Gateway request (`events/<provider>/*.json`), read into
//! what a parser sees, the way the pipeline hands it over. Shared by the
//! parser benchmarks, the instruction counter and the golden tests
//! (`#[path]`-included by each), so all of them measure and pin exactly the
//! same events, read the same way.

use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use payloads::Delivery;
use serde_json::Value;

/// The recorded events of `provider` (`events/<provider>/*.json`), sorted
/// by file name.
pub fn files(provider: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events").join(provider);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("events directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// One recorded API Gateway request, read into what a parser sees.
#[allow(dead_code)] // each includer reads its own subset of the fields
pub struct Recorded {
    pub name: String,
    pub method: String,
    pub path: String,
    pub trigger: Option<String>,
    pub token: Option<String>,
    /// Query pairs without `key`, in order.
    pub query: Vec<(String, String)>,
    /// The query string without `key`, re-encoded (the form floor's input).
    pub query_string: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

impl Recorded {
    pub fn load(path: &Path) -> Self {
        let text = std::fs::read_to_string(path).expect("read recorded event");
        let event: Value = serde_json::from_str(&text).expect("recorded event is JSON");
        let str_at = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        let header = |name: &str| {
            event["headers"]
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .and_then(|(_, v)| v.as_str())
                .map(|v| v.trim().to_owned())
        };
        let mut token = None;
        let mut query = Vec::new();
        let raw_query = str_at("/rawQueryString").unwrap_or_default();
        for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
            if k == "key" {
                token.get_or_insert_with(|| v.into_owned());
            } else {
                query.push((k.into_owned(), v.into_owned()));
            }
        }
        if token.is_none() {
            token = header("x-webhook-token");
        }
        let query_string = form_urlencoded::Serializer::new(String::new()).extend_pairs(query.iter()).finish();
        let content_type = header("content-type")
            .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .filter(|ct| !ct.is_empty());
        let body = match event.get("body").and_then(Value::as_str) {
            None => Vec::new(),
            Some(b) if event["isBase64Encoded"].as_bool() == Some(true) => {
                base64::engine::general_purpose::STANDARD.decode(b).expect("base64 body")
            }
            Some(b) => b.as_bytes().to_vec(),
        };
        let received_at = event
            .pointer("/requestContext/timeEpoch")
            .and_then(Value::as_i64)
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .unwrap_or_else(|| Utc.with_ymd_and_hms(2025, 8, 1, 0, 0, 0).unwrap());
        Self {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            method: str_at("/requestContext/http/method").unwrap_or_else(|| "POST".into()).to_ascii_uppercase(),
            path: str_at("/rawPath").unwrap_or_default(),
            trigger: str_at("/pathParameters/trigger"),
            token,
            query,
            query_string,
            content_type,
            body,
            received_at,
        }
    }

    pub fn delivery(&self) -> Delivery<'_> {
        Delivery {
            method: &self.method,
            path: &self.path,
            trigger: self.trigger.as_deref(),
            query: &self.query,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}
