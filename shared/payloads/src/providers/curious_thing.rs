//! Curious Thing (AI voice agent) webhooks (seed 001): `CallComplete`,
//! `CallAttempted`, `CallReceived`, `SMSSent`, `SMSReceived`.
//!
//! A delivery is a JSON array of events (a batch of up to the account's
//! `batchSize`); a single object is read as a batch of one. Each element is
//! its own event with its own outcome: one bad element never spoils the rest.
//!
//! The public docs (`api.curiousthing.io/webhook_events`) show two shapes:
//!
//! - `CallComplete` in an envelope: `{id, eventType, createdAt, data: {...}}`;
//! - the other four as flat objects with neither `id` nor `eventType`
//!   (`{time, phone, status, note, campaignId, correlationId}` ...).
//!
//! Both are read. Field names are matched ignoring case, `_` and `-`
//! (`createdAt`, `created_at`, `CreatedAt` are one field); payload fields are
//! looked up in `data` first, then at the top level. Without an `eventType`
//! the type comes from the query parameter `eventType` (a URL configured per
//! event type), else from the element's shape; an SMS whose direction cannot
//! be known is stored as `SMS`. Unknown types are stored, never rejected.
//!
//! Strict on identity (`id`: string or number; else the SHA-256 of the
//! element's canonical JSON), on the event time (`createdAt` / `time`), and
//! on the customer's number when a callback is due (no valid number:
//! `Unreachable`, never a guess). Lenient elsewhere.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::json_text;
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::event::rfc3339;
use crate::fields::{Checked, NameIndex, Scalar, ScalarVisitor, slots};
use crate::lenient::{epoch_seconds, is_sentinel, scalar_text};
use crate::{
    Attributes, CallbackDecision, CallbackReason, CallbackRequest, DecodeError, EventKey, NormalisedEvent, PhoneNumber,
    PhoneRegion, Provider,
};

/// The Curious Thing receiver's parser.
#[derive(Debug, Default, Clone, Copy)]
pub struct CuriousThing;

impl ProviderParser for CuriousThing {
    fn provider(&self) -> Provider {
        Provider::CuriousThing
    }

    /// An empty array is a successful delivery of no events (`Ok(vec![])`):
    /// it is authentic and well-formed, and answering 400 would only make
    /// the provider retry a batch that has nothing in it.
    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
        delivery.require_post()?;
        delivery.require_json()?;
        let body = json_text(delivery.body)?;
        let hint = query_hint(delivery.query);
        let elements: Vec<&str> = match body.trim_start().as_bytes().first() {
            Some(b'[') => {
                let batch: Vec<&RawValue> = serde_json::from_str(body).map_err(not_json)?;
                batch.into_iter().map(RawValue::get).collect()
            }
            Some(b'{') => {
                // One object: read once, straight into the members its
                // fields are looked up in.
                if let Ok(element) = read(body) {
                    let outcome = normalise_element(&element, body, hint, ctx);
                    return Ok(vec![ParsedEvent { raw: body.to_owned(), outcome }]);
                }
                serde_json::from_str::<&RawValue>(body).map_err(not_json)?;
                vec![body]
            }
            _ => {
                serde_json::from_str::<serde::de::IgnoredAny>(body).map_err(not_json)?;
                return Err(DecodeError::WrongShape("expected a JSON array of events or one event object".into()));
            }
        };
        Ok(elements
            .into_iter()
            .map(|raw| ParsedEvent { raw: raw.to_owned(), outcome: parse_element(raw, hint, ctx) })
            .collect())
    }
}

/// Where serde failed, without echoing the offending text.
fn not_json(err: serde_json::Error) -> DecodeError {
    DecodeError::NotJson(format!("line {} column {}", err.line(), err.column()))
}

/// The event types Curious Thing documents, plus what we can tell of an SMS
/// whose direction the payload does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    CallComplete,
    CallAttempted,
    CallReceived,
    SmsSent,
    SmsReceived,
    /// An SMS without `eventType`: sent or received cannot be told apart.
    Sms,
    Unknown,
}

