//! Shared by the fuzz targets: how fuzz bytes become a delivery, and the
//! invariants every parse must keep (beyond "does not panic").
//!
//! Input layout for the parser targets (seeds in `fuzz/seeds/<target>/` are
//! written in it by `fuzz/make_seeds.py`):
//!
//! ```text
//! byte 0   selector: bits 0-1 method, bits 2-4 content type
//! byte 1   Smartflo trigger choice (other targets ignore it)
//! rest     query \0 body   (no \0: all body for POST, all query for GET)
//! ```

use chrono::{DateTime, TimeZone, Utc};
use payloads::providers::smartflo::TRIGGERS;
use payloads::{CallbackDecision, CallbackTask, EventKey, ParseContext, ParsedEvent, PhoneNumber, ProviderParser};

#[cfg(feature = "request")]
pub mod request;

pub const METHODS: [&str; 4] = ["POST", "POST", "GET", "PUT"];

pub const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("application/json"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded"),
    Some("application/cloudevents+json"),
    Some("application/xml"),
    Some("multipart/form-data"),
];

/// One delivery decoded from fuzz bytes, owning what a `Delivery` borrows.
pub struct Input<'a> {
    pub method: &'static str,
    pub content_type: Option<&'static str>,
    pub path: String,
    pub trigger: Option<String>,
    pub query: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn decode(provider_path: &str, data: &'a [u8]) -> Option<Self> {
        let (&selector, rest) = data.split_first()?;
        let (&trigger_byte, rest) = rest.split_first()?;
        let method = METHODS[usize::from(selector & 3)];
        let content_type = CONTENT_TYPES[usize::from((selector >> 2) & 7)];
        let (query, body) = match rest.iter().position(|&b| b == 0) {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None if method == "GET" => (rest, &[][..]),
            None => (&[][..], rest),
        };
        let query: Vec<(String, String)> =
            form_urlencoded::parse(query).map(|(k, v)| (k.into_owned(), v.into_owned())).filter(|(k, _)| k != "key").collect();
        // Smartflo: 16 path parameters, the last-path-segment fallback, and
        // an unknown trigger.
        let index = usize::from(trigger_byte) % 18;
        let (path, trigger) = match index {
            0..16 => (format!("{provider_path}/{}", TRIGGERS[index]), Some(TRIGGERS[index].to_owned())),
            16 => (format!("{provider_path}/{}", TRIGGERS[usize::from(trigger_byte) % 16].to_uppercase()), None),
            _ => (format!("{provider_path}/no-such-trigger"), Some("no-such-trigger".to_owned())),
        };
        Some(Self { method, content_type, path, trigger, query, body })
    }

    pub fn delivery(&self) -> payloads::Delivery<'_> {
        payloads::Delivery {
            method: self.method,
            path: &self.path,
            trigger: self.trigger.as_deref(),
            query: &self.query,
            content_type: self.content_type,
            body: self.body,
        }
    }
}

pub fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 1, 9, 0, 0).single().expect("valid time")
}

pub fn ctx() -> ParseContext {
    ParseContext::new(received_at())
}

/// Fuzz entry point of the parser targets.
pub fn run(parser: &dyn ProviderParser, provider_path: &str, data: &[u8]) {
    if let Some(input) = Input::decode(provider_path, data) {
        check_parse(parser, &input.delivery());
    }
}

/// Parses one delivery twice and checks every invariant of the result.
pub fn check_parse(parser: &dyn ProviderParser, delivery: &payloads::Delivery<'_>) {
    let ctx = ctx();
    let first = parser.parse(delivery, &ctx);
    let second = parser.parse(delivery, &ctx);
    assert_eq!(first, second, "parsing the same delivery twice gives the same result");
    let Ok(events) = first else { return };
    for event in &events {
        check_event(parser, delivery, event);
    }
}

/// `raw` is what the pipeline stores as `raw_body` and hashes for a
/// rejected record: it must be the body, a part of it (a batch element), or
/// for a delivery carried in the query, the query re-encoded losslessly.
fn check_raw(delivery: &payloads::Delivery<'_>, raw: &str) {
    let in_body = std::str::from_utf8(delivery.body).is_ok_and(|body| body.contains(raw));
    if in_body && !raw.is_empty() {
        return;
    }
    let decoded: Vec<(String, String)> =
        form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    assert_eq!(decoded, delivery.query, "raw is neither part of the body nor a faithful re-encoding of the query");
}

fn check_phone(phone: &PhoneNumber) {
    let e164 = phone.as_str();
    let digits = e164.strip_prefix('+').expect("E.164 starts with +");
    assert!((8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()), "not E.164: {e164}");
    assert!(!digits.starts_with('0'), "E.164 country codes never start with 0: {e164}");
    let again = PhoneNumber::parse(e164, payloads::PhoneRegion::INDIA).expect("an E.164 number re-parses");
    assert_eq!(&again, phone, "E.164 normalisation is idempotent");
}

fn check_event(parser: &dyn ProviderParser, delivery: &payloads::Delivery<'_>, parsed: &ParsedEvent) {
    check_raw(delivery, &parsed.raw);
    let event = match &parsed.outcome {
        Ok(event) => event,
        Err(rejection) => {
            assert!(!rejection.reason.is_empty(), "a rejection has a reason");
            return;
        }
    };
    assert_eq!(event.provider, parser.provider());
    let key = event.event_key.as_str();
    assert!(!key.is_empty(), "an accepted event has a key");
    assert_eq!(EventKey::parse(key).as_ref(), Ok(&event.event_key), "the key is valid and normalised");
    assert!(key.len() <= payloads::key::MAX_EVENT_KEY_LEN);
    let json = event.to_json();
    serde_json::to_string(&json).expect("the normalised event serialises");
    let task = CallbackTask::for_event(event);
    match &event.callback {
        CallbackDecision::Due(request) => {
            check_phone(&request.phone);
            request.alternate_phone.iter().for_each(check_phone);
            request.business_phone.iter().for_each(check_phone);
            if let Some(window) = request.window {
                assert!(window.from <= window.to, "a callback window ends after it starts");
            }
            let task = task.expect("a due callback gives a task");
            assert!(!task.task_id.is_empty());
            assert_eq!(task.message_group_id(), request.phone.as_str());
            assert_eq!(task.event_key, key);
            let body: serde_json::Value = serde_json::from_str(&task.to_json()).expect("the task is JSON");
            assert_eq!(body["phone"], request.phone.as_str());
        }
        CallbackDecision::NotDue | CallbackDecision::Unreachable { .. } => {
            assert!(task.is_none(), "no task without a due callback");
        }
    }
}
