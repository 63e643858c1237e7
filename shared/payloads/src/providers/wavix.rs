//! Wavix call webhooks (seed 004; variants and sources in
//! `docs/providers/wavix.md`).
//!
//! Wavix posts two kinds of callback to one URL:
//!
//! * **on-call**: one delivery per call status change, `event_type` one of
//!   `call_setup`, `ringing`, `early_media`, `answered`, `completed`, `busy`,
//!   `cancelled`, `rejected`, `on_call_event` (plus `failed`, `transfer` and
//!   the legacy `in_call_event`; anything else is stored as an unknown type).
//!   Event key `{uuid}#{event_type}#{event_time}`.
//! * **post-call**: one CDR-style delivery after the call ended
//!   (`disposition`, `duration`, `charge`, `date`, ...), without an
//!   `event_type`. Event key `{uuid}#post-call`.
//!
//! Identity is strict: the call UUID (canonical lower-case form), the event
//! time (normalised to RFC 3339 UTC, sub-second digits kept, so equal
//! instants in different textual forms give one key) and the customer's
//! number. Everything else is lenient: field aliases from older doc
//! versions, `null` vs `""`, numbers as strings, unknown enum values.
//!
//! # Which event produces the missed-call task
//!
//! A missed inbound call is visible twice: as an on-call terminal event
//! (`busy`, `cancelled`, `rejected`, `failed`, or `completed` without
//! `call_answered`) and as the post-call event (`disposition` other than
//! `answered`). Their keys differ, so if both produced a task one missed call
//! would give two callbacks. Only the **post-call** event produces the task:
//! it is sent exactly once per call and its key has no time in it, so every
//! redelivery maps to the same task. The on-call stream cannot promise that
//! (a call can report `busy` and then `completed`, each with its own
//! `event_time`, hence its own key). On-call terminal events still record
//! `answered` and `missed` in their attributes. Consequence for operators:
//! the receiver URL must be registered for Wavix's `post-call` webhook for
//! missed-call tasks to exist (see [`MISSED_CALL_TASK_SOURCE`]).
//!
//! # Batches
//!
//! Wavix sends one JSON object per delivery. A JSON array of objects (a relay
//! that batches) is accepted too: each element is its own event, with its own
//! exact text as `raw`. An empty array or a non-object element makes the
//! whole delivery undecodable (400).

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{is_syntax_error, json_text};
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::lenient::{is_sentinel, scalar_text};
use crate::{
    CallbackDecision, CallbackReason, CallbackRequest, DecodeError, EventKey, NormalisedEvent, PhoneNumber,
    PhoneRegion, Provider,
};

/// The Wavix receiver's parser.
#[derive(Debug, Default, Clone, Copy)]
pub struct Wavix;

/// The two callback kinds Wavix sends (its webhook `event_type` setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavixKind {
    OnCall,
    PostCall,
}

impl WavixKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            WavixKind::OnCall => "on-call",
            WavixKind::PostCall => "post-call",
        }
    }
}

/// The only kind of event that produces a `missed_call` task, so that one
/// missed call gives one task (module docs explain the choice).
pub const MISSED_CALL_TASK_SOURCE: WavixKind = WavixKind::PostCall;

/// The event type recorded for post-call events, and the key suffix.
pub const POST_CALL: &str = "post-call";

/// On-call event types we know. Others are stored as unknown, never refused.
pub const KNOWN_ON_CALL_TYPES: &[&str] = &[
    "call_setup",
    "ringing",
    "early_media",
    "answered",
    "completed",
    "busy",
    "cancelled",
    "rejected",
    "on_call_event",
    // Wavix Node SDK (2025-12 and later).
    "failed",
    "transfer",
    // Legacy name of `on_call_event` (Go SDK, Node SDK before 2025-12).
    "in_call_event",
];