impl Kind {
    /// Accepts the documented names and their case/spelling variants
    /// (`callComplete`, `call_complete`, `CALL-COMPLETE`, `CallCompleted`).
    fn from_name(name: &str) -> Option<Kind> {
        Some(match fold(name).as_str() {
            "callcomplete" | "callcompleted" => Kind::CallComplete,
            "callattempted" | "callattempt" => Kind::CallAttempted,
            "callreceived" => Kind::CallReceived,
            "smssent" => Kind::SmsSent,
            "smsreceived" => Kind::SmsReceived,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::CallComplete => "CallComplete",
            Kind::CallAttempted => "CallAttempted",
            Kind::CallReceived => "CallReceived",
            Kind::SmsSent => "SMSSent",
            Kind::SmsReceived => "SMSReceived",
            Kind::Sms => "SMS",
            Kind::Unknown => "unknown",
        }
    }
}

/// Lower case, letters and digits only: how names are compared.
fn fold(s: &str) -> String {
    if s.is_ascii() {
        // The same for ASCII, without the per-character Unicode machinery.
        let mut out = String::with_capacity(s.len());
        out.extend(s.bytes().filter(u8::is_ascii_alphanumeric).map(|b| char::from(b.to_ascii_lowercase())));
        return out;
    }
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// `scalar_text` of a member's `Value`.
fn member_text(member: &Member<'_>) -> Option<String> {
    member.text().map(Cow::into_owned)
}

/// True when `key` folds to `folded` (already folded), without allocating.
fn key_is(key: &str, folded: &str) -> bool {
    key.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).eq(folded.chars())
}

/// The event type named in the delivery's query (`?eventType=SMSSent`), for
/// URLs configured per event type. Only known names count.
fn query_hint(query: &[(String, String)]) -> Option<Kind> {
    query
        .iter()
        .filter(|(k, _)| ["eventtype", "event", "type"].iter().any(|n| key_is(k, n)))
        .find_map(|(_, v)| Kind::from_name(v))
}

/// A JSON object's non-null members under their folded names, in the
/// object's order: every key is folded once, not once per name looked up,
/// into one buffer (`names[range]` is a member's folded name).
struct FoldedObject<'a> {
    names: String,
    members: Vec<(std::ops::Range<usize>, &'a Value)>,
}

impl<'a> FoldedObject<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        let mut names = String::with_capacity(map.keys().map(String::len).sum());
        let mut members = Vec::with_capacity(map.len());
        for (key, value) in map.iter().filter(|(_, v)| !v.is_null()) {
            let start = names.len();
            if key.is_ascii() {
                // `fold` without the per-character Unicode machinery.
                names.extend(key.bytes().filter(u8::is_ascii_alphanumeric).map(|b| char::from(b.to_ascii_lowercase())));
            } else {
                names.push_str(&fold(key));
            }
            members.push((start..names.len(), value));
        }
        Self { names, members }
    }

    /// The value under the first of `names` (folded) present.
    fn lookup(&self, names: &[&str]) -> Option<&'a Value> {
        names.iter().find_map(|n| self.members.iter().find(|(k, _)| &self.names[k.clone()] == *n).map(|(_, v)| *v))
    }
}

/// Every member name (folded) the parser reads, each with a slot in
/// [`Folded`]; alias lists below are slots of this table. The names the
/// current payloads send come first, then the aliases: [`NameIndex`]
/// compares a name with the names of its length in this order.
const NAMES: [&str; 67] = [
    "id",
    "eventtype",
    "data",
    "createdat",
    "time",
    "startedtime",
    "phone",
    "campaignid",
    "correlationid",
    "callresultid",
    "sessionid",
    "name",
    "status",
    "note",
    "additionalinformation",
    "laststepname",
    "requests",
    "flow",
    "type",
    "from",
    "to",
    "message",
    "eventid",
    "event",
    "payload",
    "timestamp",
    "eventtime",
    "createdtime",
    "endedtime",
    "endtime",
    "endedat",
    "completedtime",
    "completedat",
    "finishedtime",
    "starttime",
    "startedat",
    "phonenumber",
    "contactphone",
    "contactnumber",
    "customerphone",
    "customernumber",
    "mobile",
    "businessphone",
    "businessnumber",
    "campaignphone",
    "campaignphonenumber",
    "campaignname",
    "contactname",
    "customername",
    "result",
    "outcome",
    "reason",
    "failurereason",
    "additionalinfo",
    "duration",
    "durationseconds",
    "callduration",
    "durationsec",
    "calltype",
    "direction",
    "fromnumber",
    "sender",
    "tonumber",
    "recipient",
    "text",
    "body",
    "messagebody",
];

