//! Golden results of every recorded event (`events/<provider>/*.json`):
//! what each parser makes of it (the normalised event as stored, the task
//! JSON, the rejection or the decode error), compared with the snapshots in
//! `tests/golden/<provider>.json`. They pin the parsers' behaviour while
//! their insides change for speed (issue 6).
//!
//! Regenerate after a deliberate change of behaviour (and review the diff):
//! `UPDATE_GOLDEN=1 cargo test -p payloads --test golden`.

use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use payloads::{CallbackTask, Delivery, ParseContext, ProviderParser};
use serde_json::{Value, json};

/// One recorded API Gateway request, read as the pipeline hands it over
/// (the same reading as `benches/parsers.rs`).
struct Recorded {
    method: String,
    path: String,
    trigger: Option<String>,
    query: Vec<(String, String)>,
    content_type: Option<String>,
    body: Vec<u8>,
    received_at: DateTime<Utc>,
}

impl Recorded {
    fn load(path: &Path) -> Self {
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
        let raw_query = str_at("/rawQueryString").unwrap_or_default();
        let query = form_urlencoded::parse(raw_query.as_bytes())
            .filter(|(k, _)| k != "key")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
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
            method: str_at("/requestContext/http/method").unwrap_or_else(|| "POST".into()).to_ascii_uppercase(),
            path: str_at("/rawPath").unwrap_or_default(),
            trigger: str_at("/pathParameters/trigger"),
            query,
            content_type,
            body,
            received_at,
        }
    }

    fn delivery(&self) -> Delivery<'_> {
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

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Everything a parser decides for one delivery, as JSON.
fn parse_result(parser: &dyn ProviderParser, recorded: &Recorded) -> Value {
    let ctx = ParseContext::new(recorded.received_at);
    match parser.parse(&recorded.delivery(), &ctx) {
        Err(err) => json!({ "decode_error": format!("{err:?}") }),
        Ok(events) => Value::Array(
            events
                .iter()
                .map(|parsed| match &parsed.outcome {
                    Ok(event) => json!({
                        "raw": parsed.raw,
                        "event": event.to_json(),
                        "callback": format!("{:?}", event.callback),
                        "task": CallbackTask::for_event(event)
                            .map(|task| serde_json::from_str::<Value>(&task.to_json()).expect("task JSON")),
                    }),
                    Err(rejection) => json!({
                        "raw": parsed.raw,
                        "rejection": {
                            "reason": rejection.reason,
                            "detail": rejection.detail,
                            "event_type": rejection.event_type,
                        },
                    }),
                })
                .collect(),
        ),
    }
}

/// Every recorded event of `provider`, by file name, whatever its token.
fn results(provider: &str, parser: &dyn ProviderParser) -> Value {
    let dir = root().join("../../events").join(provider);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("events directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = serde_json::Map::new();
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.insert(name, parse_result(parser, &Recorded::load(&path)));
    }
    Value::Object(out)
}

fn check(provider: &str, parser: &dyn ProviderParser) {
    let actual = results(provider, parser);
    let snapshot = root().join("tests/golden").join(format!("{provider}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&snapshot).expect("golden snapshot (UPDATE_GOLDEN=1 writes it)");
    let expected: Value = serde_json::from_str(&text).expect("snapshot is JSON");
    let (Value::Object(expected), Value::Object(actual)) = (&expected, &actual) else { unreachable!() };
    assert_eq!(expected.keys().collect::<Vec<_>>(), actual.keys().collect::<Vec<_>>(), "{provider}: recorded events");
    for (name, want) in expected {
        assert_eq!(&actual[name], want, "{provider}/{name} differs from its golden result");
    }
}

#[test]
fn truecaller_events_match_their_golden_results() {
    check("truecaller", &Truecaller);
}

#[test]
fn curious_thing_events_match_their_golden_results() {
    check("curious-thing", &CuriousThing);
}

#[test]
fn smartflo_events_match_their_golden_results() {
    check("smartflo", &Smartflo);
}

#[test]
fn wavix_events_match_their_golden_results() {
    check("wavix", &Wavix);
}
