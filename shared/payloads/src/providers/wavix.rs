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

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{is_syntax_error, json_text};
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::fields::{Kind, Members, NameIndex, ObjectSeed, Scalar, Shape, slots};
use crate::lenient::{is_sentinel, scalar_str};
use crate::{
    Attributes, CallbackDecision, CallbackReason, CallbackRequest, DecodeError, EventKey, NormalisedEvent, PhoneNumber,
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

/// Every member name Wavix's parser reads, each with a slot in [`Body`]:
/// the names of the current payloads first, then the aliases of older doc
/// versions and SDKs. [`NameIndex`] compares a member's name with the names
/// of its length in this order, so the names sent today are found first.
const NAMES: [&str; 51] = [
    "from",
    "to",
    "uuid",
    "direction",
    "event_type",
    "event_time",
    "call_started",
    "call_answered",
    "call_completed",
    "machine_detected",
    "tag",
    "event_payload",
    "disposition",
    "date",
    "charge",
    "per_minute",
    "duration",
    "destination",
    "forward_fee",
    "sip_trunk",
    "answered_by",
    "parent_uuid",
    "billsec",
    "id",
    "call_id",
    "call_uuid",
    "event",
    "event_timestamp",
    "timestamp",
    "caller",
    "from_number",
    "caller_id",
    "ani",
    "callee",
    "to_number",
    "called",
    "dnis",
    "call_direction",
    "started_at",
    "start_time",
    "answered_at",
    "answer_time",
    "call_finished",
    "call_ended",
    "ended_at",
    "end_time",
    "call_disposition",
    "status",
    "call_date",
    "bill_sec",
    "billable_seconds",
];
const NAME_INDEX: NameIndex<{ NAMES.len() }> = NameIndex::new(&NAMES);
const KINDS: [Kind; NAMES.len()] = {
    let mut kinds = [Kind::Scalar; NAMES.len()];
    kinds[slots(["event_payload"], &NAMES)[0]] = Kind::Value;
    kinds
};

// Field names by meaning, current name first, then the names older doc
// versions, SDKs and consumers use (docs/providers/wavix.md).
const CALL_ID: &[usize] = &slots(["uuid", "id", "call_id", "call_uuid"], &NAMES);
const EVENT_TYPE: &[usize] = &slots(["event_type", "event"], &NAMES);
const EVENT_TIME: &[usize] = &slots(["event_time", "event_timestamp", "timestamp"], &NAMES);
const FROM: &[usize] = &slots(["from", "caller", "from_number", "caller_id", "ani"], &NAMES);
const TO: &[usize] = &slots(["to", "callee", "to_number", "called", "dnis"], &NAMES);
const DIRECTION: &[usize] = &slots(["direction", "call_direction"], &NAMES);
const CALL_STARTED: &[usize] = &slots(["call_started", "started_at", "start_time"], &NAMES);
const CALL_ANSWERED: &[usize] = &slots(["call_answered", "answered_at", "answer_time"], &NAMES);
const CALL_COMPLETED: &[usize] =
    &slots(["call_completed", "call_finished", "call_ended", "ended_at", "end_time"], &NAMES);
const DISPOSITION: &[usize] = &slots(["disposition", "call_disposition", "status"], &NAMES);
const POST_CALL_DATE: &[usize] = &slots(["date", "call_date"], &NAMES);
const BILLSEC: &[usize] = &slots(["billsec", "bill_sec", "billable_seconds"], &NAMES);
/// Fields only a post-call (CDR) payload has; they identify one that
/// carries no `event_type`.
const POST_CALL_MARKERS: &[usize] =
    &slots(["disposition", "call_disposition", "charge", "per_minute", "billsec"], &NAMES);
const MACHINE_DETECTED: usize = slots(["machine_detected"], &NAMES)[0];
const EVENT_PAYLOAD: usize = slots(["event_payload"], &NAMES)[0];
const TAG: &[usize] = &slots(["tag"], &NAMES);
const DURATION: &[usize] = &slots(["duration"], &NAMES);
const CHARGE: &[usize] = &slots(["charge"], &NAMES);
const PER_MINUTE: &[usize] = &slots(["per_minute"], &NAMES);
const FORWARD_FEE: &[usize] = &slots(["forward_fee"], &NAMES);
const DESTINATION: &[usize] = &slots(["destination"], &NAMES);
const SIP_TRUNK: &[usize] = &slots(["sip_trunk"], &NAMES);
const ANSWERED_BY: &[usize] = &slots(["answered_by"], &NAMES);
const PARENT_UUID: &[usize] = &slots(["parent_uuid"], &NAMES);

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
        match read(body) {
            Ok(Shape::Object(members)) => {
                Ok(vec![ParsedEvent { raw: body.to_owned(), outcome: normalise(&Body(members), ctx) }])
            }
            Ok(Shape::Other) => Err(DecodeError::WrongShape("expected a JSON object".into())),
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
        .map(|(index, element)| match read(element.get()) {
            Ok(Shape::Object(members)) => {
                Ok(ParsedEvent { raw: element.get().to_owned(), outcome: normalise(&Body(members), ctx) })
            }
            _ => Err(DecodeError::WrongShape(format!("array element {index} is not a JSON object"))),
        })
        .collect()
}

fn decode_error(err: &serde_json::Error) -> DecodeError {
    // Where serde failed, never the offending text (it could be a number).
    let at = format!("line {} column {}", err.line(), err.column());
    if is_syntax_error(err) { DecodeError::NotJson(at) } else { DecodeError::WrongShape(at) }
}

/// One JSON text read in one pass into the members Wavix's parser uses
/// (what `serde_json::from_str::<Value>` would accept or refuse, the same).
fn read(text: &str) -> Result<Shape<'_, { NAMES.len() }>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let shape = ObjectSeed { names: &NAMES, index: &NAME_INDEX, kinds: &KINDS }.deserialize(&mut de)?;
    de.end()?;
    Ok(shape)
}

/// The members of one Wavix event object, by slot of [`NAMES`].
struct Body<'de>(Members<'de, { NAMES.len() }>);

impl Body<'_> {
    /// First present, non-blank scalar among `slots`, as trimmed text.
    fn field(&self, slots: &[usize]) -> Option<Cow<'_, str>> {
        slots.iter().find_map(|&i| self.0.get(i).and_then(Scalar::text))
    }

    /// Whole seconds of [`Body::field`]: a number is read without its text.
    fn seconds(&self, slots: &[usize]) -> Option<u64> {
        slots.iter().find_map(|&i| match self.0.get(i)? {
            Scalar::Number(n) => Some(seconds_of_number(n)),
            other => other.text().map(|text| seconds_of_text(&text)),
        })?
    }

    /// Whether any of `slots` is present at all (even as `null`).
    fn present(&self, slots: &[usize]) -> bool {
        slots.iter().any(|&i| self.0.get(i).is_some())
    }
}