const NAME_INDEX: NameIndex<{ NAMES.len() }> = NameIndex::new(&NAMES);

const fn slots_of<const K: usize>(names: [&str; K]) -> [usize; K] {
    slots(names, &NAMES)
}

const ID: &[usize] = &slots_of(["id", "eventid"]);
const EVENT_TYPE: &[usize] = &slots_of(["eventtype", "event"]);
const TYPE: &[usize] = &slots_of(["type"]);
const DATA: &[usize] = &slots_of(["data", "payload"]);
const OCCURRED_AT: &[usize] = &slots_of(["createdat", "time", "timestamp", "eventtime", "createdtime"]);
const ENDED_AT: &[usize] =
    &slots_of(["endedtime", "endtime", "endedat", "completedtime", "completedat", "finishedtime"]);
const STARTED_AT: &[usize] = &slots_of(["startedtime", "starttime", "startedat"]);
const PHONE: &[usize] =
    &slots_of(["phone", "phonenumber", "contactphone", "contactnumber", "customerphone", "customernumber", "mobile"]);
const BUSINESS_PHONE: &[usize] = &slots_of(["businessphone", "businessnumber", "campaignphone", "campaignphonenumber"]);
const CAMPAIGN_ID: &[usize] = &slots_of(["campaignid"]);
const CAMPAIGN_NAME: &[usize] = &slots_of(["campaignname"]);
const CORRELATION_ID: &[usize] = &slots_of(["correlationid"]);
const CALL_RESULT_ID: &[usize] = &slots_of(["callresultid"]);
const SESSION_ID: &[usize] = &slots_of(["sessionid"]);
const NAME: &[usize] = &slots_of(["name", "contactname", "customername"]);
const STATUS: &[usize] = &slots_of(["status", "result", "outcome"]);
const NOTE: &[usize] = &slots_of(["note", "reason", "failurereason"]);
const ADDITIONAL_INFORMATION: &[usize] = &slots_of(["additionalinformation", "additionalinfo"]);
const LAST_STEP_NAME: &[usize] = &slots_of(["laststepname"]);
const REQUESTS: &[usize] = &slots_of(["requests"]);
const FLOW: &[usize] = &slots_of(["flow"]);
const DURATION: &[usize] = &slots_of(["duration", "durationseconds", "callduration", "durationsec"]);
const CALL_TYPE: &[usize] = &slots_of(["type", "calltype", "direction"]);
const FROM: &[usize] = &slots_of(["from", "fromnumber", "sender"]);
const TO: &[usize] = &slots_of(["to", "tonumber", "recipient"]);
const MESSAGE: &[usize] = &slots_of(["message", "text", "body", "messagebody"]);

/// One member as read: a scalar (`requests` whole, as a `Value`), or, for
/// the top level's `data`/`payload`, the nested object's members.
enum Member<'de> {
    Scalar(Scalar<'de>),
    Object(Box<Folded<'de>>),
}

impl Member<'_> {
    fn is_null(&self) -> bool {
        match self {
            Member::Scalar(Scalar::Null) => true,
            Member::Scalar(Scalar::Value(v)) => v.is_null(),
            _ => false,
        }
    }

    /// `scalar_str` of the member's `Value`.
    fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Member::Scalar(s) => s.text(),
            Member::Object(_) => None,
        }
    }
}

struct Entry<'de> {
    /// The member's name as sent.
    key: Cow<'de, str>,
    member: Member<'de>,
}

/// A JSON object's members under the folded names of [`NAMES`], read in
/// one pass; the lookups give what a `Map` of the object, nulls left out,
/// searched by folded name in key order, would give.
struct Folded<'de> {
    /// Per slot, 1 + the index in `entries` of its first member (0: none).
    first: [u32; NAMES.len()],
    entries: Vec<(usize, Entry<'de>)>,
    /// Some names fold to a slot another name took (`createdAt` and
    /// `created_at`): rare, and then lookups compare the names.
    shared_slots: bool,
}

impl<'de> Folded<'de> {
    fn new() -> Self {
        Self { first: [0; NAMES.len()], entries: Vec::with_capacity(16), shared_slots: false }
    }