// Field names by meaning, current name first, then the names older doc
// versions, SDKs and consumers use (docs/providers/wavix.md).
const CALL_ID: &[&str] = &["uuid", "id", "call_id", "call_uuid"];
const EVENT_TYPE: &[&str] = &["event_type", "event"];
const EVENT_TIME: &[&str] = &["event_time", "event_timestamp", "timestamp"];
const FROM: &[&str] = &["from", "caller", "from_number", "caller_id", "ani"];
const TO: &[&str] = &["to", "callee", "to_number", "called", "dnis"];
const DIRECTION: &[&str] = &["direction", "call_direction"];
const CALL_STARTED: &[&str] = &["call_started", "started_at", "start_time"];
const CALL_ANSWERED: &[&str] = &["call_answered", "answered_at", "answer_time"];
const CALL_COMPLETED: &[&str] = &["call_completed", "call_finished", "call_ended", "ended_at", "end_time"];
const DISPOSITION: &[&str] = &["disposition", "call_disposition", "status"];
const POST_CALL_DATE: &[&str] = &["date", "call_date"];
const BILLSEC: &[&str] = &["billsec", "bill_sec", "billable_seconds"];
/// Fields only a post-call (CDR) payload has; they identify one that
/// carries no `event_type`.
const POST_CALL_MARKERS: &[&str] = &["disposition", "call_disposition", "charge", "per_minute", "billsec"];

impl ProviderParser for Wavix {
    fn provider(&self) -> Provider {
        Provider::Wavix
    }

    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
        delivery.require_post()?;
        delivery.require_json()?;
        let body = json_text(delivery.body)?;
        if body.trim_start().starts_with('[') {
            return parse_batch(body, ctx);
        }
        match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(map)) => Ok(vec![ParsedEvent { raw: body.to_owned(), outcome: normalise(&map, ctx) }]),
            Ok(_) => Err(DecodeError::WrongShape("expected a JSON object".into())),
            Err(err) => Err(decode_error(&err)),
        }
    }
}

fn parse_batch(body: &str, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
    let elements: Vec<&RawValue> = serde_json::from_str(body).map_err(|err| decode_error(&err))?;
    if elements.is_empty() {
        return Err(DecodeError::WrongShape("empty JSON array".into()));
    }
    elements
        .into_iter()
        .enumerate()
        .map(|(index, element)| match serde_json::from_str::<Value>(element.get()) {
            Ok(Value::Object(map)) => Ok(ParsedEvent { raw: element.get().to_owned(), outcome: normalise(&map, ctx) }),
            _ => Err(DecodeError::WrongShape(format!("array element {index} is not a JSON object"))),
        })
        .collect()
}

fn decode_error(err: &serde_json::Error) -> DecodeError {
    // Where serde failed, never the offending text (it could be a number).
    let at = format!("line {} column {}", err.line(), err.column());
    if is_syntax_error(err) { DecodeError::NotJson(at) } else { DecodeError::WrongShape(at) }
}

/// First present, non-blank scalar among `keys`, as trimmed text.
fn field(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| map.get(*k).and_then(scalar_text))
}

/// Whether any of `keys` is present at all (even as `null`).
fn present_key(map: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| map.contains_key(*k))
}