fn normalise(map: &Body<'_>, ctx: &ParseContext) -> Result<NormalisedEvent, Rejection> {
    let normalised_type = map.field(EVENT_TYPE).as_deref().map(normalise_event_type);
    let kind = match normalised_type.as_deref() {
        Some("post_call" | "postcall") => WavixKind::PostCall,
        Some(_) => WavixKind::OnCall,
        None if POST_CALL_MARKERS.iter().any(|&i| map.0.get(i).and_then(Scalar::text).is_some()) => WavixKind::PostCall,
        None => WavixKind::OnCall,
    };
    let event_type = match kind {
        WavixKind::PostCall => Some(POST_CALL),
        WavixKind::OnCall => normalised_type.as_deref(),
    };
    let reject = |reason: &'static str, detail: &str| Rejection::new(reason, detail).with_event_type(event_type);

    let uuid = call_uuid(map).map_err(|(reason, detail)| reject(reason, detail))?;
    let region = ctx.default_region;
    let mut attributes = Attributes::new();
    attributes.insert("kind", Value::from(kind.as_str()));
    attributes.insert("uuid", Value::String(uuid.clone()));
    let direction = Direction::read(map);
    if let Some(d) = direction.as_attribute() {
        attributes.insert("direction", Value::from(d));
    }
    let caller = phone(map.field(FROM).as_deref(), region);
    let called = phone(map.field(TO).as_deref(), region);
    put_phone(&mut attributes, "from", caller.as_ref());
    put_phone(&mut attributes, "to", called.as_ref());

    let (event_type, event_key, occurred_at, answered) = match kind {
        WavixKind::OnCall => {
            let event_type = event_type.ok_or_else(|| reject("missing_event_type", "event_type is missing"))?;
            let raw_time = map.field(EVENT_TIME).ok_or_else(|| reject("missing_timestamp", "event_time is missing"))?;
            let at = parse_instant(&raw_time)
                .ok_or_else(|| reject("invalid_timestamp", "event_time is not an ISO 8601 or epoch timestamp"))?;
            let time = key_time(at);
            let key = EventKey::join([uuid.as_str(), event_type, time.as_str()])
                .map_err(|e| reject("invalid_event_key", &e.to_string()))?;
            attributes.insert("event_time", Value::String(time));
            let answered = on_call_attributes(map, event_type, &mut attributes);
            (event_type, key, Some(at), answered)
        }
        WavixKind::PostCall => {
            let key =
                EventKey::join([uuid.as_str(), POST_CALL]).map_err(|e| reject("invalid_event_key", &e.to_string()))?;
            let date = match map.field(POST_CALL_DATE) {
                None => None,
                Some(raw) => Some(
                    parse_instant(&raw)
                        .ok_or_else(|| reject("invalid_timestamp", "date is not an ISO 8601 or epoch timestamp"))?,
                ),
            };
            if let Some(at) = date {
                attributes.insert("date", Value::from(key_time(at)));
            }
            let answered = post_call_attributes(map, &mut attributes);
            let ended = optional_time(map, CALL_COMPLETED);
            (POST_CALL, key, date.or(ended), answered)
        }
    };

    if kind == WavixKind::OnCall && !KNOWN_ON_CALL_TYPES.contains(&event_type) {
        attributes.insert("unknown_event_type", Value::from(true));
    }
    let missed = answered.map(|a| !a && direction == Direction::Inbound);
    if let Some(a) = answered {
        attributes.insert("answered", Value::from(a));
    }
    if let Some(m) = missed {
        attributes.insert("missed", Value::from(m));
    }

    let callback = if missed == Some(true) && kind == MISSED_CALL_TASK_SOURCE {
        let reason = CallbackReason::MissedCall;
        match caller {
            None => CallbackDecision::Unreachable { reason },
            Some(phone) => {
                let mut context = Attributes::new();
                context.insert("call_uuid", Value::String(uuid));
                context.insert("source", Value::from(kind.as_str()));
                for name in ["disposition", "status", "duration"] {
                    if let Some(v) = attributes.get(name) {
                        context.insert(name, v.clone());
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

    let event_type = event_type.to_owned();
    Ok(NormalisedEvent { provider: Provider::Wavix, event_key, event_type, occurred_at, attributes, callback })
}

/// The call ID in canonical form (lower-case, hyphenated UUID).
fn call_uuid(map: &Body<'_>) -> Result<String, (&'static str, &'static str)> {
    let raw = map.field(CALL_ID).ok_or(("missing_call_id", "uuid (call ID) is missing"))?;
    uuid::Uuid::try_parse(&raw)
        .map(crate::task::uuid_text)
        .map_err(|_| ("invalid_call_id", "uuid (call ID) is not a UUID"))
}

/// `CANCELED`, `call-setup`, ` Ringing ` → `cancelled`, `call_setup`, `ringing`.
fn normalise_event_type(raw: &str) -> String {
    let t = snake_lower(crate::lenient::trim(raw));
    if t == "canceled" { "cancelled".into() } else { t }
}

/// ASCII lower case with `-` and ` ` as `_` (`No-Answer` → `no_answer`),
/// copied once when there is nothing to replace (nearly always).
fn snake_lower(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.contains(['-', ' ']) { lower.replace(['-', ' '], "_") } else { lower }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
    Other(String),
    Unknown,
}

impl Direction {
    /// Case-insensitive; only a direction we do not know is copied (lower case).
    fn read(map: &Body<'_>) -> Self {
        let is = |d: &str, names: [&str; 3]| names.iter().any(|n| d.eq_ignore_ascii_case(n));
        match map.field(DIRECTION) {
            None => Direction::Unknown,
            Some(d) if is_sentinel(&d) => Direction::Unknown,
            Some(d) if is(&d, ["inbound", "incoming", "in"]) => Direction::Inbound,
            Some(d) if is(&d, ["outbound", "outgoing", "out"]) => Direction::Outbound,
            Some(d) => Direction::Other(d.to_ascii_lowercase()),
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
fn on_call_attributes(map: &Body<'_>, event_type: &str, attributes: &mut Attributes) -> Option<bool> {
    put_time(attributes, "call_started", optional_time(map, CALL_STARTED));
    let answered_at = optional_time(map, CALL_ANSWERED);
    put_time(attributes, "call_answered", answered_at);
    put_time(attributes, "call_completed", optional_time(map, CALL_COMPLETED));
    if let Some(flag) = map.0.get(MACHINE_DETECTED).and_then(flag) {
        attributes.insert("machine_detected", Value::from(flag));
    }
    put_text(attributes, "tag", map.field(TAG));
    let payload = match map.0.get(EVENT_PAYLOAD) {
        Some(Scalar::Value(v)) => Some(&**v),
        _ => None,
    };
    event_payload_attributes(payload, attributes);

    // Any non-blank answer time counts as answered, even one we cannot read:
    // a false "missed" is worse than a missed "missed".
    let has_answer_time = answered_at.is_some() || map.field(CALL_ANSWERED).is_some_and(|s| !is_sentinel(&s));
    match event_type {
        "busy" | "cancelled" | "rejected" | "failed" => Some(false),
        "completed" => Some(has_answer_time),
        _ => None,
    }
}

/// Post-call attributes; returns whether the call was answered, when the
/// payload says so.
fn post_call_attributes(map: &Body<'_>, attributes: &mut Attributes) -> Option<bool> {
    let disposition = map.field(DISPOSITION).map(|d| snake_lower(&d));
    // DESIGN.md: every disposition other than `answered` is a miss.
    let answered_by_disposition = disposition.as_deref().filter(|d| !is_sentinel(d)).map(|d| d == "answered");
    put_text(attributes, "disposition", disposition);
    put_seconds(attributes, "duration", map.seconds(DURATION));
    put_seconds(attributes, "billsec", map.seconds(BILLSEC));
    // Money stays text, exactly as sent: no float rounding.
    put_text(attributes, "charge", map.field(CHARGE));
    put_text(attributes, "per_minute", map.field(PER_MINUTE));
    put_text(attributes, "forward_fee", map.field(FORWARD_FEE));
    put_text(attributes, "destination", map.field(DESTINATION));
    put_text(attributes, "sip_trunk", map.field(SIP_TRUNK));
    put_text(attributes, "answered_by", map.field(ANSWERED_BY));
    if let Some(parent) = map.field(PARENT_UUID).and_then(|p| uuid::Uuid::try_parse(&p).ok()) {
        attributes.insert("parent_uuid", Value::from(crate::task::uuid_text(parent)));
    }
    let answered_at = optional_time(map, CALL_ANSWERED);
    put_time(attributes, "call_answered", answered_at);
    put_time(attributes, "call_completed", optional_time(map, CALL_COMPLETED));

    // As on-call: a non-blank answer time we cannot read still counts.
    let has_answer_time = answered_at.is_some() || map.field(CALL_ANSWERED).is_some_and(|s| !is_sentinel(&s));
    match answered_by_disposition {
        Some(answered) => Some(answered),
        // No disposition: an answer time decides if the payload has the
        // field at all; otherwise we cannot tell.
        _ if has_answer_time => Some(true),
        _ if map.present(CALL_ANSWERED) => Some(false),
        _ => None,
    }
}

/// Reads `event_payload` in its known shapes without ever copying DTMF
/// digits (they can be PINs or card numbers): `{type, payload{...}}`
/// (2025-12 and later), `{in_call_event, in_call_event_data{...}}` (legacy),
/// either as a JSON-encoded string, `null`, or a bare string.
fn event_payload_attributes(value: Option<&Value>, attributes: &mut Attributes) {
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
    put_text(attributes, "payload_type", map_field(object, &["type", "in_call_event"]));
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
    put_text(attributes, "payload_status", map_field(inner, &["status"]));
    put_text(attributes, "payload_reason", map_field(inner, &["reason"]));
    put_text(attributes, "playback_id", map_field(inner, &["playback_id"]));
    if let Some(digits) = map_field(inner, &["digits"]) {
        attributes.insert("digits_count", Value::from(digits.chars().filter(char::is_ascii_digit).count()));
    }
}

/// First present, non-blank scalar among `keys` of a nested object.
fn map_field<'a>(map: &'a Map<String, Value>, keys: &[&str]) -> Option<Cow<'a, str>> {
    keys.iter().find_map(|k| map.get(*k).and_then(scalar_str))
}

fn flag(v: &Scalar<'_>) -> Option<bool> {
    match v {
        Scalar::Bool(b) => Some(*b),
        Scalar::Number(n) => n.as_i64().map(|n| n != 0),
        Scalar::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A secondary time (not part of any key): lenient, unreadable is absent.
fn optional_time(map: &Body<'_>, keys: &[usize]) -> Option<DateTime<Utc>> {
    map.field(keys).filter(|s| !is_sentinel(s)).and_then(|s| parse_instant(&s))
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
    let s = crate::lenient::trim(raw);
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
    let raw = crate::lenient::trim(raw?);
    let user = match raw.split_once(':') {
        Some((scheme, rest)) if ["sip", "sips", "tel"].contains(&scheme.to_ascii_lowercase().as_str()) => {
            rest.split(['@', ';']).next().unwrap_or(rest)
        }
        _ => raw,
    };
    let international =
        (11..=15).contains(&user.len()) && !user.starts_with('0') && user.bytes().all(|b| b.is_ascii_digit());
    if !international {
        return PhoneNumber::parse(user, region).ok();
    }
    // `+` and the digits, on the stack.
    let mut plus = [b'+'; 16];
    plus[1..=user.len()].copy_from_slice(user.as_bytes());
    PhoneNumber::parse(std::str::from_utf8(&plus[..=user.len()]).ok()?, region).ok()
}

fn put_phone(attributes: &mut Attributes, name: &'static str, phone: Option<&PhoneNumber>) {
    if let Some(p) = phone {
        attributes.insert(name, Value::from(p.as_str()));
    }
}

fn put_text<S: AsRef<str> + Into<String>>(attributes: &mut Attributes, name: &'static str, value: Option<S>) {
    if let Some(v) = value.filter(|v| !is_sentinel(v.as_ref())) {
        attributes.insert(name, Value::from(v.into()));
    }
}

fn put_time(attributes: &mut Attributes, name: &'static str, at: Option<DateTime<Utc>>) {
    if let Some(at) = at {
        attributes.insert(name, Value::from(key_time(at)));
    }
}

fn put_seconds(attributes: &mut Attributes, name: &'static str, secs: Option<u64>) {
    if let Some(s) = secs {
        attributes.insert(name, Value::from(s));
    }
}

/// Whole seconds from `6`, `"6"` or `"6.0"` (text as [`Scalar::text`] gives
/// it); anything else is none.
fn seconds_of_text(text: &str) -> Option<u64> {
    text.parse::<u64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
}

/// [`seconds_of_text`] of a JSON number's text, read from the number
/// without printing it: the text of a `u64` parses back to it, and a float's
/// shortest text to the same float; other integers are negative.
fn seconds_of_number(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    const UUID: &str = "5dccb6b0-f35c-488c-867b-86fb012c4415";
    const CALLER: &str = "+18045961058";
    const BUSINESS: &str = "17653889567";

    fn ctx() -> ParseContext {
        ParseContext::new(Utc.with_ymd_and_hms(2025, 9, 22, 13, 0, 0).unwrap())
    }

    fn deliver(method: &str, content_type: Option<&str>, body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
        let delivery = Delivery {
            method,
            path: "/webhooks/wavix",
            trigger: None,
            query: &[],
            content_type,
            body: body.as_bytes(),
        };
        Wavix.parse(&delivery, &ctx())
    }

    fn post(body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
        deliver("POST", Some("application/json"), body)
    }

    fn outcome(body: &str) -> Result<NormalisedEvent, Rejection> {
        let mut events = post(body).expect("decodable");
        assert_eq!(events.len(), 1);
        events.remove(0).outcome
    }

    fn event(body: &str) -> NormalisedEvent {
        outcome(body).expect("accepted")
    }

    fn rejection(body: &str) -> Rejection {
        outcome(body).expect_err("rejected")
    }

    /// The seed's OnCallEvent, with `fields` replacing or adding (or, as
    /// `null` under `"-name"`, removing) fields.
    fn on_call(fields: Value) -> String {
        let mut base = json!({
            "uuid": UUID,
            "event_type": "call_setup",
            "event_time": "2025-09-22T12:56:38.547Z",
            "event_payload": {"type": "audio", "payload": {"status": "completed", "playback_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}},
            "from": CALLER,
            "to": BUSINESS,
            "call_started": "2025-09-22T12:56:38.547Z",
            "call_answered": null,
            "call_completed": null,
            "machine_detected": false,
            "tag": "marketing-campaign",
            "direction": "inbound"
        });
        merge(&mut base, fields);
        base.to_string()
    }

    /// The documented post-call payload, inbound.
    fn post_call(fields: Value) -> String {
        let mut base = json!({
            "direction": "inbound",
            "uuid": "99df5ffd-962a-410f-bcce-d08f1f7f328c",
            "destination": "Support SIP trunk",
            "duration": 0,
            "charge": "0.000",
            "date": "2025-09-22T12:56:38.000Z",
            "disposition": "noanswer",
            "from": "14155550100",
            "to": BUSINESS,
            "per_minute": "0.0065"
        });
        merge(&mut base, fields);
        base.to_string()
    }

    fn merge(base: &mut Value, fields: Value) {
        let base = base.as_object_mut().unwrap();
        for (k, v) in fields.as_object().unwrap() {
            match k.strip_prefix('-') {
                Some(removed) => {
                    base.remove(removed);
                }
                None => {
                    base.insert(k.clone(), v.clone());
                }
            }
        }
    }

    fn attr<'a>(event: &'a NormalisedEvent, name: &str) -> Option<&'a Value> {
        event.attributes.get(name)
    }

    // ---- on-call events -------------------------------------------------

    #[test]
    fn every_documented_on_call_event_type_is_stored_under_uuid_type_and_time() {
        for event_type in KNOWN_ON_CALL_TYPES {
            let body = on_call(json!({"event_type": event_type}));

            let e = event(&body);

            assert_eq!(e.event_type, *event_type);
            assert_eq!(e.event_key.as_str(), format!("{UUID}#{event_type}#2025-09-22T12:56:38.547Z"));
            assert_eq!(e.occurred_at, Some(Utc.timestamp_millis_opt(1_758_545_798_547).unwrap()));
            assert_eq!(attr(&e, "kind"), Some(&json!("on-call")));
            assert_eq!(attr(&e, "unknown_event_type"), None);
        }
    }

    #[test]
    fn the_seed_example_is_normalised_to_e164_numbers_and_rfc3339_times() {
        let body = on_call(json!({"call_answered": "2023-11-07T05:31:56Z", "call_completed": "2023-11-07T05:31:56Z"}));

        let e = event(&body);

        assert_eq!(attr(&e, "uuid"), Some(&json!(UUID)));
        assert_eq!(attr(&e, "direction"), Some(&json!("inbound")));
        assert_eq!(attr(&e, "from"), Some(&json!("+18045961058")));
        assert_eq!(attr(&e, "to"), Some(&json!("+17653889567")));
        assert_eq!(attr(&e, "event_time"), Some(&json!("2025-09-22T12:56:38.547Z")));
        assert_eq!(attr(&e, "call_started"), Some(&json!("2025-09-22T12:56:38.547Z")));
        assert_eq!(attr(&e, "call_answered"), Some(&json!("2023-11-07T05:31:56Z")));
        assert_eq!(attr(&e, "call_completed"), Some(&json!("2023-11-07T05:31:56Z")));
        assert_eq!(attr(&e, "machine_detected"), Some(&json!(false)));
        assert_eq!(attr(&e, "tag"), Some(&json!("marketing-campaign")));
        assert_eq!(attr(&e, "payload_type"), Some(&json!("audio")));
        assert_eq!(attr(&e, "payload_status"), Some(&json!("completed")));
        assert_eq!(attr(&e, "playback_id"), Some(&json!("3fa85f64-5717-4562-b3fc-2c963f66afa6")));
        assert_eq!(e.callback, CallbackDecision::NotDue);
    }

    #[test]
    fn an_unknown_event_type_is_stored_and_acknowledged_without_a_task() {
        let body = on_call(json!({"event_type": "recording_ready"}));

        let e = event(&body);

        assert_eq!(e.event_type, "recording_ready");
        assert_eq!(e.event_key.as_str(), format!("{UUID}#recording_ready#2025-09-22T12:56:38.547Z"));
        assert_eq!(attr(&e, "unknown_event_type"), Some(&json!(true)));
        assert_eq!(e.callback, CallbackDecision::NotDue);
    }

    #[test]
    fn event_type_spelling_is_normalised_before_it_enters_the_key() {
        for (sent, normalised) in [("CANCELED", "cancelled"), ("Call-Setup", "call_setup"), (" ringing ", "ringing")] {
            let e = event(&on_call(json!({"event_type": sent})));

            assert_eq!(e.event_type, normalised);
        }
    }

    // ---- key normalisation ----------------------------------------------

    #[test]
    fn equal_instants_in_different_textual_forms_give_the_same_key() {
        let forms = [
            json!("2025-09-22T12:56:38.547Z"),
            json!("2025-09-22T12:56:38.547000Z"),
            json!("2025-09-22T12:56:38.547+00:00"),
            json!("2025-09-22T18:26:38.547+05:30"),
            json!("2025-09-22T12:56:38.547+0000"),
            json!("2025-09-22 12:56:38.547"),
            json!("2025-09-22T12:56:38.547"),
            json!(1_758_545_798_547_u64),
            json!("1758545798547"),
            json!("1758545798.547"),
        ];
        let keys: Vec<String> =
            forms.iter().map(|t| event(&on_call(json!({"event_time": t}))).event_key.as_str().to_owned()).collect();

        for key in &keys {
            assert_eq!(key, &format!("{UUID}#call_setup#2025-09-22T12:56:38.547Z"));
        }
    }

    #[test]
    fn whole_second_times_lose_only_zero_fractions_in_the_key() {
        for form in [json!("2025-09-22T12:56:38Z"), json!("2025-09-22T12:56:38.000Z"), json!(1_758_545_798_u64)] {
            let e = event(&on_call(json!({"event_time": form})));

            assert_eq!(e.event_key.as_str(), format!("{UUID}#call_setup#2025-09-22T12:56:38Z"));
        }
    }

    #[test]
    fn sub_second_precision_is_kept_so_distinct_events_keep_distinct_keys() {
        let a = event(&on_call(json!({"event_time": "2025-09-22T12:56:38.547Z"})));
        let b = event(&on_call(json!({"event_time": "2025-09-22T12:56:38.548Z"})));
        let micro = event(&on_call(json!({"event_time": "2025-09-22T12:56:38.547123Z"})));

        assert_ne!(a.event_key, b.event_key);
        assert!(micro.event_key.as_str().ends_with("#2025-09-22T12:56:38.547123Z"));
    }

    #[test]
    fn an_upper_case_uuid_is_the_same_call_as_its_lower_case_form() {
        let upper = event(&on_call(json!({"uuid": UUID.to_ascii_uppercase()})));

        assert_eq!(upper.event_key, event(&on_call(json!({}))).event_key);
    }

    #[test]
    fn an_unparseable_event_time_is_rejected_as_invalid_timestamp() {
        for bad in [json!("yesterday"), json!("2025-13-40T99:00:00Z"), json!("12"), json!("1.2.3")] {
            let r = rejection(&on_call(json!({"event_time": bad})));

            assert_eq!(r.reason, "invalid_timestamp");
            assert_eq!(r.event_type.as_deref(), Some("call_setup"));
        }
    }

    #[test]
    fn a_missing_or_blank_event_time_is_rejected() {
        for body in [on_call(json!({"-event_time": null})), on_call(json!({"event_time": ""}))] {
            assert_eq!(rejection(&body).reason, "missing_timestamp");
        }
    }

    #[test]
    fn a_missing_call_uuid_is_rejected_as_missing_call_id() {
        for body in [on_call(json!({"-uuid": null})), on_call(json!({"uuid": null})), post_call(json!({"uuid": ""}))] {
            assert_eq!(rejection(&body).reason, "missing_call_id");
        }
    }

    #[test]
    fn a_call_uuid_that_is_not_a_uuid_is_rejected() {
        let r = rejection(&on_call(json!({"uuid": "not-a-uuid"})));

        assert_eq!(r.reason, "invalid_call_id");
    }

    #[test]
    fn a_delivery_with_neither_event_type_nor_post_call_fields_is_rejected() {
        let r = rejection(&on_call(json!({"-event_type": null})));

        assert_eq!(r.reason, "missing_event_type");
        assert_eq!(r.event_type, None);
    }

    #[test]
    fn rejection_details_never_contain_the_numbers_or_values_sent() {
        let bodies = [
            on_call(json!({"-uuid": null})),
            on_call(json!({"uuid": "+18045961058"})),
            on_call(json!({"event_time": "18045961058x"})),
            post_call(json!({"date": "18045961058x"})),
        ];
        for body in bodies {
            let r = rejection(&body);

            assert!(!r.detail.contains("8045961058"), "{}", r.detail);
            assert!(!r.detail.contains("4155550100"), "{}", r.detail);
        }
    }

    // ---- payload variants -----------------------------------------------

    #[test]
    fn id_and_call_id_are_accepted_in_place_of_uuid() {
        for name in ["id", "call_id"] {
            let e = event(&on_call(json!({"-uuid": null, name: UUID})));

            assert_eq!(attr(&e, "uuid"), Some(&json!(UUID)));
        }
    }

    #[test]
    fn uuid_wins_over_a_cdr_call_id_when_both_are_sent() {
        let e = event(&post_call(json!({"call_id": "b2c3d4e5-0000-4000-8000-000000000000"})));

        assert_eq!(e.event_key.as_str(), "99df5ffd-962a-410f-bcce-d08f1f7f328c#post-call");
    }

    #[test]
    fn caller_and_callee_are_accepted_in_place_of_from_and_to() {
        let e = event(&on_call(json!({"-from": null, "-to": null, "caller": CALLER, "callee": BUSINESS})));

        assert_eq!(attr(&e, "from"), Some(&json!("+18045961058")));
        assert_eq!(attr(&e, "to"), Some(&json!("+17653889567")));
    }

    #[test]
    fn call_finished_from_the_call_info_schema_is_read_as_the_completion_time() {
        let body =
            on_call(json!({"-call_completed": null, "-direction": null, "call_finished": "2025-09-22T12:57:10Z"}));

        let e = event(&body);

        assert_eq!(attr(&e, "call_completed"), Some(&json!("2025-09-22T12:57:10Z")));
        assert_eq!(attr(&e, "direction"), None);
    }

    #[test]
    fn the_legacy_in_call_event_payload_is_read_without_copying_digits() {
        let body = on_call(json!({
            "event_type": "in_call_event",
            "event_payload": {"in_call_event": "collect_completed", "in_call_event_data": {"digits": "4321", "reason": "collected"}}
        }));

        let e = event(&body);

        assert_eq!(e.event_type, "in_call_event");
        assert_eq!(attr(&e, "payload_type"), Some(&json!("collect_completed")));
        assert_eq!(attr(&e, "payload_reason"), Some(&json!("collected")));
        assert_eq!(attr(&e, "digits_count"), Some(&json!(4)));
        assert!(!Value::Object(e.attributes.to_map()).to_string().contains("4321"));
    }

    #[test]
    fn the_current_collect_payload_is_read_without_copying_digits() {
        let body = on_call(json!({
            "event_type": "on_call_event",
            "event_payload": {"type": "collect", "payload": {"digits": "987654", "status": "completed"}}
        }));

        let e = event(&body);

        assert_eq!(attr(&e, "payload_type"), Some(&json!("collect")));
        assert_eq!(attr(&e, "payload_status"), Some(&json!("completed")));
        assert_eq!(attr(&e, "digits_count"), Some(&json!(6)));
        assert!(!Value::Object(e.attributes.to_map()).to_string().contains("987654"));
    }

    #[test]
    fn event_payload_may_be_null_absent_a_json_string_or_a_bare_string() {
        let encoded = json!({"type": "audio", "payload": {"status": "started"}}).to_string();
        let cases = [
            (json!({"event_payload": null}), None),
            (json!({"-event_payload": null}), None),
            (json!({"event_payload": encoded}), Some("audio")),
            (json!({"event_payload": "collect_completed"}), Some("collect_completed")),
            (json!({"event_payload": ""}), None),
        ];
        for (fields, payload_type) in cases {
            let e = event(&on_call(fields));

            assert_eq!(attr(&e, "payload_type").and_then(Value::as_str), payload_type);
        }
    }

    #[test]
    fn optional_fields_tolerate_strings_nulls_blanks_and_garbage() {
        let body = on_call(json!({
            "machine_detected": "true",
            "tag": null,
            "call_started": "not a time",
            "call_answered": "",
            "direction": "INCOMING",
            "extra_field_from_a_newer_version": {"anything": [1, 2]}
        }));

        let e = event(&body);

        assert_eq!(attr(&e, "machine_detected"), Some(&json!(true)));
        assert_eq!(attr(&e, "tag"), None);
        assert_eq!(attr(&e, "call_started"), None);
        assert_eq!(attr(&e, "call_answered"), None);
        assert_eq!(attr(&e, "direction"), Some(&json!("inbound")));
    }

    #[test]
    fn wavix_numbers_without_a_plus_are_read_as_international_not_in_the_default_region() {
        // Read in India alone this would be +9117653889567; the shared
        // parser prefers the valid international reading.
        assert_eq!(PhoneNumber::parse("17653889567", PhoneRegion::INDIA).unwrap().as_str(), "+17653889567");

        let e = event(&on_call(json!({"from": "33170363950", "to": "17653889567"})));

        assert_eq!(attr(&e, "from"), Some(&json!("+33170363950")));
        assert_eq!(attr(&e, "to"), Some(&json!("+17653889567")));
    }

    #[test]
    fn national_numbers_and_sip_uris_are_read_too() {
        let region = PhoneRegion::INDIA;
        let e164 = |raw: &str| phone(Some(raw), region).map(|p| p.as_str().to_owned());

        assert_eq!(e164("09876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("9876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("sip:+18045961058@sip.wavix.net").as_deref(), Some("+18045961058"));
        assert_eq!(e164("sip:14155550100@203.0.113.5;transport=udp").as_deref(), Some("+14155550100"));
        assert_eq!(e164("anonymous"), None);
        assert_eq!(e164("sip:anonymous@anonymous.invalid"), None);
    }

    // ---- post-call events -------------------------------------------------

    #[test]
    fn the_documented_post_call_payload_is_keyed_on_the_call_alone() {
        let body = post_call(
            json!({"direction": "outbound", "disposition": "answered", "duration": 6, "charge": "0.822", "destination": "France", "from": "14302287001", "to": "33170363950", "date": "2023-08-21T06:43:36.000Z"}),
        );

        let e = event(&body);

        assert_eq!(e.event_type, "post-call");
        assert_eq!(e.event_key.as_str(), "99df5ffd-962a-410f-bcce-d08f1f7f328c#post-call");
        assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2023, 8, 21, 6, 43, 36).unwrap()));
        assert_eq!(attr(&e, "kind"), Some(&json!("post-call")));
        assert_eq!(attr(&e, "disposition"), Some(&json!("answered")));
        assert_eq!(attr(&e, "duration"), Some(&json!(6)));
        assert_eq!(attr(&e, "charge"), Some(&json!("0.822")));
        assert_eq!(attr(&e, "per_minute"), Some(&json!("0.0065")));
        assert_eq!(attr(&e, "destination"), Some(&json!("France")));
        assert_eq!(attr(&e, "from"), Some(&json!("+14302287001")));
        assert_eq!(attr(&e, "to"), Some(&json!("+33170363950")));
        assert_eq!(attr(&e, "date"), Some(&json!("2023-08-21T06:43:36Z")));
        assert_eq!(e.callback, CallbackDecision::NotDue);
    }

    #[test]
    fn a_post_call_key_does_not_depend_on_the_date_format() {
        let a = event(&post_call(json!({"date": "2025-09-22T12:56:38.000Z"})));
        let b = event(&post_call(json!({"date": 1_758_545_798_u64})));

        assert_eq!(a.event_key, b.event_key);
    }

    #[test]
    fn an_explicit_post_call_event_type_is_the_post_call_event() {
        let e = event(&post_call(json!({"event_type": "post-call"})));

        assert_eq!(e.event_type, "post-call");
        assert_eq!(e.event_key.as_str(), "99df5ffd-962a-410f-bcce-d08f1f7f328c#post-call");
    }

    #[test]
    fn cdr_extras_are_normalised_and_numbers_as_strings_are_read() {
        let body = post_call(json!({
            "duration": "21",
            "billsec": "0",
            "answered_by": "human",
            "parent_uuid": "AA566501-C591-4A8B-B3B9-CC1295398B72",
            "forward_fee": "0.003",
            "sip_trunk": null
        }));

        let e = event(&body);

        assert_eq!(attr(&e, "duration"), Some(&json!(21)));
        assert_eq!(attr(&e, "billsec"), Some(&json!(0)));
        assert_eq!(attr(&e, "answered_by"), Some(&json!("human")));
        assert_eq!(attr(&e, "parent_uuid"), Some(&json!("aa566501-c591-4a8b-b3b9-cc1295398b72")));
        assert_eq!(attr(&e, "forward_fee"), Some(&json!("0.003")));
        assert_eq!(attr(&e, "sip_trunk"), None);
    }

    #[test]
    fn an_unparseable_post_call_date_is_rejected_as_invalid_timestamp() {
        let r = rejection(&post_call(json!({"date": "21/08/2023"})));

        assert_eq!(r.reason, "invalid_timestamp");
        assert_eq!(r.event_type.as_deref(), Some("post-call"));
    }

    #[test]
    fn a_post_call_without_a_date_is_accepted_and_the_task_dated_at_receipt() {
        let e = event(&post_call(json!({"-date": null})));

        assert_eq!(e.occurred_at, None);
        assert_eq!(e.callback.request().unwrap().requested_at, ctx().received_at);
    }

    // ---- the missed-call rule --------------------------------------------

    #[test]
    fn an_inbound_post_call_that_was_not_answered_gives_one_missed_call_task() {
        for disposition in ["noanswer", "busy", "failed", "NO ANSWER", "cancelled"] {
            let e = event(&post_call(json!({"disposition": disposition})));

            let CallbackDecision::Due(request) = &e.callback else { panic!("{disposition}: {:?}", e.callback) };
            assert_eq!(request.reason, CallbackReason::MissedCall);
            assert_eq!(request.phone.as_str(), "+14155550100");
            assert_eq!(request.business_phone.as_ref().map(PhoneNumber::as_str), Some("+17653889567"));
            assert_eq!(request.window, None);
            assert_eq!(request.alternate_phone, None);
            assert_eq!(request.requested_at, Utc.with_ymd_and_hms(2025, 9, 22, 12, 56, 38).unwrap());
            assert_eq!(request.context.get("call_uuid"), Some(&json!("99df5ffd-962a-410f-bcce-d08f1f7f328c")));
            assert_eq!(attr(&e, "missed"), Some(&json!(true)));
        }
    }

    #[test]
    fn an_answered_inbound_post_call_gives_no_task() {
        for disposition in ["answered", "ANSWERED"] {
            let e = event(&post_call(json!({"disposition": disposition, "duration": 42})));

            assert_eq!(e.callback, CallbackDecision::NotDue);
            assert_eq!(attr(&e, "missed"), Some(&json!(false)));
        }
    }

    #[test]
    fn an_outbound_or_directionless_unanswered_post_call_gives_no_task() {
        for fields in [json!({"direction": "outbound"}), json!({"-direction": null}), json!({"direction": "internal"})]
        {
            let e = event(&post_call(fields));

            assert_eq!(e.callback, CallbackDecision::NotDue);
            assert_eq!(attr(&e, "answered"), Some(&json!(false)));
            assert_eq!(attr(&e, "missed"), Some(&json!(false)));
        }
    }

    #[test]
    fn a_post_call_without_disposition_is_decided_by_its_answer_time() {
        let unanswered = event(&post_call(json!({"-disposition": null, "charge": "0", "answered_at": null})));
        let answered =
            event(&post_call(json!({"-disposition": null, "charge": "0", "answered_at": "2025-09-22T12:56:45Z"})));
        let unknown = event(&post_call(json!({"-disposition": null, "charge": "0"})));
        let unreadable = event(&post_call(json!({"-disposition": null, "charge": "0", "answered_at": "soon"})));

        assert!(matches!(unanswered.callback, CallbackDecision::Due(_)));
        assert_eq!(answered.callback, CallbackDecision::NotDue);
        assert_eq!(unknown.callback, CallbackDecision::NotDue);
        assert_eq!(attr(&unknown, "missed"), None);
        assert_eq!(unreadable.callback, CallbackDecision::NotDue);
    }

    #[test]
    fn a_missed_call_from_a_hidden_or_unreadable_number_is_unreachable() {
        for from in [json!("anonymous"), json!(null), json!(""), json!("12")] {
            let e = event(&post_call(json!({"from": from})));

            assert_eq!(e.callback, CallbackDecision::Unreachable { reason: CallbackReason::MissedCall });
        }
    }

    #[test]
    fn on_call_terminal_events_mark_missed_inbound_calls_but_never_produce_a_task() {
        let cases = [
            (json!({"event_type": "busy"}), false),
            (json!({"event_type": "cancelled"}), false),
            (json!({"event_type": "rejected"}), false),
            (json!({"event_type": "failed"}), false),
            (json!({"event_type": "completed", "call_answered": null}), false),
            (json!({"event_type": "completed", "call_answered": "2025-09-22T12:56:45Z"}), true),
        ];
        for (fields, answered) in cases {
            let e = event(&on_call(fields));

            assert_eq!(attr(&e, "answered"), Some(&json!(answered)), "{}", e.event_type);
            assert_eq!(attr(&e, "missed"), Some(&json!(!answered)), "{}", e.event_type);
            assert_eq!(e.callback, CallbackDecision::NotDue);
        }
    }

    #[test]
    fn non_terminal_on_call_events_say_nothing_about_answering() {
        for event_type in ["call_setup", "ringing", "early_media", "answered", "on_call_event", "transfer"] {
            let e = event(&on_call(json!({"event_type": event_type})));

            assert_eq!(attr(&e, "answered"), None);
            assert_eq!(attr(&e, "missed"), None);
        }
    }

    #[test]
    fn one_missed_inbound_call_produces_exactly_one_task_across_all_its_webhooks() {
        let deliveries = [
            on_call(json!({"event_type": "call_setup", "event_time": "2025-09-22T12:56:30Z"})),
            on_call(json!({"event_type": "ringing", "event_time": "2025-09-22T12:56:31Z"})),
            on_call(json!({"event_type": "busy", "event_time": "2025-09-22T12:56:38Z"})),
            on_call(json!({"event_type": "completed", "event_time": "2025-09-22T12:56:38.2Z"})),
            post_call(json!({"uuid": UUID, "disposition": "busy", "from": CALLER})),
            // Redelivery of the post-call event: same key, so the same task.
            post_call(json!({"uuid": UUID, "disposition": "busy", "from": CALLER})),
        ];
        let events: Vec<NormalisedEvent> = deliveries.iter().map(|b| event(b)).collect();

        let tasks: std::collections::BTreeSet<&str> =
            events.iter().filter(|e| e.callback.request().is_some()).map(|e| e.event_key.as_str()).collect();
        assert_eq!(tasks.into_iter().collect::<Vec<_>>(), [format!("{UUID}#post-call")]);
    }

    #[test]
    fn a_redelivery_is_the_same_event_with_the_same_task() {
        let body = post_call(json!({}));

        let first = event(&body);
        let second = event(&body);

        assert_eq!(first, second);
        assert_eq!(
            crate::CallbackTask::for_event(&first).unwrap().task_id,
            crate::CallbackTask::for_event(&second).unwrap().task_id
        );
    }

    // ---- decoding --------------------------------------------------------

    #[test]
    fn raw_is_the_body_exactly_as_received() {
        let body = format!("  {}\n", on_call(json!({})));

        let events = post(&body).unwrap();

        assert_eq!(events[0].raw, body);
    }

    #[test]
    fn a_json_array_is_a_batch_of_independent_events_each_with_its_own_raw_text() {
        let a = on_call(json!({"event_type": "ringing"}));
        let b = post_call(json!({"-uuid": null}));
        let body = format!("[{a} , {b}]");

        let events = post(&body).unwrap();

        assert_eq!(events.len(), 2);
        assert_eq!(events[0].raw, a);
        assert_eq!(events[1].raw, b);
        assert!(events[0].outcome.is_ok());
        assert_eq!(events[1].outcome.as_ref().unwrap_err().reason, "missing_call_id");
    }

    #[test]
    fn bad_json_is_not_json_and_other_shapes_are_the_wrong_shape() {
        assert!(matches!(post("{\"uuid\": "), Err(DecodeError::NotJson(_))));
        assert!(matches!(post("uuid=5dccb6b0"), Err(DecodeError::NotJson(_))));
        assert!(matches!(post("   "), Err(DecodeError::NotJson(_))));
        assert!(matches!(post("[1, 2"), Err(DecodeError::NotJson(_))));
        assert!(matches!(post("\"call_setup\""), Err(DecodeError::WrongShape(_))));
        assert!(matches!(post("42"), Err(DecodeError::WrongShape(_))));
        assert!(matches!(post("null"), Err(DecodeError::WrongShape(_))));
        assert!(matches!(post("[]"), Err(DecodeError::WrongShape(_))));
        assert!(matches!(post("[{\"uuid\": \"x\"}, 3]"), Err(DecodeError::WrongShape(_))));
    }

    #[test]
    fn decode_errors_never_echo_the_body() {
        let Err(DecodeError::NotJson(detail)) = post("{\"from\": \"+18045961058\" oops}") else { panic!() };

        assert!(!detail.contains("8045961058"), "{detail}");
    }

    #[test]
    fn only_post_with_a_json_content_type_is_accepted() {
        let body = on_call(json!({}));

        assert!(matches!(deliver("GET", None, &body), Err(DecodeError::MethodNotAllowed(_))));
        assert!(matches!(
            deliver("POST", Some("application/x-www-form-urlencoded"), &body),
            Err(DecodeError::UnsupportedContentType(_))
        ));
        assert!(deliver("POST", None, &body).is_ok());
        assert!(deliver("POST", Some("text/plain"), &body).is_ok());
    }

    #[test]
    fn a_body_that_is_not_utf8_is_refused() {
        let delivery = Delivery {
            method: "POST",
            path: "/webhooks/wavix",
            trigger: None,
            query: &[],
            content_type: None,
            body: &[0x7b, 0xff, 0x7d],
        };

        assert_eq!(Wavix.parse(&delivery, &ctx()), Err(DecodeError::NotUtf8));
    }

    // ---- recorded events (events/wavix) ---------------------------------

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Expect {
        Task(&'static str),
        NoTask,
        Unreachable,
        Rejected(&'static str),
        Undecodable,
        /// Base64 bodies are decoded by the pipeline; not re-checked here.
        Base64,
    }

    const RECORDED: &[(&str, Expect)] = &[
        ("batch-on-call-and-post-call", Expect::Task("+14155550123")),
        ("invalid-event-time", Expect::Rejected("invalid_timestamp")),
        ("invalid-missing-uuid", Expect::Rejected("missing_call_id")),
        ("malformed-body", Expect::Undecodable),
        // The token is the pipeline's business; the body is a missed call.
        ("missing-token", Expect::Task("+14155550123")),
        ("wrong-token", Expect::Task("+14155550123")),
        ("on-call-answered", Expect::NoTask),
        ("on-call-busy", Expect::NoTask),
        ("on-call-call-setup", Expect::NoTask),
        ("on-call-cancelled", Expect::NoTask),
        ("on-call-completed-answered", Expect::NoTask),
        ("on-call-completed-unanswered", Expect::NoTask),
        ("on-call-early-media", Expect::NoTask),
        ("on-call-event-audio", Expect::NoTask),
        ("on-call-event-collect", Expect::NoTask),
        ("on-call-failed", Expect::NoTask),
        ("on-call-rejected", Expect::NoTask),
        ("on-call-ringing", Expect::NoTask),
        ("on-call-transfer", Expect::NoTask),
        ("on-call-unknown-event-type", Expect::NoTask),
        ("on-call-variant-call-finished-no-direction", Expect::NoTask),
        ("on-call-variant-call-id-caller-callee", Expect::NoTask),
        ("on-call-variant-epoch-millis-event-time", Expect::NoTask),
        ("on-call-variant-event-payload-as-string", Expect::NoTask),
        ("on-call-variant-legacy-in-call-event", Expect::NoTask),
        ("post-call-inbound-answered", Expect::NoTask),
        ("post-call-inbound-missed-anonymous-caller", Expect::Unreachable),
        ("post-call-inbound-missed-busy", Expect::Task("+919876543210")),
        ("post-call-inbound-missed-failed", Expect::Task("+14155550123")),
        ("post-call-inbound-missed-noanswer", Expect::Task("+14155550123")),
        ("post-call-inbound-missed-noanswer-base64", Expect::Base64),
        ("post-call-inbound-missed-noanswer-redelivery", Expect::Task("+14155550123")),
        ("post-call-outbound-noanswer", Expect::NoTask),
        ("post-call-variant-legacy-cdr-no-direction", Expect::NoTask),
    ];

    fn recorded_body(name: &str) -> (Value, String) {
        let path = format!("{}/../../events/wavix/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let request: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path);
        let body = request["body"].as_str().expect("body").to_owned();
        (request, body)
    }

    #[test]
    fn every_recorded_event_parses_to_the_outcome_its_name_promises() {
        let dir = format!("{}/../../events/wavix", env!("CARGO_MANIFEST_DIR"));
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect(&dir)
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".json").to_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = RECORDED.iter().map(|(n, _)| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "every recorded event needs an expectation");

        for (name, expect) in RECORDED {
            let (request, body) = recorded_body(name);
            assert_eq!(request["rawPath"], "/webhooks/wavix", "{name}");
            assert_eq!(request["isBase64Encoded"], json!(*expect == Expect::Base64), "{name}");
            if *expect == Expect::Base64 {
                continue;
            }

            let parsed = post(&body);

            let Ok(events) = parsed else {
                assert_eq!(*expect, Expect::Undecodable, "{name}: {parsed:?}");
                continue;
            };
            let last = &events.last().unwrap().outcome;
            match (expect, last) {
                (Expect::Rejected(reason), Err(r)) => assert_eq!(r.reason, *reason, "{name}"),
                (Expect::Task(phone), Ok(e)) => {
                    assert_eq!(e.callback.request().map(|r| r.phone.as_str()), Some(*phone), "{name}")
                }
                (Expect::NoTask, Ok(e)) => assert_eq!(e.callback, CallbackDecision::NotDue, "{name}"),
                (Expect::Unreachable, Ok(e)) => assert!(
                    matches!(e.callback, CallbackDecision::Unreachable { reason: CallbackReason::MissedCall }),
                    "{name}"
                ),
                (expect, outcome) => panic!("{name}: expected {expect:?}, got {outcome:?}"),
            }
            let tasks = events.iter().filter(|p| p.outcome.as_ref().is_ok_and(|e| e.callback.request().is_some()));
            assert!(tasks.count() <= 1, "{name}: at most one task per delivery");
        }
    }

    #[test]
    fn the_recorded_redelivery_is_the_same_event_as_the_original() {
        let (_, original) = recorded_body("post-call-inbound-missed-noanswer");
        let (_, again) = recorded_body("post-call-inbound-missed-noanswer-redelivery");

        assert_eq!(event(&original).event_key, event(&again).event_key);
    }

    // ---- one-pass replacements, against the code they replace -----------

    const HOSTILE_TEXT: &[&str] = &[
        "",
        " ",
        "inbound",
        "INBOUND",
        " Incoming ",
        "In",
        "out",
        "OutGoing",
        "No-Answer",
        "no answer",
        "CANCELED",
        "Call-Setup",
        "post_call",
        "Post-Call",
        "POSTCALL",
        "null",
        "N/A",
        "-",
        "undefined",
        "İnbound",
        "ınbound",
        "ÄBC-déf ghi",
        "\u{a0}inbound\u{a0}",
        "in\tbound",
        "K-\u{212a}",
        "a--b  c",
    ];

    #[test]
    fn snake_lower_is_lower_case_then_dashes_and_spaces_replaced() {
        for text in HOSTILE_TEXT {
            assert_eq!(snake_lower(text), text.to_ascii_lowercase().replace(['-', ' '], "_"), "{text:?}");
            let old = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
            let old = if old == "canceled" { "cancelled".to_owned() } else { old };
            assert_eq!(normalise_event_type(text), old, "{text:?}");
        }
    }

    #[test]
    fn direction_is_read_as_the_lower_case_copy_was() {
        let old = |text: &str| -> Option<String> {
            let d = text.trim().to_ascii_lowercase();
            match d.as_str() {
                _ if is_sentinel(&d) => None,
                "inbound" | "incoming" | "in" => Some("inbound".into()),
                "outbound" | "outgoing" | "out" => Some("outbound".into()),
                _ => Some(d),
            }
        };
        for text in HOSTILE_TEXT {
            let e = event(&post_call(json!({ "direction": text })));
            assert_eq!(attr(&e, "direction").and_then(Value::as_str), old(text).as_deref(), "{text:?}");
        }
    }

    #[test]
    fn seconds_of_a_number_are_those_of_its_text() {
        let numbers = [
            json!(0),
            json!(6),
            json!(-5),
            json!(6.0),
            json!(6.5),
            json!(-0.0),
            json!(-6.5),
            json!(1e300),
            json!(1.5e19),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(0.000001),
        ];
        for n in numbers {
            let Value::Number(n) = n else { unreachable!() };
            assert_eq!(seconds_of_number(&n), seconds_of_text(&n.to_string()), "{n}");
        }
        for (sent, want) in [(json!(7), Some(7)), (json!("7.9"), Some(7)), (json!(-1), None), (json!(" 8 "), Some(8))] {
            let e = event(&post_call(json!({ "duration": sent })));
            assert_eq!(attr(&e, "duration"), want.map(Value::from).as_ref(), "{sent}");
        }
    }

    #[test]
    fn phone_numbers_are_read_as_with_a_plus_copied_onto_the_heap() {
        let old = |raw: &str| -> Option<PhoneNumber> {
            let raw = raw.trim();
            let user = match raw.split_once(':') {
                Some((scheme, rest)) if ["sip", "sips", "tel"].contains(&scheme.to_ascii_lowercase().as_str()) => {
                    rest.split(['@', ';']).next().unwrap_or(rest)
                }
                _ => raw,
            };
            let international =
                (11..=15).contains(&user.len()) && !user.starts_with('0') && user.bytes().all(|b| b.is_ascii_digit());
            let candidate = if international { ["+", user].concat() } else { user.to_owned() };
            PhoneNumber::parse(&candidate, PhoneRegion::INDIA).ok()
        };
        for raw in [
            "17653889567",
            "33170363950",
            "+18045961058",
            "9876543210",
            "09876543210",
            "919876543210",
            "123456789012345",
            "1234567890123456",
            "12345678901",
            "sip:17653889567@sip.wavix.net",
            "SIPS:33170363950;user=phone",
            "tel:+14155550123",
            "14155550١23",
            "anonymous",
            "",
        ] {
            assert_eq!(phone(Some(raw), PhoneRegion::INDIA), old(raw), "{raw:?}");
        }
    }

    #[test]
    fn implausible_epoch_times_are_refused() {
        assert_eq!(parse_instant("0"), None);
        assert_eq!(parse_instant("99999999999"), None);
        assert_eq!(parse_instant("1999-12-31T23:59:59Z"), None);
        assert_eq!(parse_instant("1758545798.5.4"), None);
        assert_eq!(parse_instant(".5"), None);
    }
}