    fn put(&mut self, slot: usize, key: Cow<'de, str>, member: Member<'de>) {
        if self.first[slot] != 0 {
            // The same name again: the last value wins, as in a `Map`.
            if let Some((_, e)) = self.entries.iter_mut().find(|(s, e)| *s == slot && e.key == key) {
                e.member = member;
                return;
            }
            self.shared_slots = true;
        } else {
            self.first[slot] = u32::try_from(self.entries.len() + 1).unwrap_or(u32::MAX);
        }
        self.entries.push((slot, Entry { key, member }));
    }

    /// The non-null member under `slot` whose name sorts first.
    fn slot(&self, slot: usize) -> Option<&Member<'de>> {
        let first = self.first[slot] as usize;
        if first == 0 {
            return None;
        }
        if !self.shared_slots {
            let member = &self.entries[first - 1].1.member;
            return (!member.is_null()).then_some(member);
        }
        self.entries
            .iter()
            .filter(|(s, e)| *s == slot && !e.member.is_null())
            .map(|(_, e)| e)
            .min_by(|a, b| a.key.cmp(&b.key))
            .map(|e| &e.member)
    }

    /// The member under the first of `slots` present.
    fn lookup(&self, slots: &[usize]) -> Option<&Member<'de>> {
        slots.iter().find_map(|&i| self.slot(i))
    }
}

/// One element read: its members, or the kind of JSON value it is instead.
enum Element<'de> {
    Object(Box<Folded<'de>>),
    Other(&'static str),
}

/// One JSON text read in one pass (accepting and refusing exactly what
/// `serde_json::from_str::<Value>` does).
fn read(text: &str) -> Result<Element<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let element = de.deserialize_any(ElementVisitor { top: true })?;
    de.end()?;
    Ok(element)
}

/// Reads an element (`top`) or the value of its `data`/`payload` member.
#[derive(Clone, Copy)]
struct ElementVisitor {
    top: bool,
}