fn normalise(map: &Map<String, Value>, ctx: &ParseContext) -> Result<NormalisedEvent, Rejection> {
    let raw_type = field(map, EVENT_TYPE);
    let kind = match raw_type.as_deref().map(normalise_event_type) {
        Some(t) if t == "post_call" || t == "postcall" => WavixKind::PostCall,
        Some(_) => WavixKind::OnCall,
        None if POST_CALL_MARKERS.iter().any(|k| map.get(*k).and_then(scalar_text).is_some()) => WavixKind::PostCall,
        None => WavixKind::OnCall,
    };
    let event_type = match kind {
        WavixKind::PostCall => Some(POST_CALL.to_owned()),
        WavixKind::OnCall => raw_type.as_deref().map(normalise_event_type),
    };
    let rejected_type = event_type.clone();
    let reject =
        |reason: &'static str, detail: &str| Rejection::new(reason, detail).with_event_type(rejected_type.as_deref());

    let uuid = call_uuid(map).map_err(|(reason, detail)| reject(reason, detail))?;
    let region = ctx.default_region;
    let mut attributes = Map::new();
    attributes.insert("kind".into(), Value::from(kind.as_str()));
    attributes.insert("uuid".into(), Value::from(uuid.as_str()));
    let direction = Direction::read(map);
    if let Some(d) = direction.as_attribute() {
        attributes.insert("direction".into(), Value::from(d));
    }
    let caller = phone(field(map, FROM).as_deref(), region);
    let called = phone(field(map, TO).as_deref(), region);
    put_phone(&mut attributes, "from", caller.as_ref());
    put_phone(&mut attributes, "to", called.as_ref());

    let (event_type, event_key, occurred_at, answered) = match kind {
        WavixKind::OnCall => {
            let event_type = event_type.ok_or_else(|| reject("missing_event_type", "event_type is missing"))?;
            let raw_time =
                field(map, EVENT_TIME).ok_or_else(|| reject("missing_timestamp", "event_time is missing"))?;
            let at = parse_instant(&raw_time)
                .ok_or_else(|| reject("invalid_timestamp", "event_time is not an ISO 8601 or epoch timestamp"))?;
            let key = EventKey::join([uuid.as_str(), event_type.as_str(), key_time(at).as_str()])
                .map_err(|e| reject("invalid_event_key", &e.to_string()))?;
            attributes.insert("event_time".into(), Value::from(key_time(at)));
            let answered = on_call_attributes(map, &event_type, &mut attributes);
            (event_type, key, Some(at), answered)
        }
        WavixKind::PostCall => {
            let key =
                EventKey::join([uuid.as_str(), POST_CALL]).map_err(|e| reject("invalid_event_key", &e.to_string()))?;
            let date = match field(map, POST_CALL_DATE) {
                None => None,
                Some(raw) => Some(
                    parse_instant(&raw)
                        .ok_or_else(|| reject("invalid_timestamp", "date is not an ISO 8601 or epoch timestamp"))?,
                ),
            };
            if let Some(at) = date {
                attributes.insert("date".into(), Value::from(key_time(at)));
            }
            let answered = post_call_attributes(map, &mut attributes);
            let ended = optional_time(map, CALL_COMPLETED);
            (POST_CALL.to_owned(), key, date.or(ended), answered)
        }
    };

    if kind == WavixKind::OnCall && !KNOWN_ON_CALL_TYPES.contains(&event_type.as_str()) {
        attributes.insert("unknown_event_type".into(), Value::from(true));
    }
    let missed = answered.map(|a| !a && direction == Direction::Inbound);
    if let Some(a) = answered {
        attributes.insert("answered".into(), Value::from(a));
    }
    if let Some(m) = missed {
        attributes.insert("missed".into(), Value::from(m));
    }

    let callback = if missed == Some(true) && kind == MISSED_CALL_TASK_SOURCE {
        let reason = CallbackReason::MissedCall;
        match caller {
            None => CallbackDecision::Unreachable { reason },
            Some(phone) => {
                let mut context = Map::new();
                context.insert("call_uuid".into(), Value::from(uuid.as_str()));
                context.insert("source".into(), Value::from(kind.as_str()));
                for name in ["disposition", "status", "duration"] {
                    if let Some(v) = attributes.get(name) {
                        context.insert(name.into(), v.clone());
                    }
                }
                CallbackDecision::Due(Box::new(CallbackRequest {
                    reason,
                    phone,
                    alternate_phone: None,
                    business_phone: called,
                    window: None,
                    requested_at: occurred_at.unwrap_or(ctx.received_at),
                    context,
                }))
            }
        }
    } else {
        CallbackDecision::NotDue
    };

    Ok(NormalisedEvent { provider: Provider::Wavix, event_key, event_type, occurred_at, attributes, callback })
}

/// The call ID in canonical form (lower-case, hyphenated UUID).
fn call_uuid(map: &Map<String, Value>) -> Result<String, (&'static str, &'static str)> {
    let raw = field(map, CALL_ID).ok_or(("missing_call_id", "uuid (call ID) is missing"))?;
    uuid::Uuid::try_parse(&raw)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| ("invalid_call_id", "uuid (call ID) is not a UUID"))
}

/// `CANCELED`, `call-setup`, ` Ringing ` → `cancelled`, `call_setup`, `ringing`.
fn normalise_event_type(raw: &str) -> String {
    let t = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    if t == "canceled" { "cancelled".into() } else { t }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
    Other(String),
    Unknown,
}

impl Direction {
    fn read(map: &Map<String, Value>) -> Self {
        match field(map, DIRECTION).map(|d| d.to_ascii_lowercase()) {
            None => Direction::Unknown,
            Some(d) if is_sentinel(&d) => Direction::Unknown,
            Some(d) => match d.as_str() {
                "inbound" | "incoming" | "in" => Direction::Inbound,
                "outbound" | "outgoing" | "out" => Direction::Outbound,
                _ => Direction::Other(d),
            },
        }
    }

    fn as_attribute(&self) -> Option<&str> {
        match self {
            Direction::Inbound => Some("inbound"),
            Direction::Outbound => Some("outbound"),
            Direction::Other(d) => Some(d),
            Direction::Unknown => None,
        }
    }
}