impl<'de> DeserializeSeed<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut folded = Folded::new();
        while let Some(name) = map.next_key_seed(FoldedName)? {
            let Some((slot, key)) = name else {
                map.next_value::<Checked>()?;
                continue;
            };
            let member = if self.top && DATA.contains(&slot) {
                map.next_value_seed(DataVisitor)?
            } else if REQUESTS.contains(&slot) {
                Member::Scalar(Scalar::Value(Box::new(map.next_value::<Value>()?)))
            } else {
                Member::Scalar(map.next_value::<Scalar<'de>>()?)
            };
            folded.put(slot, key, member);
        }
        Ok(Element::Object(Box::new(folded)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Element::Other("array"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Element::Other("boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Element::Other("number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Element::Other("number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Element::Other("number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Element::Other("string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Element::Other("null"))
    }
}

/// The value of the top level's `data`/`payload`: an object's members, or
/// a scalar like any other member.
struct DataVisitor;

impl<'de> DeserializeSeed<'de> for DataVisitor {
    type Value = Member<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match (ElementVisitor { top: false }).visit_map(map)? {
            Element::Object(nested) => Ok(Member::Object(nested)),
            Element::Other(_) => unreachable!("visit_map reads an object"),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ScalarVisitor.visit_seq(seq).map(Member::Scalar)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        ScalarVisitor.visit_bool(b).map(Member::Scalar)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_i64(n).map(Member::Scalar)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_u64(n).map(Member::Scalar)
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        ScalarVisitor.visit_f64(n).map(Member::Scalar)
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        ScalarVisitor.visit_borrowed_str(s).map(Member::Scalar)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        ScalarVisitor.visit_str(s).map(Member::Scalar)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        ScalarVisitor.visit_unit().map(Member::Scalar)
    }
}

/// A member name's slot in [`NAMES`] after folding, with the name as sent.
struct FoldedName;

impl<'de> DeserializeSeed<'de> for FoldedName {
    type Value = Option<(usize, Cow<'de, str>)>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FoldedName {
    type Value = Option<(usize, Cow<'de, str>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(slot_of(key).map(|slot| (slot, Cow::Borrowed(key))))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(slot_of(key).map(|slot| (slot, Cow::Owned(key.to_owned()))))
    }
}

/// The slot of `key` folded, without allocating for ASCII names.
fn slot_of(key: &str) -> Option<usize> {
    let mut buf = [0u8; 32];
    if key.is_ascii() && key.len() <= buf.len() {
        let mut len = 0;
        for b in key.bytes().filter(u8::is_ascii_alphanumeric) {
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
        NAME_INDEX.find(&NAMES, &buf[..len])
    } else {
        NAME_INDEX.find(&NAMES, fold(key).as_bytes())
    }
}

/// One element's fields: the envelope (top level) and its `data` object.
struct Fields<'a, 'de> {
    top: &'a Folded<'de>,
    data: Option<&'a Folded<'de>>,
}

impl<'a, 'de> Fields<'a, 'de> {
    /// A payload field: in `data` first, then at the top level.
    fn get(&self, names: &[usize]) -> Option<&'a Member<'de>> {
        self.data.and_then(|d| d.lookup(names)).or_else(|| self.top.lookup(names))
    }

    /// An envelope field: at the top level first, then in `data`.
    fn envelope(&self, names: &[usize]) -> Option<&'a Member<'de>> {
        self.top.lookup(names).or_else(|| self.data.and_then(|d| d.lookup(names)))
    }

    /// A payload field as meaningful text (no null, blank or `"NA"`).
    fn text(&self, names: &[usize]) -> Option<Cow<'a, str>> {
        self.get(names).and_then(Member::text).filter(|s| !is_sentinel(s))
    }

    fn has(&self, names: &[usize]) -> bool {
        self.get(names).is_some()
    }
}

/// Fields only a `CallComplete` has, for elements that do not say their type.
const CALL_COMPLETE_SHAPE: &[usize] = &slots_of(["requests", "flow", "callresultid", "sessionid", "laststepname"]);

fn parse_element(raw: &str, hint: Option<Kind>, ctx: &ParseContext) -> Result<NormalisedEvent, Rejection> {
    let element = read(raw).map_err(|_| Rejection::new("invalid_payload", "batch element is not valid JSON"))?;
    normalise_element(&element, raw, hint, ctx)
}

/// One element, read from `raw` (its exact text, for the content key).
fn normalise_element(
    element: &Element<'_>,
    raw: &str,
    hint: Option<Kind>,
    ctx: &ParseContext,
) -> Result<NormalisedEvent, Rejection> {
    let top = match element {
        Element::Object(top) => top,
        Element::Other(kind) => return Err(Rejection::new("not_an_object", format!("batch element is a JSON {kind}"))),
    };

    let data_field = top.lookup(DATA);
    let data = match data_field {
        Some(Member::Object(d)) => Some(&**d),
        _ => None,
    };
    let fields = Fields { top, data };

    // The event type: declared, else the URL's, else the shape's.
    let declared = fields
        .top
        .lookup(EVENT_TYPE)
        .and_then(member_text)
        .or_else(|| fields.top.lookup(TYPE).and_then(member_text).filter(|t| Kind::from_name(t).is_some()));
    let (kind, event_type, source) = match &declared {
        Some(name) => match Kind::from_name(name) {
            Some(kind) => (kind, kind.name().to_owned(), "payload"),
            None => (Kind::Unknown, name.clone(), "payload"),
        },
        None => match hint {
            Some(kind) => (kind, kind.name().to_owned(), "query"),
            None => {
                let kind = infer(&fields);
                (kind, kind.name().to_owned(), "shape")
            }
        },
    };
    // Unknown types are stored and acknowledged, never rejected (DESIGN.md):
    // for them a bad id falls back to the content hash, a bad time is dropped.
    let strict = kind != Kind::Unknown;
    let reject = |reason: &'static str, detail: &str| Rejection::new(reason, detail).with_event_type(Some(&event_type));

    if strict && data_field.is_some_and(|d| !matches!(d, Member::Object(_))) {
        return Err(reject("invalid_payload", "data is not an object"));
    }

    let (event_key, key_source) = match event_key(fields.top) {
        Ok(Some(key)) => (key, "id"),
        Ok(None) => (content_key(raw), "content_sha256"),
        Err(detail) if strict => return Err(reject("invalid_event_id", detail)),
        Err(_) => (content_key(raw), "content_sha256"),
    };

    let occurred_at = match fields.envelope(OCCURRED_AT) {
        None => None,
        Some(v) => match parse_time(v) {
            Some(at) => Some(at),
            None if strict => return Err(reject("invalid_timestamp", "createdAt/time is not a timestamp")),
            None => None,
        },
    };

    let mut attributes = Attributes::new();
    attributes.insert("key_source", Value::from(key_source));
    attributes.insert("event_type_source", Value::from(source));
    if let Some(name) = declared.filter(|d| d != &event_type) {
        attributes.insert("event_type_raw", Value::from(name));
    }
    put_text(&mut attributes, "campaign_id", fields.text(CAMPAIGN_ID));
    put_text(&mut attributes, "campaign_name", fields.text(CAMPAIGN_NAME));
    put_text(&mut attributes, "correlation_id", fields.text(CORRELATION_ID));

    let region = ctx.default_region;
    let callback = match kind {
        Kind::CallComplete => call_complete(&fields, occurred_at, ctx, &mut attributes),
        Kind::CallAttempted => {
            put_phone(&mut attributes, "phone", fields.text(PHONE).and_then(|p| phone(&p, region)));
            put_text(&mut attributes, "status", fields.text(STATUS));
            put_text(&mut attributes, "note", fields.text(NOTE));
            CallbackDecision::NotDue
        }
        Kind::CallReceived => {
            put_phone(&mut attributes, "phone", fields.text(PHONE).and_then(|p| phone(&p, region)));
            let call_type = fields.text(CALL_TYPE).filter(|t| Kind::from_name(t).is_none());
            put_text(&mut attributes, "call_type", call_type);
            CallbackDecision::NotDue
        }
        Kind::SmsSent | Kind::SmsReceived | Kind::Sms => {
            sms(&fields, kind, region, &mut attributes);
            CallbackDecision::NotDue
        }
        Kind::Unknown => {
            put_phone(&mut attributes, "phone", fields.text(PHONE).and_then(|p| phone(&p, region)));
            put_text(&mut attributes, "status", fields.text(STATUS));
            CallbackDecision::NotDue
        }
    };

    Ok(NormalisedEvent { provider: Provider::CuriousThing, event_key, event_type, occurred_at, attributes, callback })
}

/// The type of an element that does not name one, from the fields only one
/// type has. Order matters: a `CallComplete` also has `status` and `phone`.
fn infer(fields: &Fields<'_, '_>) -> Kind {
    if fields.has(CALL_COMPLETE_SHAPE) {
        Kind::CallComplete
    } else if fields.has(MESSAGE) || (fields.has(FROM) && fields.has(TO)) {
        Kind::Sms
    } else if fields.text(TYPE).is_some() {
        Kind::CallReceived
    } else if fields.has(STATUS) || fields.has(NOTE) {
        Kind::CallAttempted
    } else {
        Kind::Unknown
    }
}

/// The element's own `id` (string or number). `Ok(None)`: no id (absent,
/// null or blank), so the content hash is the key. UUIDs are keyed in their
/// lower-case hyphenated form, so `ABC…` and `abc…` are one event.
fn event_key(top: &Folded<'_>) -> Result<Option<EventKey>, &'static str> {
    let text = match top.lookup(ID) {
        None => return Ok(None),
        Some(Member::Scalar(Scalar::Text(s))) if crate::lenient::trim(s).is_empty() => return Ok(None),
        Some(Member::Scalar(Scalar::Text(s))) => crate::lenient::trim(s).to_owned(),
        Some(Member::Scalar(Scalar::Number(n))) => n.to_string(),
        Some(_) => return Err("id is not a string or a number"),
    };
    let text = match uuid::Uuid::try_parse(&text) {
        Ok(uuid) => crate::task::uuid_text(uuid),
        Err(_) => text,
    };
    EventKey::parse(text).map(Some).map_err(|e| match e {
        crate::InvalidEventKey::Empty => "id is empty",
        crate::InvalidEventKey::TooLong => "id is too long",
        crate::InvalidEventKey::ControlCharacter => "id contains a control character",
    })
}

/// Key of an element without an id: SHA-256 (hex) of its canonical JSON, so
/// the same content redelivered with other key order or spacing is one event.
fn content_key(raw: &str) -> EventKey {
    // Only elements without a usable id get here: they are read again, whole.
    let element: Value = serde_json::from_str(raw).expect("an element read once reads again as a Value");
    let mut canonical = Vec::with_capacity(raw.len());
    write_canonical(&element, &mut canonical);
    let digest = Sha256::digest(&canonical);
    EventKey::parse(hex::encode(digest)).expect("a hex digest is a valid key")
}

/// Object keys sorted (by UTF-8 bytes) at every depth, no insignificant
/// whitespace, strings escaped as serde_json escapes them. Sorted explicitly,
/// so it holds even if some crate turns on serde_json's `preserve_order`.
#[cfg(test)]
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8(out).expect("JSON text is UTF-8")
}

/// [`canonical_json`] written into `out`: names and scalars straight from
/// serde_json's compact writer (what `Value`'s `Display` prints, without a
/// `String` and the formatting machinery for each; issue 6).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    fn write<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, json: &T) {
        serde_json::to_writer(out, json).expect("JSON writes to a Vec");
    }
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (name, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, name.as_str());
                out.push(b':');
                write_canonical(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        scalar => write(out, scalar),
    }
}

/// A timestamp as the provider may send it: RFC 3339 / ISO 8601 with a zone
/// (`2022-08-31T21:46:58.621Z`, `+10:00`, `+1000`), ISO without a zone (read
/// as UTC, the zone every documented example uses), a space instead of `T`,
/// or epoch seconds/milliseconds as a number or a string. Years outside
/// 2001-2100 are not event times.
fn parse_time(value: &Member<'_>) -> Option<DateTime<Utc>> {
    let s = value.text()?;
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch_seconds(&s).ok();
    }
    let at = DateTime::parse_from_rfc3339(&s)
        .or_else(|_| DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)))
        .or_else(|_| DateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%z"))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())
                .map(|n| n.and_utc())
        })?;
    let secs = at.timestamp();
    (978_307_200..=4_102_444_800).contains(&secs).then_some(at)
}

/// A number in E.164. Curious Thing sends international numbers without the
/// `+` (`61491573087`), which the shared region-first parser would misread
/// as a long national number of the default region (`+9161491573087`). So:
/// the default region's reading when it is a valid number there; a number
/// written unambiguously (`+`, `00`, a trunk `0`) keeps the shared reading;
/// bare digits are otherwise read as international when that is valid, and
/// are no number at all when neither reading is valid (never a guess).
fn phone(raw: &str, region: PhoneRegion) -> Option<PhoneNumber> {
    // Validity comes with the reading: no number is matched twice.
    let national = match PhoneNumber::parse_with_validity(raw, region) {
        Ok((number, true)) => return Some(number),
        Ok((number, false)) => Some(number),
        Err(_) => None,
    };
    let trimmed = crate::lenient::trim(raw);
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let bare = trimmed.chars().all(|c| c.is_ascii_digit() || " -().".contains(c)) && !digits.starts_with('0');
    if !bare {
        return national;
    }
    match PhoneNumber::parse_with_validity(&format!("+{digits}"), region) {
        Ok((number, true)) => Some(number),
        _ => None,
    }
}

fn put_text(attributes: &mut Attributes, name: &'static str, value: Option<impl Into<String>>) {
    if let Some(v) = value {
        attributes.insert(name, Value::from(v.into()));
    }
}