/// On-call attributes; returns whether the call was answered when this
/// event ends the call (`None` for events that do not end it).
fn on_call_attributes(map: &Map<String, Value>, event_type: &str, attributes: &mut Map<String, Value>) -> Option<bool> {
    put_time(attributes, "call_started", optional_time(map, CALL_STARTED));
    let answered_at = optional_time(map, CALL_ANSWERED);
    put_time(attributes, "call_answered", answered_at);
    put_time(attributes, "call_completed", optional_time(map, CALL_COMPLETED));
    if let Some(flag) = map.get("machine_detected").and_then(flag) {
        attributes.insert("machine_detected".into(), Value::from(flag));
    }
    put_text(attributes, "tag", field(map, &["tag"]));
    event_payload_attributes(map.get("event_payload"), attributes);

    // Any non-blank answer time counts as answered, even one we cannot read:
    // a false "missed" is worse than a missed "missed".
    let has_answer_time = answered_at.is_some() || field(map, CALL_ANSWERED).is_some_and(|s| !is_sentinel(&s));
    match event_type {
        "busy" | "cancelled" | "rejected" | "failed" => Some(false),
        "completed" => Some(has_answer_time),
        _ => None,
    }
}

/// Post-call attributes; returns whether the call was answered, when the
/// payload says so.
fn post_call_attributes(map: &Map<String, Value>, attributes: &mut Map<String, Value>) -> Option<bool> {
    let disposition = field(map, DISPOSITION).map(|d| d.to_ascii_lowercase().replace([' ', '-'], "_"));
    put_text(attributes, "disposition", disposition.clone());
    put_seconds(attributes, "duration", field(map, &["duration"]));
    put_seconds(attributes, "billsec", field(map, BILLSEC));
    // Money stays text, exactly as sent: no float rounding.
    put_text(attributes, "charge", field(map, &["charge"]));
    put_text(attributes, "per_minute", field(map, &["per_minute"]));
    put_text(attributes, "forward_fee", field(map, &["forward_fee"]));
    put_text(attributes, "destination", field(map, &["destination"]));
    put_text(attributes, "sip_trunk", field(map, &["sip_trunk"]));
    put_text(attributes, "answered_by", field(map, &["answered_by"]));
    if let Some(parent) = field(map, &["parent_uuid"]).and_then(|p| uuid::Uuid::try_parse(&p).ok()) {
        attributes.insert("parent_uuid".into(), Value::from(parent.hyphenated().to_string()));
    }
    let answered_at = optional_time(map, CALL_ANSWERED);
    put_time(attributes, "call_answered", answered_at);
    put_time(attributes, "call_completed", optional_time(map, CALL_COMPLETED));

    match disposition.as_deref() {
        // DESIGN.md: every disposition other than `answered` is a miss.
        Some(d) if !is_sentinel(d) => Some(d == "answered"),
        // No disposition: an answer time decides if the payload has the
        // field at all; otherwise we cannot tell.
        _ if answered_at.is_some() => Some(true),
        _ if present_key(map, CALL_ANSWERED) => Some(false),
        _ => None,
    }
}

/// Reads `event_payload` in its known shapes without ever copying DTMF
/// digits (they can be PINs or card numbers): `{type, payload{...}}`
/// (2025-12 and later), `{in_call_event, in_call_event_data{...}}` (legacy),
/// either as a JSON-encoded string, `null`, or a bare string.
fn event_payload_attributes(value: Option<&Value>, attributes: &mut Map<String, Value>) {
    let decoded;
    let object = match value {
        Some(Value::Object(o)) => o,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => {
                decoded = o;
                &decoded
            }
            _ => {
                put_text(attributes, "payload_type", Some(s.trim().to_owned()));
                return;
            }
        },
        _ => return,
    };
    put_text(attributes, "payload_type", field(object, &["type", "in_call_event"]));
    let inner_decoded;
    let inner = match object.get("payload").or_else(|| object.get("in_call_event_data")) {
        Some(Value::Object(o)) => o,
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => {
                inner_decoded = o;
                &inner_decoded
            }
            _ => return,
        },
        _ => return,
    };
    put_text(attributes, "payload_status", field(inner, &["status"]));
    put_text(attributes, "payload_reason", field(inner, &["reason"]));
    put_text(attributes, "playback_id", field(inner, &["playback_id"]));
    if let Some(digits) = field(inner, &["digits"]) {
        attributes.insert("digits_count".into(), Value::from(digits.chars().filter(char::is_ascii_digit).count()));
    }
}

fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A secondary time (not part of any key): lenient, unreadable is absent.
fn optional_time(map: &Map<String, Value>, keys: &[&str]) -> Option<DateTime<Utc>> {
    field(map, keys).filter(|s| !is_sentinel(s)).and_then(|s| parse_instant(&s))
}

/// The form of an instant used in keys and attributes: RFC 3339 in UTC,
/// with exactly the sub-second digits needed (none, 3, 6 or 9), so
/// `…38.500Z`, `…38.5+00:00` and epoch millis `…500` are one key.
pub fn key_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Reads the timestamp forms Wavix payloads have used or may use: RFC 3339 /
/// ISO 8601 with `Z` or an offset (with or without colon), a space instead of
/// `T`, no zone at all (read as UTC: Wavix documents its times in UTC), and
/// epoch seconds or milliseconds, with or without a fraction. Times before
/// 2001 or after 2100 are not event times.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    let at = if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        epoch(s)?
    } else if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else if let Some(t) = ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f %#z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
    {
        t.with_timezone(&Utc)
    } else {
        let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
        Utc.from_utc_datetime(&naive)
    };
    let plausible = (978_307_200..=4_102_444_800).contains(&at.timestamp());
    plausible.then_some(at)
}

/// Epoch seconds or milliseconds (13 digits), with an optional fraction,
/// converted exactly (no float rounding of the key).
fn epoch(s: &str) -> Option<DateTime<Utc>> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || fraction.contains('.') {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    // Fraction digits as nanoseconds of the unit (seconds or milliseconds).
    let digits: String = fraction.chars().take(9).collect();
    let frac_nanos: i64 = if digits.is_empty() { 0 } else { format!("{digits:0<9}").parse().ok()? };
    let (secs, nanos) = if whole > 100_000_000_000 {
        (whole / 1000, (whole % 1000) * 1_000_000 + frac_nanos / 1000)
    } else {
        (whole, frac_nanos)
    };
    Utc.timestamp_opt(secs, u32::try_from(nanos).ok()?).single()
}

/// A number as Wavix writes it: international digits without `+`
/// (`17653889567`, `33170363950`), or E.164, or a SIP/tel URI. Without the
/// `+`, `PhoneNumber::parse` would read `17653889567` in the default region
/// (India: `+9117653889567`), so 11 to 15 digits without a leading 0 are read
/// as international. Shorter or `0`-prefixed numbers are national, in `region`.
fn phone(raw: Option<&str>, region: PhoneRegion) -> Option<PhoneNumber> {
    let raw = raw?.trim();
    let user = match raw.split_once(':') {
        Some((scheme, rest)) if ["sip", "sips", "tel"].contains(&scheme.to_ascii_lowercase().as_str()) => {
            rest.split(['@', ';']).next().unwrap_or(rest)
        }
        _ => raw,
    };
    let international =
        (11..=15).contains(&user.len()) && !user.starts_with('0') && user.bytes().all(|b| b.is_ascii_digit());
    let candidate = if international { format!("+{user}") } else { user.to_owned() };
    PhoneNumber::parse(&candidate, region).ok()
}

fn put_phone(attributes: &mut Map<String, Value>, name: &str, phone: Option<&PhoneNumber>) {
    if let Some(p) = phone {
        attributes.insert(name.into(), Value::from(p.as_str()));
    }
}

fn put_text(attributes: &mut Map<String, Value>, name: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !is_sentinel(v)) {
        attributes.insert(name.into(), Value::from(v));
    }
}

fn put_time(attributes: &mut Map<String, Value>, name: &str, at: Option<DateTime<Utc>>) {
    if let Some(at) = at {
        attributes.insert(name.into(), Value::from(key_time(at)));
    }
}

/// Whole seconds from `6`, `"6"` or `"6.0"`; anything else is left out.
fn put_seconds(attributes: &mut Map<String, Value>, name: &str, value: Option<String>) {
    let secs = value.and_then(|v| {
        v.parse::<u64>().ok().or_else(|| v.parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
    });
    if let Some(s) = secs {
        attributes.insert(name.into(), Value::from(s));
    }
}