fn put_phone(attributes: &mut Attributes, name: &'static str, phone: Option<PhoneNumber>) {
    if let Some(p) = phone {
        attributes.insert(name, Value::from(p.as_str()));
    }
}

fn put_time(attributes: &mut Attributes, name: &'static str, at: Option<DateTime<Utc>>) {
    if let Some(at) = at {
        attributes.insert(name, Value::from(rfc3339(at)));
    }
}

/// `requests` as names: an array of strings (documented) or of objects with
/// a `type`/`name`/`requestType`; a lone string or object is a list of one.
fn request_names(value: Option<&Value>) -> Vec<String> {
    fn name(v: &Value) -> Option<String> {
        match v {
            Value::Object(m) => {
                FoldedObject::new(m).lookup(&["type", "name", "requesttype", "request", "kind"]).and_then(scalar_text)
            }
            other => scalar_text(other),
        }
    }
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(name).collect(),
        Some(Value::String(s)) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Some(other) => name(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `humanSupportRequest`, in any case or spelling (`human_support_request`).
fn is_human_support_request(name: &str) -> bool {
    matches!(fold(name).as_str(), "humansupportrequest" | "humansupport")
}

fn duration_seconds(fields: &Fields<'_, '_>) -> Option<Value> {
    let text = fields.text(DURATION)?;
    let seconds: f64 = text.parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)?;
    Some(if seconds.fract() == 0.0 { Value::from(seconds as u64) } else { Value::from(seconds) })
}

fn call_complete(
    fields: &Fields<'_, '_>,
    occurred_at: Option<DateTime<Utc>>,
    ctx: &ParseContext,
    attributes: &mut Attributes,
) -> CallbackDecision {
    let region = ctx.default_region;
    let customer = fields.text(PHONE).and_then(|p| phone(&p, region));
    let business = fields.text(BUSINESS_PHONE).and_then(|p| phone(&p, region));
    // Secondary times inform; a bad one is dropped rather than losing a task.
    let started_at = fields.get(STARTED_AT).and_then(parse_time);
    let ended_at = fields.get(ENDED_AT).and_then(parse_time);
    let requests = request_names(fields.get(REQUESTS).and_then(|m| match m {
        Member::Scalar(Scalar::Value(v)) => Some(&**v),
        _ => None,
    }));
    let human = requests.iter().any(|r| is_human_support_request(r));

    put_phone(attributes, "phone", customer.clone());
    put_phone(attributes, "business_phone", business.clone());
    put_text(attributes, "contact_name", fields.text(NAME));
    put_text(attributes, "call_result_id", fields.text(CALL_RESULT_ID));
    put_text(attributes, "session_id", fields.text(SESSION_ID));
    put_text(attributes, "status", fields.text(STATUS));
    put_text(attributes, "additional_information", fields.text(ADDITIONAL_INFORMATION));
    put_text(attributes, "last_step_name", fields.text(LAST_STEP_NAME));
    put_time(attributes, "started_at", started_at);
    put_time(attributes, "ended_at", ended_at);
    if let Some(duration) = duration_seconds(fields) {
        attributes.insert("duration_seconds", duration);
    }
    if let Some(Member::Scalar(Scalar::Array(flow_steps))) = fields.get(FLOW) {
        attributes.insert("flow_steps", Value::from(*flow_steps));
    }
    attributes.insert("requests", Value::from(requests));
    attributes.insert("human_support_requested", Value::from(human));

    if !human {
        return CallbackDecision::NotDue;
    }
    let reason = CallbackReason::HumanRequested;
    let Some(phone) = customer else {
        return CallbackDecision::Unreachable { reason };
    };
    let mut context = Attributes::new();
    for name in [
        "campaign_id",
        "campaign_name",
        "call_result_id",
        "session_id",
        "correlation_id",
        "contact_name",
        "status",
        "last_step_name",
    ] {
        if let Some(v) = attributes.get(name) {
            context.insert(name, v.clone());
        }
    }
    CallbackDecision::Due(Box::new(CallbackRequest {
        reason,
        phone,
        alternate_phone: None,
        business_phone: business,
        window: None,
        requested_at: ended_at.or(occurred_at).unwrap_or(ctx.received_at),
        context,
    }))
}

/// SMS: numbers (E.164) and the message's length, not its text. Who is the
/// customer follows from the direction, when the type says it.
fn sms(fields: &Fields<'_, '_>, kind: Kind, region: PhoneRegion, attributes: &mut Attributes) {
    let from = fields.text(FROM).and_then(|p| phone(&p, region));
    let to = fields.text(TO).and_then(|p| phone(&p, region));
    let (customer, business) = match kind {
        Kind::SmsSent => (to.clone(), from.clone()),
        Kind::SmsReceived => (from.clone(), to.clone()),
        _ => (None, None),
    };
    put_phone(attributes, "from", from);
    put_phone(attributes, "to", to);
    put_phone(attributes, "customer_phone", customer);
    put_phone(attributes, "business_phone", business);
    if let Some(Member::Scalar(Scalar::Text(message))) = fields.get(MESSAGE) {
        attributes.insert("message_length", Value::from(message.chars().count()));
    }
    put_text(attributes, "status", fields.text(STATUS));
}

#[cfg(test)]
mod tests;
