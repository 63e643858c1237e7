//! Tata Smartflo webhooks (seed 003): sixteen triggers, GET or POST, JSON or
//! form bodies.
//!
//! Smartflo sends no event type and no fixed schema: the customer writes the
//! body in Smartflo's console as a template mapping their own key names to
//! `$variables`, so the trigger comes from the path and every field is looked
//! up under the spellings seen in real integrations (see
//! `docs/providers/smartflo.md`): `$`-prefixed keys, camelCase, stray spaces
//! (`"customer_no_with_prefix "`), wrapper objects (`data`, `pyld`), numbers
//! as JSON numbers or strings. A variable Smartflo could not fill arrives as
//! the literal `$name`, `""`, `"null"` or `"NA"` and counts as absent.
//!
//! Identity is strict: the call id (or uuid) is required, and a present but
//! unreadable timestamp that decides the event's time, its DTMF key or a
//! callback's `requested_at` rejects the event.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::is_syntax_error;
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::event::{SetField, rfc3339};
use crate::fields::slots;
use crate::lenient::epoch_seconds;
use crate::{
    Attributes, CallbackDecision, CallbackReason, CallbackRequest, DecodeError, EventKey, NormalisedEvent, PhoneNumber,
    PhoneRegion, Provider,
};

/// The Smartflo receiver's parser.
#[derive(Debug, Default, Clone, Copy)]
pub struct Smartflo;

/// The sixteen trigger slugs of the route `/webhooks/smartflo/{trigger}`.
pub const TRIGGERS: [&str; 16] = [
    "call-received-on-server",
    "call-answered-on-ivr",
    "call-answered-by-agent",
    "call-hangup-missed",
    "call-hangup-answered",
    "call-hangup",
    "dtmf-option",
    "dialed-on-agent",
    "call-received-on-department",
    "call-received-on-auto-attendant",
    "call-answered-by-agent-hangup",
    "call-missed-by-agent-hangup",
    "call-answered-by-customer-click-to-call",
    "call-missed-by-customer-click-to-call",
    "call-connected-to-agent-dialer",
    "disposition-status-updated-dialer",
];

/// Triggers that always mean a missed call (DESIGN.md, task rules).
const MISSED_TRIGGERS: [&str; 3] =
    ["call-hangup-missed", "call-missed-by-agent-hangup", "call-missed-by-customer-click-to-call"];

/// Triggers sent when a call has ended: their time is the end of the call.
const END_TRIGGERS: [&str; 7] = [
    "call-hangup-missed",
    "call-hangup-answered",
    "call-hangup",
    "call-answered-by-agent-hangup",
    "call-missed-by-agent-hangup",
    "call-missed-by-customer-click-to-call",
    "disposition-status-updated-dialer",
];

/// Every name a lookup asks for, normalised (see `normalise_key`). A field
/// under any other name is parsed and checked but not kept: nothing reads it.
const NAMES: [&str; 114] = [
    // call identity
    "call_id",
    "callid",
    "smartflo_call_id",
    "tata_call_id",
    "uuid",
    "call_uuid",
    // parties
    "customer_no_with_prefix",
    "customer_number_with_prefix",
    "customer_num_with_prefix",
    "customer_number",
    "customer_no",
    "customer_phone",
    "client_number",
    "caller_id_number",
    "caller_id_num",
    "caller_number",
    "cid_num",
    "from_number",
    "call_to_number",
    "called_number",
    "call_num",
    "to_number",
    "destination_number",
    "did_number",
    "direction",
    "call_direction",
    "call_type",
    "call_status",
    "status",
    "callstatus",
    // times
    "start_stamp",
    "start_timestamp",
    "call_start_time",
    "answer_stamp",
    "answer_timestamp",
    "call_answer_time",
    "end_stamp",
    "end_timestamp",
    "call_end_time",
    "date",
    "dtmf_time",
    "pressed_at",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    // DTMF
    "digit_pressed",
    "dtmf",
    "dtmf_digit",
    "dtmf_option",
    "digit",
    "digits",
    "dtmf_input",
    "digits_dialed",
    // agents
    "answered_agent_number",
    "answer_agent_number",
    "agent_number",
    "first_missed_agent_number",
    "missed_agent_number",
    "answered_agent_name",
    "answer_agent_name",
    "agent_name",
    "agent",
    "missed_agent_name",
    "answered_agent",
    "answer_agent",
    "missed_agent",
    "missed_agents",
    "name",
    "number",
    "follow_me_number",
    // wrappers
    "data",
    "payload",
    "pyld",
    "body",
    "call",
    "webhook",
    // attributes
    "hangup_cause",
    "hangup_cause_description",
    "reason_key",
    "recording_url",
    "recording",
    "disposition",
    "disposition_status",
    "sub_disposition",
    "sub_dispositon",
    "subdisposition",
    "campaign_name",
    "broadcast_name",
    "campaign_id",
    "broadcast_id",
    "dept_name",
    "department_name",
    "department",
    "dept_id",
    "department_id",
    "ivr_name",
    "ivr_id",
    "auto_attendant_name",
    "auto_attendant_id",
    "ref_id",
    "reference_id",
    "custom_identifier",
    "telecom_operator",
    "telecom_circle",
    "duration",
    "call_duration",
    "billsec",
    "bill_sec",
    "agent_ring_time",
    "call_connected",
    "billing_circle",
    "operator",
    "circle",
];

/// `NAMES` by hash: an open-addressing table built at compile time. A key
/// costs one short hash and, mostly, one comparison (grouping by length
/// alone left up to a dozen comparisons per key, unread keys included).
const NAME_TABLE: [u8; NAME_TABLE_SIZE] = name_table();
const NAME_TABLE_SIZE: usize = 512;

/// Mixes the length and three bytes of a name (enough to spread `NAMES`).
const fn name_hash(name: &[u8]) -> usize {
    let len = name.len();
    if len == 0 {
        return 0;
    }
    let mixed = (len as u32) | (name[0] as u32) << 8 | (name[len / 2] as u32) << 16 | (name[len - 1] as u32) << 24;
    (mixed.wrapping_mul(0x9E37_79B1) >> 23) as usize
}

const fn name_table() -> [u8; NAME_TABLE_SIZE] {
    let mut table = [UNREAD; NAME_TABLE_SIZE];
    let mut slot = 0;
    while slot < NAMES.len() {
        let mut at = name_hash(NAMES[slot].as_bytes()) % NAME_TABLE_SIZE;
        while table[at] != UNREAD {
            at = (at + 1) % NAME_TABLE_SIZE;
        }
        table[at] = slot as u8;
        slot += 1;
    }
    table
}

/// The slot of a name no lookup asks for.
const UNREAD: u8 = u8::MAX;
const _: () = assert!(NAMES.len() < UNREAD as usize, "slots are bytes");

/// The slots of `names` in `NAMES`, at compile time (a name missing from
/// `NAMES` fails the build).
const fn aliases<const K: usize>(names: [&str; K]) -> [u8; K] {
    let slots = slots(names, &NAMES);
    let mut out = [0; K];
    let mut i = 0;
    while i < K {
        out[i] = slots[i] as u8;
        i += 1;
    }
    out
}

/// The slot of a normalised name, or `UNREAD`.
fn slot_of(name: &str) -> u8 {
    let mut at = name_hash(name.as_bytes()) % NAME_TABLE_SIZE;
    loop {
        let slot = NAME_TABLE[at];
        if slot == UNREAD || NAMES[usize::from(slot)] == name {
            return slot;
        }
        at = (at + 1) % NAME_TABLE_SIZE;
    }
}

/// Objects some senders and relays wrap the variables in (`{"data": {...}}`,
/// Smartflo's own relay `{"pyld": {...}}`); their fields are read after the
/// top-level ones.
const WRAPPERS: &[u8] = &aliases(["data", "payload", "pyld", "body", "call", "webhook"]);

// Field aliases, normalised (see `normalise_key`), in order of preference.
const CALL_ID: &[u8] = &aliases(["call_id", "callid", "smartflo_call_id", "tata_call_id"]);
const UUID: &[u8] = &aliases(["uuid", "call_uuid"]);
const CUSTOMER: &[u8] = &aliases([
    "customer_no_with_prefix",
    "customer_number_with_prefix",
    "customer_num_with_prefix",
    "customer_number",
    "customer_no",
    "customer_phone",
    "client_number",
]);
const CALLER_ID: &[u8] = &aliases(["caller_id_number", "caller_id_num", "caller_number", "cid_num", "from_number"]);
const CALL_TO: &[u8] =
    &aliases(["call_to_number", "called_number", "call_num", "to_number", "destination_number", "did_number"]);
const DIRECTION: &[u8] = &aliases(["direction", "call_direction", "call_type"]);
const STATUS: &[u8] = &aliases(["call_status", "status", "callstatus"]);
const START: &[u8] = &aliases(["start_stamp", "start_timestamp", "call_start_time"]);
const ANSWER: &[u8] = &aliases(["answer_stamp", "answer_timestamp", "call_answer_time"]);
const END: &[u8] = &aliases(["end_stamp", "end_timestamp", "call_end_time"]);
const DATE: &[u8] = &aliases(["date", "dtmf_time", "pressed_at"]);
const START_DATE: &[u8] = &aliases(["start_date"]);
const START_TIME: &[u8] = &aliases(["start_time"]);
const END_DATE: &[u8] = &aliases(["end_date"]);
const END_TIME: &[u8] = &aliases(["end_time"]);
const DIGIT: &[u8] =
    &aliases(["digit_pressed", "dtmf", "dtmf_digit", "dtmf_option", "digit", "digits", "dtmf_input", "digits_dialed"]);
const AGENT_NUMBER: &[u8] = &aliases([
    "answered_agent_number",
    "answer_agent_number",
    "agent_number",
    "first_missed_agent_number",
    "missed_agent_number",
]);
const AGENT_NAME: &[u8] =
    &aliases(["answered_agent_name", "answer_agent_name", "agent_name", "agent", "missed_agent_name"]);
const ANSWERED_AGENT_OBJECT: &[u8] = &aliases(["answered_agent", "answer_agent"]);
const ANSWERED_AGENT_TEXT: &[u8] = &aliases(["answered_agent"]);
const MISSED_AGENTS: &[u8] = &aliases(["missed_agent", "missed_agents"]);
const NESTED_AGENT_NAME: &[u8] = &aliases(["name", "agent_name"]);
const NESTED_AGENT_NUMBER: &[u8] = &aliases(["number", "agent_number", "follow_me_number"]);
const CALL_CONNECTED: &[u8] = &aliases(["call_connected"]);
const BILLING_CIRCLE: &[u8] = &aliases(["billing_circle"]);
const CIRCLE_OPERATOR: &[u8] = &aliases(["operator", "telecom_operator"]);
const CIRCLE_NAME: &[u8] = &aliases(["circle", "telecom_circle"]);

/// A field's value as received: JSON scalars become text with their exact
/// digits (`1628512094.7228905` keeps every digit), objects and arrays keep
/// their shape. Text is borrowed from the body unless an escape (JSON) or a
/// percent sign (form) forced a decoded copy.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue<'a> {
    Text(Cow<'a, str>),
    Object(Fields<'a>),
    Array(Vec<FieldValue<'a>>),
    Null,
}

/// The delivery's fields that some lookup reads, by slot in `NAMES`, in
/// lookup order: top level, then wrapper objects, then (on POST) the query
/// string.
#[derive(Debug, Clone, Default, PartialEq)]
struct Fields<'a>(Vec<(u8, FieldValue<'a>)>);

impl<'a> Fields<'a> {
    /// Keeps `value` if some lookup reads `key` (after normalisation).
    fn push(&mut self, key: &str, value: FieldValue<'a>) {
        let slot = slot_of(&normalise_key(key));
        if slot != UNREAD {
            self.0.push((slot, value));
        }
    }
}

/// Lookups by alias, shared by a delivery's indexed top level and the small
/// nested objects (scanned).
trait Lookup<'a> {
    /// Every value under one of `aliases`, preferred alias first, each
    /// alias's values in lookup order.
    fn values<'f>(&'f self, aliases: &'static [u8]) -> impl Iterator<Item = &'f FieldValue<'a>>
    where
        'a: 'f;

    /// The first filled text under `aliases`.
    fn text<'f>(&'f self, aliases: &'static [u8]) -> Option<&'f str>
    where
        'a: 'f,
    {
        self.values(aliases).find_map(filled_text)
    }

    /// The first object under `aliases` (also a JSON object sent as text).
    fn object<'f>(&'f self, aliases: &'static [u8]) -> Option<Cow<'f, Fields<'f>>>
    where
        'a: 'f,
    {
        self.values(aliases).find_map(|v| match v {
            FieldValue::Object(f) => Some(Cow::Borrowed(f)),
            FieldValue::Text(t) if t.trim_start().starts_with('{') => match parse_json_object(t) {
                Ok(FieldValue::Object(f)) => Some(Cow::Owned(f)),
                _ => None,
            },
            _ => None,
        })
    }

    /// The first array of objects under `aliases` (also sent as text).
    fn objects<'f>(&'f self, aliases: &'static [u8]) -> Vec<Cow<'f, Fields<'f>>>
    where
        'a: 'f,
    {
        let array: Option<Cow<'f, [FieldValue<'f>]>> = self.values(aliases).find_map(|v| match v {
            FieldValue::Array(items) => Some(Cow::Borrowed(items.as_slice())),
            FieldValue::Object(_) => Some(Cow::Borrowed(std::slice::from_ref(v))),
            FieldValue::Text(t) if t.trim_start().starts_with('[') => match parse_json_value(t) {
                Ok(FieldValue::Array(items)) => Some(Cow::Owned(items)),
                _ => None,
            },
            _ => None,
        });
        match array {
            None => Vec::new(),
            Some(Cow::Borrowed(items)) => items
                .iter()
                .filter_map(|item| match item {
                    FieldValue::Object(f) => Some(Cow::Borrowed(f)),
                    _ => None,
                })
                .collect(),
            Some(Cow::Owned(items)) => items
                .into_iter()
                .filter_map(|item| match item {
                    FieldValue::Object(f) => Some(Cow::Owned(f)),
                    _ => None,
                })
                .collect(),
        }
    }
}

impl<'a> Lookup<'a> for Fields<'a> {
    fn values<'f>(&'f self, aliases: &'static [u8]) -> impl Iterator<Item = &'f FieldValue<'a>>
    where
        'a: 'f,
    {
        aliases.iter().flat_map(move |&alias| self.0.iter().filter(move |(slot, _)| *slot == alias).map(|(_, v)| v))
    }
}

/// A delivery's fields with, per slot, its first field and each field's
/// next one of the same slot: a lookup follows its aliases' chains instead
/// of scanning every field once per alias (about a hundred lookups).
struct Indexed<'f, 'a> {
    fields: &'f Fields<'a>,
    first: [u32; NAMES.len()],
    next: Vec<u32>,
}

/// The end of a chain.
const NO_FIELD: u32 = u32::MAX;

impl<'f, 'a> Indexed<'f, 'a> {
    fn new(fields: &'f Fields<'a>) -> Self {
        let mut first = [NO_FIELD; NAMES.len()];
        let mut next = vec![NO_FIELD; fields.0.len()];
        // Backwards, so each chain ends up in lookup order.
        for (i, (slot, _)) in fields.0.iter().enumerate().rev() {
            let head = &mut first[usize::from(*slot)];
            next[i] = *head;
            *head = i as u32;
        }
        Self { fields, first, next }
    }
}

impl<'a> Lookup<'a> for Indexed<'_, 'a> {
    fn values<'g>(&'g self, aliases: &'static [u8]) -> impl Iterator<Item = &'g FieldValue<'a>>
    where
        'a: 'g,
    {
        aliases.iter().flat_map(move |&alias| {
            let mut at = self.first[usize::from(alias)];
            std::iter::from_fn(move || {
                let field = self.fields.0.get(at as usize)?;
                at = self.next[at as usize];
                Some(&field.1)
            })
        })
    }

    /// `values(aliases).find_map(filled_text)` as a plain loop: the most
    /// frequent lookup, and the iterator adapters stay calls at `opt-level = "s"`.
    fn text<'g>(&'g self, aliases: &'static [u8]) -> Option<&'g str>
    where
        'a: 'g,
    {
        for &alias in aliases {
            let mut at = self.first[usize::from(alias)];
            while let Some((_, value)) = self.fields.0.get(at as usize) {
                if let Some(text) = filled_text(value) {
                    return Some(text);
                }
                at = self.next[at as usize];
            }
        }
        None
    }
}

/// Text that Smartflo actually filled in: not blank, not a sentinel, not an
/// unsubstituted `$variable`, not an empty `{}`/`[]`.
fn filled_text<'f>(v: &'f FieldValue<'_>) -> Option<&'f str> {
    match v {
        FieldValue::Text(t) => {
            let t = crate::lenient::trim(t);
            (!is_trimmed_unfilled(t)).then_some(t)
        }
        _ => None,
    }
}

/// True for values that mean "Smartflo had nothing for this variable".
pub fn is_unfilled(value: &str) -> bool {
    is_trimmed_unfilled(crate::lenient::trim(value))
}

/// `is_unfilled` of text already trimmed.
fn is_trimmed_unfilled(v: &str) -> bool {
    if crate::lenient::is_trimmed_sentinel(v) || v == "{}" || v == "[]" || v.eq_ignore_ascii_case("nil") {
        return true;
    }
    // A template variable left as typed: `$caller_id_number`, `${call_id}`.
    let name = v.strip_prefix('$').map(|n| n.trim_start_matches('{').trim_end_matches('}'));
    matches!(name, Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// One spelling for every key: trimmed, without a leading `$` (or `${…}`),
/// camelCase split, lower case, separators as `_`.
/// `"$Caller_ID_Number"`, `"callerIdNumber"`, `"customer_no_with_prefix "`
/// and `"caller-id-number"` all become snake case. Keys already in that
/// form (most of them) are borrowed, not copied.
#[inline]
fn normalise_key(key: &str) -> Cow<'_, str> {
    if is_snake_case(key) {
        return Cow::Borrowed(key);
    }
    normalise_other_key(key)
}

/// `normalise_key` of a key not already in snake case (kept out of line:
/// most keys never get here).
#[inline(never)]
fn normalise_other_key(key: &str) -> Cow<'_, str> {
    let key = crate::lenient::trim(key);
    let key = key.strip_prefix('$').unwrap_or(key);
    let key = key.trim_start_matches('{').trim_end_matches('}').trim();
    // `$call_id`, `${uuid}`: the loop below would copy the name unchanged.
    if is_snake_case(key) {
        return Cow::Borrowed(key);
    }
    // Byte by byte: a non-ASCII character is a separator whatever its
    // bytes (none of them is an ASCII letter or digit), as it was when this
    // loop went character by character.
    let bytes = key.as_bytes();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_uppercase() {
            let next_lower = bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            let boundary = match i.checked_sub(1).map(|p| bytes[p]) {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() && next_lower => true,
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(char::from(b.to_ascii_lowercase()));
        } else if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    if out.ends_with('_') {
        out.pop();
    }
    if out.starts_with('_') {
        out.remove(0);
    }
    Cow::Owned(out)
}

/// Lower-case ASCII letters, digits and single inner underscores: a key
/// `normalise_key` leaves as it is.
#[inline]
fn is_snake_case(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !key.starts_with('_')
        && !key.ends_with('_')
        // Not `contains("__")`: a substring searcher costs more than the
        // whole check on keys this short.
        && !key.as_bytes().windows(2).any(|w| w == b"__")
}

/// A JSON object key, borrowed from the text when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// A JSON object's members in order, values still as raw text.
struct RawObject<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawObject<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    members.push((k, v));
                }
                Ok(RawObject(members))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Deepest nesting read, serde_json's own limit for the other providers'
/// bodies. Values are read level by level (each level a stack frame and a
/// re-scan of its text) and serde_json skips a `RawValue` without a depth
/// limit, so without this bound a body of nested objects overflowed the
/// stack (found by `fuzz/` and `tests/hostile.rs`: 10 000 `{"a":`).
const MAX_DEPTH: usize = 128;

fn too_deep() -> serde_json::Error {
    serde::de::Error::custom(format_args!("JSON nested more than {MAX_DEPTH} levels deep"))
}

/// One pass over a JSON object for the bodies Smartflo sends: the fields
/// built as `parse_object_at` builds them, without first collecting every
/// member as raw text and reading each value again (that cost more than
/// the whole floor). `None` means "not sure": anything outside the plain
/// grammar (an escaped key, a string that does not decode, a control
/// character, nesting at the depth limit, a syntax error) is left to
/// `parse_object_at`, which then gives the result or the error exactly as
/// before. So what this accepts, `parse_object_at` accepts with the same
/// fields (tested), and what it refuses is refused by the same code.
struct OnePass<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> OnePass<'a> {
    fn object(text: &'a str) -> Option<Fields<'a>> {
        let mut reader = OnePass { text, at: 0 };
        reader.skip_whitespace();
        if reader.peek()? != b'{' {
            return None;
        }
        let FieldValue::Object(fields) = reader.value(0)? else { return None };
        reader.skip_whitespace();
        (reader.at == text.len()).then_some(fields)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    /// JSON's whitespace (serde_json's too): space, tab, CR, LF.
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<FieldValue<'a>> {
        match self.peek()? {
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                // Room for a typical body's read fields at the top, fewer below.
                let mut fields = Fields(Vec::with_capacity(if depth == 0 { 24 } else { 4 }));
                self.skip_whitespace();
                if self.eat(b'}') {
                    return Some(FieldValue::Object(fields));
                }
                loop {
                    self.skip_whitespace();
                    if self.peek()? != b'"' {
                        return None;
                    }
                    let key = self.string()?;
                    self.skip_whitespace();
                    if !self.eat(b':') {
                        return None;
                    }
                    self.skip_whitespace();
                    let value = self.value(depth + 1)?;
                    fields.push(&key, value);
                    self.skip_whitespace();
                    if !self.eat(b',') {
                        return self.eat(b'}').then_some(FieldValue::Object(fields));
                    }
                }
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.eat(b']') {
                    return Some(FieldValue::Array(items));
                }
                loop {
                    self.skip_whitespace();
                    items.push(self.value(depth + 1)?);
                    self.skip_whitespace();
                    if !self.eat(b',') {
                        return self.eat(b']').then_some(FieldValue::Array(items));
                    }
                }
            }
            b'"' => self.string().map(FieldValue::Text),
            b'n' => self.literal("null").map(|_| FieldValue::Null),
            b't' => self.literal("true").map(|t| FieldValue::Text(Cow::Borrowed(t))),
            b'f' => self.literal("false").map(|f| FieldValue::Text(Cow::Borrowed(f))),
            b'-' | b'0'..=b'9' => self.number().map(|n| FieldValue::Text(Cow::Borrowed(n))),
            _ => None,
        }
    }

    /// A string at `self.at`: borrowed without escapes, else decoded by
    /// serde_json as `parse_value_at` decodes it.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let bytes = self.text.as_bytes();
        let start = self.at + 1;
        let mut i = start;
        // Eight bytes at a time up to the first that needs a look.
        while let Some(word) = bytes.get(i..i + 8) {
            if needs_a_look(u64::from_le_bytes(word.try_into().expect("eight bytes"))) {
                break;
            }
            i += 8;
        }
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    self.at = i + 1;
                    return Some(Cow::Borrowed(&self.text[start..i]));
                }
                b'\\' => break,
                0..0x20 => return None,
                _ => i += 1,
            }
        }
        // Escaped: find the closing quote, then decode the token.
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    let token = &self.text[start - 1..=i];
                    self.at = i + 1;
                    return serde_json::from_str::<String>(token).ok().map(Cow::Owned);
                }
                b'\\' => i += 2,
                0..0x20 => return None,
                _ => i += 1,
            }
        }
        None
    }

    fn literal(&mut self, word: &'static str) -> Option<&'a str> {
        let token = self.text.get(self.at..self.at + word.len())?;
        (token == word).then(|| {
            self.at += word.len();
            token
        })
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as its text.
    fn number(&mut self) -> Option<&'a str> {
        let start = self.at;
        self.eat(b'-');
        if !self.eat(b'0') {
            if !matches!(self.peek(), Some(b'1'..=b'9')) {
                return None;
            }
            self.digits();
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return None;
            }
        }
        Some(&self.text[start..self.at])
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }
}

/// Whether any of eight bytes is a quote, a backslash or a control
/// character (the bytes that end or interrupt a plain string). Exact: the
/// borrows these subtractions may carry only ever follow a byte that
/// matched.
fn needs_a_look(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control != 0
}

fn parse_json_object(text: &str) -> Result<FieldValue<'_>, serde_json::Error> {
    match OnePass::object(text) {
        Some(fields) => Ok(FieldValue::Object(fields)),
        None => parse_object_at(text, 0),
    }
}

fn parse_object_at(text: &str, depth: usize) -> Result<FieldValue<'_>, serde_json::Error> {
    if depth >= MAX_DEPTH {
        return Err(too_deep());
    }
    let object: RawObject<'_> = serde_json::from_str(text)?;
    let mut fields = Fields(Vec::with_capacity(object.0.len()));
    for (k, raw) in object.0 {
        fields.push(&k, parse_value_at(raw.get(), depth + 1)?);
    }
    Ok(FieldValue::Object(fields))
}

fn parse_json_value(text: &str) -> Result<FieldValue<'_>, serde_json::Error> {
    parse_value_at(text, 0)
}

fn parse_value_at(text: &str, depth: usize) -> Result<FieldValue<'_>, serde_json::Error> {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => parse_object_at(text, depth),
        Some(b'[') => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            items
                .into_iter()
                .map(|item| parse_value_at(item.get(), depth + 1))
                .collect::<Result<_, _>>()
                .map(FieldValue::Array)
        }
        Some(b'"') => {
            // A string without escapes is its own text between the quotes
            // (serde_json checked it when it skipped over the value).
            let token = crate::lenient::trim(text);
            match token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                Some(inner) if !inner.contains(['\\', '"']) => Ok(FieldValue::Text(Cow::Borrowed(inner))),
                _ => serde_json::from_str::<String>(text).map(|s| FieldValue::Text(Cow::Owned(s))),
            }
        }
        Some(b'n') => Ok(FieldValue::Null),
        // Numbers and booleans: the exact text, so no digit of an id is lost
        // to floating point.
        _ => Ok(FieldValue::Text(Cow::Borrowed(crate::lenient::trim(text)))),
    }
}

/// Builds the lookup order: top level, then wrappers' members.
fn with_wrappers(mut top: Fields<'_>) -> Fields<'_> {
    let wrapped: Vec<_> = WRAPPERS
        .iter()
        .flat_map(|wrapper| top.0.iter().filter(move |(slot, _)| slot == wrapper))
        .filter_map(|(_, v)| match v {
            FieldValue::Object(inner) => Some(inner.0.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    top.0.extend(wrapped);
    top
}

fn query_fields(query: &[(String, String)]) -> Fields<'_> {
    let mut fields = Fields(Vec::with_capacity(query.len()));
    for (k, v) in query {
        fields.push(k, FieldValue::Text(Cow::Borrowed(v)));
    }
    fields
}

/// `k=v&…` as form encoding: how a GET delivery is stored as `raw_body`.
/// Byte for byte what `form_urlencoded::Serializer::append_pair` writes,
/// into one buffer sized once (the serializer grew a string piece by piece).
fn query_string(query: &[(String, String)]) -> String {
    let mut out = Vec::with_capacity(query.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in query {
        if !out.is_empty() {
            out.push(b'&');
        }
        form_encode_into(&mut out, k.as_bytes());
        out.push(b'=');
        form_encode_into(&mut out, v.as_bytes());
    }
    // Only ASCII was written.
    String::from_utf8(out).unwrap_or_default()
}

/// The bytes `form_urlencoded::byte_serialize` keeps as they are.
const FORM_UNCHANGED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = matches!(b as u8, b'*' | b'-' | b'.' | b'0'..=b'9' | b'A'..=b'Z' | b'_' | b'a'..=b'z');
        b += 1;
    }
    table
};

/// `form_urlencoded::byte_serialize`: `*-._`, ASCII letters and digits as
/// they are, space as `+`, any other byte as `%XX`.
fn form_encode_into(out: &mut Vec<u8>, mut bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    while !bytes.is_empty() {
        let mut run = 0;
        while run < bytes.len() && FORM_UNCHANGED[usize::from(bytes[run])] {
            run += 1;
        }
        out.extend_from_slice(&bytes[..run]);
        let Some(&b) = bytes.get(run) else { break };
        if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        bytes = &bytes[run + 1..];
    }
}

/// Strict form decoding: UTF-8, every `%` followed by two hex digits, and
/// every decoded value UTF-8 (`form_urlencoded` alone would replace bad bytes
/// silently).
fn decode_form(body: &[u8]) -> Result<Fields<'_>, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|_| DecodeError::BadForm)?;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(DecodeError::BadForm);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut fields = Fields(Vec::with_capacity(24));
    for part in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = percent_decode(k)?;
        let v = percent_decode(v)?;
        fields.push(&k, FieldValue::Text(v));
    }
    Ok(fields)
}

/// `+` as space and `%XX` escapes (already checked to be well formed);
/// text without either is borrowed.
fn percent_decode(s: &str) -> Result<Cow<'_, str>, DecodeError> {
    // Bytes, not a `char` pattern: a searcher costs more than the scan.
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Ok(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let hex = |at: usize| bytes.get(at).and_then(|&h| char::from(h).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else { return Err(DecodeError::BadForm) };
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| DecodeError::BadForm)
}

impl ProviderParser for Smartflo {
    fn allowed_methods(&self) -> &'static str {
        "GET, POST"
    }

    fn provider(&self) -> Provider {
        Provider::Smartflo
    }

    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
        let trigger = trigger_of(delivery)?;
        let (raw, fields) = match delivery.method {
            "GET" => (query_string(delivery.query), query_fields(delivery.query)),
            "POST" => post_fields(delivery)?,
            other => return Err(DecodeError::MethodNotAllowed(other.to_owned())),
        };
        let outcome = normalise(trigger, &fields, ctx);
        Ok(vec![ParsedEvent { raw, outcome }])
    }
}

/// The trigger slug: the `{trigger}` path parameter, or else the path's last
/// segment. Unknown slugs are unknown routes (404).
fn trigger_of(delivery: &Delivery<'_>) -> Result<&'static str, DecodeError> {
    let given = match delivery.trigger.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t,
        None => delivery.path.trim_end_matches('/').rsplit('/').next().unwrap_or(""),
    };
    TRIGGERS
        .iter()
        .find(|slug| slug.eq_ignore_ascii_case(given))
        .copied()
        .ok_or_else(|| DecodeError::UnknownRoute(given.chars().take(80).collect()))
}

/// The body text as received and the fields of a POST: JSON (with
/// `application/json`, a JSON-like type, or no content type), form encoding,
/// or, with an empty body, form fields in the query string. Query fields also
/// fill gaps a body leaves.
fn post_fields<'a>(delivery: &Delivery<'a>) -> Result<(String, Fields<'a>), DecodeError> {
    let query = query_fields(delivery.query);
    let body_empty = delivery.body.iter().all(u8::is_ascii_whitespace);
    let is_form = delivery.content_type == Some("application/x-www-form-urlencoded");
    if !is_form {
        delivery.require_json()?;
    }
    if body_empty {
        if query.0.is_empty() {
            return Err(if is_form { DecodeError::BadForm } else { DecodeError::NotJson("empty body".into()) });
        }
        return Ok((query_string(delivery.query), query));
    }
    let mut fields = if is_form {
        decode_form(delivery.body)?
    } else {
        let text = std::str::from_utf8(delivery.body).map_err(|_| DecodeError::NotUtf8)?;
        match parse_json_object(text) {
            Ok(FieldValue::Object(top)) => with_wrappers(top),
            Ok(_) => unreachable!("parse_json_object yields objects"),
            Err(err) if is_syntax_error(&err) => {
                return Err(DecodeError::NotJson(format!("line {} column {}", err.line(), err.column())));
            }
            Err(_) => return Err(DecodeError::WrongShape("expected a JSON object".into())),
        }
    };
    fields.0.extend(query.0);
    // The body is valid UTF-8 here (form and JSON both checked it);
    // `from_utf8` checks it faster than `from_utf8_lossy` would.
    let raw = match std::str::from_utf8(delivery.body) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(delivery.body).into_owned(),
    };
    Ok((raw, fields))
}

type Reject = dyn Fn(&'static str, String) -> Rejection;

fn normalise(trigger: &'static str, fields: &Fields<'_>, ctx: &ParseContext) -> Result<NormalisedEvent, Rejection> {
    let fields = &Indexed::new(fields);
    let reject: &Reject = &move |reason, detail| Rejection::new(reason, detail).with_event_type(Some(trigger));
    let tz = ctx.local_offset;

    let call_id = fields.text(CALL_ID);
    let uuid = fields.text(UUID);
    let id = call_id.or(uuid).ok_or_else(|| {
        reject("missing_call_id", "neither call_id nor uuid is present (or Smartflo left them unfilled)".into())
    })?;

    // Times that decide meaning are strict; the answer time is informative.
    let start = match fields.text(START) {
        Some(s) => Some(strict_time(s, tz, "start_stamp", reject)?),
        None => split_time(fields, (START_DATE, "start_date"), (START_TIME, "start_time"), tz, reject)?,
    };
    let end = match fields.text(END) {
        Some(s) => Some(strict_time(s, tz, "end_stamp", reject)?),
        None => split_time(fields, (END_DATE, "end_date"), (END_TIME, "end_time"), tz, reject)?,
    };
    let date = fields.text(DATE).map(|s| strict_time(s, tz, "date", reject)).transpose()?;
    let answer = fields.text(ANSWER).and_then(|s| parse_time(s, tz));

    let is_dtmf = trigger == "dtmf-option";
    let digit = digit_of(fields);
    // A DTMF key ends with its time, written once: the same text is the
    // `dtmf_time` (or `start_time`) attribute below.
    let key_time = if is_dtmf { date.or(start) } else { None };
    let mut key_time_text = key_time.map(rfc3339);
    let event_key = if is_dtmf {
        let digit = digit.as_deref().ok_or_else(|| reject("missing_dtmf_digit", "digit_pressed is missing".into()))?;
        EventKey::join([trigger, id, digit].into_iter().chain(key_time_text.as_deref()))
    } else {
        EventKey::join([trigger, id])
    }
    .map_err(|e| reject("invalid_event_key", format!("call_id/uuid: {e}")))?;

    let occurred_at = if is_dtmf {
        date.or(start)
    } else if END_TRIGGERS.contains(&trigger) {
        end.or(start).or(date)
    } else {
        start.or(date).or(answer)
    };

    let region = ctx.default_region;
    let direction = fields.text(DIRECTION).map(normalise_direction);
    let outbound = match direction.as_deref() {
        Some(d) => is_outbound(d),
        None => trigger.ends_with("click-to-call"),
    };
    let caller_id = fields.text(CALLER_ID).and_then(|n| phone(n, region));
    let call_to = fields.text(CALL_TO).and_then(|n| phone(n, region));
    let (customer, business) = parties(fields, outbound, caller_id.as_ref(), call_to.as_ref(), region);

    let status = fields.text(STATUS);
    let (agent_name, agent_number) = agent_of(fields, region);

    let mut attributes = Attributes::new();
    put(&mut attributes, "call_id", call_id);
    put(&mut attributes, "uuid", uuid);
    put(&mut attributes, "direction", direction.as_deref());
    put(&mut attributes, "call_status", status);
    put_phone(&mut attributes, "customer_number", customer.as_ref());
    put_phone(&mut attributes, "business_number", business.as_ref());
    put_phone(&mut attributes, "caller_id_number", caller_id.as_ref());
    put_phone(&mut attributes, "call_to_number", call_to.as_ref());
    put_phone(&mut attributes, "agent_number", agent_number.as_ref());
    put(&mut attributes, "agent_name", agent_name.as_deref());
    for (name, at) in [("start_time", start), ("answer_time", answer), ("end_time", end), ("dtmf_time", date)] {
        if let Some(at) = at {
            let text = key_time_text.take_if(|_| key_time == Some(at)).unwrap_or_else(|| rfc3339(at));
            attributes.insert(name, Value::from(text));
        }
    }
    if let Some(digit) = digit {
        attributes.insert("dtmf_digit", Value::from(digit));
    }
    for (name, aliases) in TEXT_ATTRIBUTES {
        put(&mut attributes, name, fields.text(aliases));
    }
    for (name, aliases) in SECONDS_ATTRIBUTES {
        if let Some(n) = fields.text(aliases).and_then(|s| s.parse::<f64>().ok()).filter(|n| n.is_finite()) {
            attributes.insert(name, Value::from(n.round() as i64));
        }
    }
    if let Some(connected) = fields.text(CALL_CONNECTED).and_then(flag) {
        attributes.insert("call_connected", Value::from(connected));
    }
    if let Some(circle) = fields.object(BILLING_CIRCLE) {
        put(&mut attributes, "telecom_operator", circle.text(CIRCLE_OPERATOR));
        put(&mut attributes, "telecom_circle", circle.text(CIRCLE_NAME));
    }

    let missed =
        MISSED_TRIGGERS.contains(&trigger) || (trigger == "call-hangup" && status.is_some_and(status_says_missed));
    if contains_bytes(trigger, "hangup") || contains_bytes(trigger, "missed") {
        attributes.insert("missed", Value::from(missed));
    }

    let callback = if missed {
        let reason = CallbackReason::MissedCall;
        match customer {
            Some(phone) => {
                let mut context = Attributes::new();
                context.insert("trigger", Value::from(trigger));
                context.insert("call_id", Value::from(id));
                put(&mut context, "direction", direction.as_deref());
                put(&mut context, "call_status", status);
                put(&mut context, "agent_name", agent_name.as_deref());
                CallbackDecision::Due(Box::new(CallbackRequest {
                    reason,
                    phone,
                    alternate_phone: None,
                    business_phone: business,
                    window: None,
                    requested_at: start.or(end).or(date).unwrap_or(ctx.received_at),
                    context,
                }))
            }
            None => CallbackDecision::Unreachable { reason },
        }
    } else {
        CallbackDecision::NotDue
    };

    Ok(NormalisedEvent {
        provider: Provider::Smartflo,
        event_key,
        event_type: trigger.to_owned(),
        occurred_at,
        attributes,
        callback,
    })
}

/// Plain-text attributes worth querying, under their normalised names.
const TEXT_ATTRIBUTES: &[(&str, &[u8])] = &[
    ("hangup_cause", &aliases(["hangup_cause", "hangup_cause_description", "reason_key"])),
    ("recording_url", &aliases(["recording_url", "recording"])),
    ("disposition", &aliases(["disposition", "disposition_status"])),
    ("sub_disposition", &aliases(["sub_disposition", "sub_dispositon", "subdisposition"])),
    ("campaign_name", &aliases(["campaign_name", "broadcast_name"])),
    ("campaign_id", &aliases(["campaign_id", "broadcast_id"])),
    ("department", &aliases(["dept_name", "department_name", "department"])),
    ("department_id", &aliases(["dept_id", "department_id"])),
    ("ivr_name", &aliases(["ivr_name"])),
    ("ivr_id", &aliases(["ivr_id"])),
    ("auto_attendant_name", &aliases(["auto_attendant_name"])),
    ("auto_attendant_id", &aliases(["auto_attendant_id"])),
    ("ref_id", &aliases(["ref_id", "reference_id"])),
    ("custom_identifier", &aliases(["custom_identifier"])),
    ("telecom_operator", &aliases(["telecom_operator"])),
    ("telecom_circle", &aliases(["telecom_circle"])),
];

/// Durations, as whole seconds.
const SECONDS_ATTRIBUTES: &[(&str, &[u8])] = &[
    ("duration_seconds", &aliases(["duration", "call_duration"])),
    ("billsec", &aliases(["billsec", "bill_sec"])),
    ("agent_ring_time", &aliases(["agent_ring_time"])),
];

fn put(map: &mut impl SetField, name: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        map.set_field(name, Value::from(v));
    }
}

fn put_phone(map: &mut impl SetField, name: &'static str, phone: Option<&PhoneNumber>) {
    if let Some(p) = phone {
        map.set_field(name, Value::from(p.as_str()));
    }
}

fn phone(raw: &str, region: PhoneRegion) -> Option<PhoneNumber> {
    PhoneNumber::parse(raw, region).ok()
}

/// Compared without case and without a lower-case copy.
fn flag(s: &str) -> Option<bool> {
    let s = crate::lenient::trim(s);
    let any = |words: [&str; 4]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
    if any(["true", "1", "yes", "y"]) {
        Some(true)
    } else if any(["false", "0", "no", "n"]) {
        Some(false)
    } else {
        None
    }
}

/// `inbound`, `outbound`, `click_to_call` (also sent as `clicktocall`).
/// Already snake case (as sent, mostly), it is borrowed: lower-casing and
/// normalising would leave it as it is.
fn normalise_direction(raw: &str) -> Cow<'_, str> {
    let d = if is_snake_case(raw) {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(normalise_key(&raw.to_ascii_lowercase()).into_owned())
    };
    match d.as_ref() {
        "clicktocall" | "click2call" | "c2c" => Cow::Borrowed("click_to_call"),
        _ => d,
    }
}

fn is_outbound(direction: &str) -> bool {
    direction.starts_with("out") || contains_bytes(direction, "click") || direction == "dialer_outbound"
}

/// `haystack.contains(needle)` for a short haystack and a non-empty
/// needle, without setting up a substring searcher.
fn contains_bytes(haystack: &str, needle: &str) -> bool {
    haystack.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The customer's and the business's numbers. Explicit customer fields come
/// first; otherwise the direction decides: on inbound calls the caller ID is
/// the customer and the called number the DID, on outbound and click-to-call
/// calls the other way round.
fn parties<'a>(
    fields: &impl Lookup<'a>,
    outbound: bool,
    caller_id: Option<&PhoneNumber>,
    call_to: Option<&PhoneNumber>,
    region: PhoneRegion,
) -> (Option<PhoneNumber>, Option<PhoneNumber>) {
    let (customer_side, business_side) = if outbound { (call_to, caller_id) } else { (caller_id, call_to) };
    let explicit = fields.values(CUSTOMER).filter_map(filled_text).find_map(|n| phone(n, region));
    let customer = explicit.or_else(|| customer_side.cloned());
    let business = match (&customer, business_side) {
        // The direction was wrong or absent: the business is the other party.
        (Some(c), Some(b)) if c == b => customer_side.filter(|s| *s != c).cloned(),
        (_, b) => b.cloned(),
    };
    (customer, business)
}

/// The agent who answered, or else the one who missed the call: from the
/// flat variables or from `answered_agent` (object) / `missed_agent` (array
/// of objects).
fn agent_of<'a>(fields: &impl Lookup<'a>, region: PhoneRegion) -> (Option<String>, Option<PhoneNumber>) {
    let mut agents: Vec<Cow<'_, Fields<'_>>> = Vec::new();
    if let Some(a) = fields.object(ANSWERED_AGENT_OBJECT) {
        agents.push(a);
    }
    agents.extend(fields.objects(MISSED_AGENTS));
    let name = fields
        .text(AGENT_NAME)
        .or_else(|| fields.text(ANSWERED_AGENT_TEXT))
        .or_else(|| agents.iter().find_map(|a| a.text(NESTED_AGENT_NAME)))
        .map(str::to_owned);
    let number = fields
        .values(AGENT_NUMBER)
        .filter_map(filled_text)
        .chain(agents.iter().filter_map(|a| a.text(NESTED_AGENT_NUMBER)))
        .find_map(|n| phone(n, region));
    (name, number)
}

/// The DTMF digit(s): `digit_pressed` and friends; an array
/// (`digits_dialed`) is joined.
fn digit_of<'a>(fields: &impl Lookup<'a>) -> Option<String> {
    fields.values(DIGIT).find_map(|v| match v {
        FieldValue::Array(items) => {
            let joined: String = items.iter().filter_map(filled_text).collect();
            (!joined.is_empty()).then_some(joined)
        }
        FieldValue::Text(t) if t.trim_start().starts_with('[') => match parse_json_value(t) {
            Ok(FieldValue::Array(items)) => {
                let joined: String = items.iter().filter_map(filled_text).collect();
                (!joined.is_empty()).then_some(joined)
            }
            _ => filled_text(v).map(str::to_owned),
        },
        other => filled_text(other).map(str::to_owned),
    })
}

/// `missed`, `Missed`, `NOANSWER`, `no answer`, `not_answered`,
/// `Missed by agent`: the statuses that mean nobody picked up.
pub fn status_says_missed(status: &str) -> bool {
    let lower = status.to_ascii_lowercase();
    let s = normalise_key(&lower);
    contains_bytes(&s, "miss")
        || matches!(
            s.as_ref(),
            "noanswer" | "no_answer" | "not_answered" | "unanswered" | "no_answered" | "notanswered"
        )
}

fn strict_time(s: &str, tz: FixedOffset, field: &str, reject: &Reject) -> Result<DateTime<Utc>, Rejection> {
    parse_time(s, tz).ok_or_else(|| reject("invalid_timestamp", format!("{field} is not a recognised timestamp")))
}

/// `start_date` + `start_time` (`2021-08-09`, `16:12:00`), when no stamp.
fn split_time<'a>(
    fields: &impl Lookup<'a>,
    (date_slot, date_key): (&'static [u8], &str),
    (time_slot, time_key): (&'static [u8], &str),
    tz: FixedOffset,
    reject: &Reject,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    match (fields.text(date_slot), fields.text(time_slot)) {
        (Some(d), Some(t)) => parse_time(&format!("{d} {t}"), tz)
            .map(Some)
            .ok_or_else(|| reject("invalid_timestamp", format!("{date_key}/{time_key} is not a recognised timestamp"))),
        _ => Ok(None),
    }
}

/// Smartflo's zone-less `2021-08-09 17:58:44` (read in `tz`, India by
/// default), ISO 8601 / RFC 3339 with a zone, epoch seconds (or
/// milliseconds), and a bare date (midnight in `tz`).
pub fn parse_time(raw: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    let s = crate::lenient::trim(raw);
    if s.is_empty() {
        return None;
    }
    if let Some(naive) = plain_local(s) {
        return tz.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc));
    }
    parse_time_with_chrono(s, tz)
}

/// Smartflo's own form, `2021-08-09 17:58:44` (or with `T`), read without
/// chrono's format-string interpreter: four attempts with zones fail on it
/// before the zone-less format matches. Anything else (fractions, zones,
/// leap seconds, out-of-range fields) is `None` and goes the general way;
/// what this accepts, the general way reads the same (tested).
fn plain_local(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    let number = |at: usize, len: usize| {
        b[at..at + len].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0, 4)?).ok()?, number(5, 2)?, number(8, 2)?)?;
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if second > 59 {
        return None;
    }
    date.and_hms_opt(hour, minute, second)
}

fn parse_time_with_chrono(s: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch_seconds(s).ok();
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(at) = DateTime::parse_from_str(s, fmt) {
            return Some(at.with_timezone(&Utc));
        }
    }
    if let Some(naive) = s.strip_suffix(" UTC").or_else(|| s.strip_suffix(" GMT")) {
        return naive_local(naive, FixedOffset::east_opt(0)?);
    }
    if let Some(naive) = s.strip_suffix(" IST") {
        return naive_local(naive, FixedOffset::east_opt(5 * 3600 + 1800)?);
    }
    naive_local(s, tz)
}

fn naive_local(s: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    let s = crate::lenient::trim(s);
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return tz.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc));
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).single().map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 8, 1, 12, 0, 0).unwrap()
    }

    fn ctx() -> ParseContext {
        ParseContext::new(received_at())
    }

    fn deliver_with(
        method: &str,
        trigger: Option<&str>,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        query: &[(&str, &str)],
        ctx: &ParseContext,
    ) -> Result<Vec<ParsedEvent>, DecodeError> {
        let query: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let delivery = Delivery { method, path, trigger, query: &query, content_type, body };
        Smartflo.parse(&delivery, ctx)
    }

    fn deliver(
        method: &str,
        trigger: &str,
        content_type: Option<&str>,
        body: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<ParsedEvent>, DecodeError> {
        let path = format!("/webhooks/smartflo/{trigger}");
        deliver_with(method, Some(trigger), &path, content_type, body.as_bytes(), query, &ctx())
    }

    fn post_json(trigger: &str, body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
        deliver("POST", trigger, Some("application/json"), body, &[])
    }

    fn event(result: Result<Vec<ParsedEvent>, DecodeError>) -> NormalisedEvent {
        let mut events = result.expect("decodable");
        assert_eq!(events.len(), 1);
        events.remove(0).outcome.expect("valid event")
    }

    fn rejection(result: Result<Vec<ParsedEvent>, DecodeError>) -> Rejection {
        result.expect("decodable").remove(0).outcome.expect_err("rejected")
    }

    fn attr<'a>(e: &'a NormalisedEvent, name: &str) -> Option<&'a str> {
        e.attributes.get(name).and_then(Value::as_str)
    }

    fn due(e: &NormalisedEvent) -> &CallbackRequest {
        e.callback.request().unwrap_or_else(|| panic!("expected a task, got {:?}", e.callback))
    }

    /// A hangup body as Smartflo's documented `$variables` fill it.
    const HANGUP_MISSED: &str = r#"{
        "uuid": "61111f5e708c5",
        "call_id": "1628512094.7228905",
        "call_to_number": "918069010148",
        "caller_id_number": "09876543210",
        "customer_no_with_prefix": "919876543210",
        "start_stamp": "2021-08-09 17:56:21",
        "answer_stamp": "",
        "end_stamp": "2021-08-09 17:58:44",
        "hangup_cause": "NORMAL_CLEARING",
        "billsec": "0",
        "duration": "143",
        "direction": "inbound",
        "call_status": "missed",
        "missed_agent": [{"name": "Priya Sharma", "number": "+919812345678"}],
        "billing_circle": {"operator": "Airtel", "circle": "Karnataka"}
    }"#;

    fn minimal(call_status: &str) -> String {
        format!(
            r#"{{"call_id": "1628512094.7228905", "caller_id_number": "9876543210", "call_to_number": "918069010148",
                "start_stamp": "2021-08-09 17:56:21", "end_stamp": "2021-08-09 17:58:44", "direction": "inbound",
                "call_status": "{call_status}"}}"#
        )
    }

    // --- triggers and routes -------------------------------------------------

    #[test]
    fn every_trigger_slug_is_accepted_and_becomes_the_event_type_and_key_prefix() {
        for trigger in TRIGGERS {
            let body = r#"{"call_id": "1628512094.7228905", "uuid": "61111f5e708c5", "digit_pressed": "3",
                           "date": "2021-08-10 01:43:47", "caller_id_number": "9876543210"}"#;

            let e = event(post_json(trigger, body));

            assert_eq!(e.event_type, trigger);
            assert_eq!(e.provider, Provider::Smartflo);
            assert!(e.event_key.as_str().starts_with(&format!("{trigger}#1628512094.7228905")), "{trigger}");
        }
    }

    #[test]
    fn the_trigger_comes_from_the_last_path_segment_when_there_is_no_path_parameter() {
        let body = br#"{"call_id": "1628512094.7228905"}"#;

        let events =
            deliver_with("POST", None, "/call-answered-on-ivr/", Some("application/json"), body, &[], &ctx()).unwrap();

        let e = events[0].outcome.as_ref().unwrap();
        assert_eq!(e.event_type, "call-answered-on-ivr");
        assert_eq!(e.event_key.as_str(), "call-answered-on-ivr#1628512094.7228905");
    }

    #[test]
    fn trigger_slugs_are_matched_without_regard_to_case() {
        let e = event(deliver("POST", "Call-Hangup", Some("application/json"), &minimal("answered"), &[]));

        assert_eq!(e.event_type, "call-hangup");
    }

    #[test]
    fn an_unknown_trigger_is_an_unknown_route() {
        let result = deliver("POST", "session-call-answered", Some("application/json"), &minimal("x"), &[]);

        assert_eq!(result, Err(DecodeError::UnknownRoute("session-call-answered".into())));
    }

    // --- methods, content types and decode errors ------------------------------

    #[test]
    fn a_get_delivery_is_read_from_the_query_and_stored_as_the_query_string() {
        let query =
            [("call_id", "1628364541.6274658"), ("caller_id_number", "+91 98765 43210"), ("uuid", "610edefd7b4dd")];

        let events = deliver("GET", "call-received-on-server", None, "", &query).unwrap();

        assert_eq!(events[0].raw, "call_id=1628364541.6274658&caller_id_number=%2B91+98765+43210&uuid=610edefd7b4dd");
        let e = events[0].outcome.as_ref().unwrap();
        assert_eq!(e.event_key.as_str(), "call-received-on-server#1628364541.6274658");
        assert_eq!(attr(e, "customer_number"), Some("+919876543210"));
    }

    #[test]
    fn a_form_body_is_decoded_and_kept_verbatim_as_raw() {
        let body = "uuid=61111f5e708c5&call_id=1628512094.7228905&caller_id_number=%2B919876543210\
                    &call_to_number=918069010148&call_status=Missed&start_stamp=2021-08-09+17%3A56%3A21";

        let events = deliver("POST", "call-hangup", Some("application/x-www-form-urlencoded"), body, &[]).unwrap();

        assert_eq!(events[0].raw, body);
        let e = events[0].outcome.as_ref().unwrap();
        assert_eq!(attr(e, "start_time"), Some("2021-08-09T12:26:21Z"));
        assert_eq!(due(e).phone.as_str(), "+919876543210");
    }

    #[test]
    fn a_json_body_without_a_content_type_is_accepted() {
        let e = event(deliver("POST", "call-hangup-answered", None, &minimal("answered"), &[]));

        assert_eq!(e.event_key.as_str(), "call-hangup-answered#1628512094.7228905");
    }

    #[test]
    fn form_fields_given_in_the_query_of_a_post_with_no_body_are_used() {
        let query = [("call_id", "1628540022.7292026"), ("caller_id_number", "9876543210")];

        let events = deliver("POST", "call-hangup-missed", None, "", &query).unwrap();

        assert_eq!(events[0].raw, "call_id=1628540022.7292026&caller_id_number=9876543210");
        let e = events[0].outcome.as_ref().unwrap();
        assert_eq!(due(e).phone.as_str(), "+919876543210");
    }

    #[test]
    fn query_fields_fill_gaps_a_body_leaves_but_never_override_it() {
        let query = [("call_id", "from-query"), ("campaign_name", "Diwali")];

        let e = event(deliver("POST", "call-hangup", Some("application/json"), &minimal("answered"), &query));

        assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
        assert_eq!(attr(&e, "campaign_name"), Some("Diwali"));
    }

    #[test]
    fn content_types_smartflo_never_sends_are_unsupported() {
        for ct in ["multipart/form-data", "application/xml", "text/html"] {
            let result = deliver("POST", "call-hangup", Some(ct), &minimal("missed"), &[]);

            assert_eq!(result, Err(DecodeError::UnsupportedContentType(ct.into())), "{ct}");
        }
    }

    #[test]
    fn methods_other_than_get_and_post_are_not_allowed() {
        for method in ["PUT", "DELETE", "PATCH"] {
            let result = deliver(method, "call-hangup", Some("application/json"), &minimal("missed"), &[]);

            assert_eq!(result, Err(DecodeError::MethodNotAllowed(method.into())));
        }
    }

    #[test]
    fn broken_json_is_not_json_and_json_that_is_not_an_object_has_the_wrong_shape() {
        let broken = post_json("call-hangup", r#"{"call_id": "1628512094.7228905","#);
        assert!(matches!(broken, Err(DecodeError::NotJson(_))), "{broken:?}");

        for body in [r#"[{"call_id": "1"}]"#, r#""call_id""#, "42", "null"] {
            let result = post_json("call-hangup", body);
            assert!(matches!(result, Err(DecodeError::WrongShape(_))), "{body}: {result:?}");
        }
    }

    #[test]
    fn an_empty_post_with_no_query_fields_is_not_decodable() {
        assert!(matches!(post_json("call-hangup", "  "), Err(DecodeError::NotJson(_))));
        let form = deliver("POST", "call-hangup", Some("application/x-www-form-urlencoded"), "", &[]);
        assert_eq!(form, Err(DecodeError::BadForm));
    }

    #[test]
    fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
        // Regression (fuzz/, tests/hostile.rs): 10 000 nested objects used to
        // recurse once per level and abort the process.
        for (open, close) in [("{\"a\":", "}"), ("{\"call_id\":[", "]}"), ("[", "]")] {
            let body = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
            let result = post_json("call-hangup", &body);
            assert!(matches!(result, Err(DecodeError::WrongShape(_) | DecodeError::NotJson(_))), "{open}: {result:?}");
        }
        let nested = format!("{{\"call_id\":\"1.2\",\"x\":{}1{}}}", "{\"a\":".repeat(100), "}".repeat(100));
        assert!(post_json("call-hangup", &nested).is_ok_and(|events| events[0].outcome.is_ok()));
    }

    #[test]
    fn bad_form_encoding_is_refused() {
        let form = Some("application/x-www-form-urlencoded");
        for body in ["call_id=16285%zz", "call_id=1628%", "call_id=%ff%fe"] {
            assert_eq!(deliver("POST", "call-hangup", form, body, &[]), Err(DecodeError::BadForm), "{body}");
        }
        let not_utf8 = deliver_with("POST", Some("call-hangup"), "/", form, b"call_id=\xff", &[], &ctx());
        assert_eq!(not_utf8, Err(DecodeError::BadForm));
    }

    #[test]
    fn a_json_body_that_is_not_utf8_is_refused() {
        let result =
            deliver_with("POST", Some("call-hangup"), "/", Some("application/json"), b"{\"a\":\"\xff\"}", &[], &ctx());

        assert_eq!(result, Err(DecodeError::NotUtf8));
    }

    // --- identity --------------------------------------------------------------

    #[test]
    fn a_delivery_without_call_id_or_uuid_is_rejected_as_missing_call_id() {
        let r = rejection(post_json("call-hangup", r#"{"caller_id_number": "9876543210", "call_id": "$call_id"}"#));

        assert_eq!(r.reason, "missing_call_id");
        assert_eq!(r.event_type.as_deref(), Some("call-hangup"));
    }

    #[test]
    fn the_uuid_is_the_key_when_the_call_id_was_left_unfilled() {
        let e = event(post_json("call-answered-by-agent", r#"{"call_id": "$call_id", "uuid": "61111f5e708c5"}"#));

        assert_eq!(e.event_key.as_str(), "call-answered-by-agent#61111f5e708c5");
        assert_eq!(attr(&e, "call_id"), None);
    }

    #[test]
    fn a_call_id_sent_as_a_json_number_keeps_every_digit() {
        let e = event(post_json("call-hangup", r#"{"call_id": 1628512094.7228905}"#));

        assert_eq!(e.event_key.as_str(), "call-hangup#1628512094.7228905");
    }

    #[test]
    fn a_redelivered_event_has_the_same_key_and_the_same_task() {
        let first = event(post_json("call-hangup-missed", HANGUP_MISSED));
        let again = event(post_json("call-hangup-missed", HANGUP_MISSED));

        assert_eq!(first.event_key, again.event_key);
        assert_eq!(first.callback, again.callback);
        let t1 = crate::CallbackTask::for_event(&first).unwrap();
        let t2 = crate::CallbackTask::for_event(&again).unwrap();
        assert_eq!(t1.task_id, t2.task_id);
    }

    #[test]
    fn the_same_call_on_two_triggers_gives_two_events() {
        let hangup = event(post_json("call-hangup", HANGUP_MISSED));
        let missed = event(post_json("call-hangup-missed", HANGUP_MISSED));

        assert_ne!(hangup.event_key, missed.event_key);
    }

    // --- key spellings and unfilled variables -----------------------------------

    #[test]
    fn dollar_prefixed_keys_are_read_like_plain_ones() {
        let body = r#"{"$call_id": "1628512094.7228905", "$caller_id_number": "919876543210",
                       "$call_to_number": "918069010148", "$call_status": "missed", "$start_stamp": "2021-08-09 17:56:21"}"#;

        let e = event(post_json("call-hangup", body));

        assert_eq!(e.event_key.as_str(), "call-hangup#1628512094.7228905");
        assert_eq!(due(&e).phone.as_str(), "+919876543210");
        assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
    }

    #[test]
    fn camel_case_upper_case_and_dashed_keys_are_read_like_snake_case() {
        let body = r#"{"callId": "1628512094.7228905", "CallerIdNumber": "9876543210", "CALL_STATUS": "NOANSWER",
                       "call-to-number": "918069010148", "StartStamp": "2021-08-09 17:56:21"}"#;

        let e = event(post_json("call-hangup", body));

        assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
        assert_eq!(attr(&e, "call_status"), Some("NOANSWER"));
        assert_eq!(due(&e).phone.as_str(), "+919876543210");
        assert_eq!(attr(&e, "start_time"), Some("2021-08-09T12:26:21Z"));
    }

    #[test]
    fn the_customer_number_key_with_a_trailing_space_is_read() {
        // Smartflo's own relay and several integrations send "customer_no_with_prefix ".
        let body = r#"{"call_id": "1739257917.28918", "customer_no_with_prefix ": "918580993919",
                       "caller_id_number": "+919240251731", "direction": "click_to_call"}"#;

        let e = event(post_json("call-missed-by-customer-click-to-call", body));

        assert_eq!(due(&e).phone.as_str(), "+918580993919");
        assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+919240251731");
    }

    #[test]
    fn the_customer_number_with_prefix_spellings_are_all_read() {
        for key in
            ["customer_no_with_prefix", "customer_number_with_prefix", "customer_number", "$customer_no_with_prefix"]
        {
            let body = format!(r#"{{"call_id": "1628512094.7228905", "{key}": "919876543210"}}"#);

            let e = event(post_json("call-hangup-missed", &body));

            assert_eq!(due(&e).phone.as_str(), "+919876543210", "{key}");
        }
    }

    #[test]
    fn unfilled_variables_count_as_absent_not_as_values() {
        for unfilled in ["$customer_no_with_prefix", "", "null", "NA", "  ", "${customer_no_with_prefix}"] {
            let body = format!(
                r#"{{"call_id": "1628512094.7228905", "customer_no_with_prefix": "{unfilled}",
                     "caller_id_number": "09876543210", "start_stamp": "$start_stamp", "call_status": "$call_status"}}"#
            );

            let e = event(post_json("call-hangup-missed", &body));

            assert_eq!(due(&e).phone.as_str(), "+919876543210", "{unfilled:?}");
            assert_eq!(due(&e).requested_at, received_at(), "{unfilled:?}");
            assert_eq!(attr(&e, "call_status"), None);
        }
    }

    #[test]
    fn is_unfilled_recognises_template_leftovers_and_sentinels_only() {
        for v in ["$caller_id_number", "${call_id}", "", "null", "NULL", "NA", "n/a", "undefined", "{}", "[]"] {
            assert!(is_unfilled(v), "{v:?}");
        }
        for v in ["$", "9876543210", "missed", "$ 100", "1628512094.7228905"] {
            assert!(!is_unfilled(v), "{v:?}");
        }
    }

    #[test]
    fn fields_inside_a_data_or_pyld_wrapper_are_read() {
        let body = r#"{"hm": "POST", "pyld": {"uuid": "67aaf83f245de", "call_id": "1739257917.28918",
                       "call_to_number": "918580993919", "caller_id_number": "+919240251731",
                       "start_stamp": "2025-02-11 12:41:57", "direction": "click_to_call"}}"#;

        let e = event(post_json("call-missed-by-customer-click-to-call", body));

        assert_eq!(e.event_key.as_str(), "call-missed-by-customer-click-to-call#1739257917.28918");
        assert_eq!(attr(&e, "start_time"), Some("2025-02-11T07:11:57Z"));
        assert_eq!(due(&e).phone.as_str(), "+918580993919");
    }

    #[test]
    fn agent_billing_circle_and_other_attributes_are_normalised() {
        let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

        assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
        assert_eq!(attr(&e, "uuid"), Some("61111f5e708c5"));
        assert_eq!(attr(&e, "direction"), Some("inbound"));
        assert_eq!(attr(&e, "customer_number"), Some("+919876543210"));
        assert_eq!(attr(&e, "business_number"), Some("+918069010148"));
        assert_eq!(attr(&e, "agent_name"), Some("Priya Sharma"));
        assert_eq!(attr(&e, "agent_number"), Some("+919812345678"));
        assert_eq!(attr(&e, "telecom_operator"), Some("Airtel"));
        assert_eq!(attr(&e, "telecom_circle"), Some("Karnataka"));
        assert_eq!(attr(&e, "hangup_cause"), Some("NORMAL_CLEARING"));
        assert_eq!(attr(&e, "end_time"), Some("2021-08-09T12:28:44Z"));
        assert_eq!(attr(&e, "answer_time"), None);
        assert_eq!(e.attributes.get("duration_seconds"), Some(&Value::from(143)));
        assert_eq!(e.attributes.get("missed"), Some(&Value::from(true)));
        assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 12, 28, 44).unwrap()));
    }

    #[test]
    fn the_answering_agent_is_read_from_flat_variables_or_the_answered_agent_object() {
        let flat = r#"{"call_id": "1", "answer_agent_number": "+911000001039", "call_status": "Answered by agent"}"#;
        let e = event(post_json("call-answered-by-customer-click-to-call", flat));
        assert_eq!(attr(&e, "agent_number"), Some("+911000001039"));

        let nested = r#"{"call_id": "1", "answered_agent": {"name": "Ravi", "number": "9812345678"}}"#;
        let e = event(post_json("call-answered-by-agent-hangup", nested));
        assert_eq!(attr(&e, "agent_name"), Some("Ravi"));
        assert_eq!(attr(&e, "agent_number"), Some("+919812345678"));
    }

    #[test]
    fn dialer_disposition_fields_are_kept_including_the_documented_misspelling() {
        let body = r#"{"call_id": "1628540022.7292026", "disposition": "Call Back Later", "sub_dispositon": "Busy",
                       "campaign_name": "Demo campaign", "campaign_id": 1213334, "agent_name": "Demo Agent",
                       "start_date": "2021-08-09", "start_time": "16:12:00", "end_date": "2021-08-09", "end_time": "16:14:00"}"#;

        let e = event(post_json("disposition-status-updated-dialer", body));

        assert_eq!(attr(&e, "disposition"), Some("Call Back Later"));
        assert_eq!(attr(&e, "sub_disposition"), Some("Busy"));
        assert_eq!(attr(&e, "campaign_id"), Some("1213334"));
        assert_eq!(attr(&e, "start_time"), Some("2021-08-09T10:42:00Z"));
        assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 10, 44, 0).unwrap()));
        assert_eq!(e.callback, CallbackDecision::NotDue);
    }

    // --- time ------------------------------------------------------------------

    #[test]
    fn zone_less_timestamps_are_read_in_india_time_and_stored_as_utc() {
        let e =
            event(post_json("call-received-on-server", r#"{"call_id": "1", "start_stamp": "2021-08-08 00:59:01"}"#));

        assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 7, 19, 29, 1).unwrap()));
        assert_eq!(attr(&e, "start_time"), Some("2021-08-07T19:29:01Z"));
    }

    #[test]
    fn zone_less_timestamps_follow_the_configured_local_offset() {
        let mut ctx = ctx();
        ctx.local_offset = FixedOffset::east_opt(4 * 3600).unwrap();
        let body = br#"{"call_id": "1", "start_stamp": "2021-08-09 17:58:44"}"#;

        let events =
            deliver_with("POST", Some("call-answered-on-ivr"), "/", Some("application/json"), body, &[], &ctx).unwrap();

        let e = events[0].outcome.as_ref().unwrap();
        assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 13, 58, 44).unwrap()));
    }

    #[test]
    fn iso_8601_with_a_zone_and_epoch_seconds_are_accepted() {
        let utc = Utc.with_ymd_and_hms(2021, 8, 9, 12, 28, 44).unwrap();
        let ist = FixedOffset::east_opt(19800).unwrap();
        for raw in [
            "2021-08-09T12:28:44Z",
            "2021-08-09T17:58:44+05:30",
            "2021-08-09 17:58:44+05:30",
            "1628512124",
            "1628512124000",
        ] {
            assert_eq!(parse_time(raw, ist), Some(utc), "{raw}");
        }
        assert_eq!(parse_time("2021-08-09", ist), Some(Utc.with_ymd_and_hms(2021, 8, 8, 18, 30, 0).unwrap()));
    }

    #[test]
    fn an_unreadable_timestamp_that_decides_the_time_rejects_the_event_naming_only_the_field() {
        for (field, value) in [("start_stamp", "09/08/2021 5pm"), ("end_stamp", "9876543210x"), ("date", "yesterday")] {
            let body = format!(r#"{{"call_id": "1", "digit_pressed": "1", "{field}": "{value}"}}"#);

            let r = rejection(post_json("dtmf-option", &body));

            assert_eq!(r.reason, "invalid_timestamp", "{field}");
            assert!(r.detail.contains(field), "{}", r.detail);
            assert!(!r.detail.contains(value), "{}", r.detail);
        }
    }

    #[test]
    fn an_unreadable_answer_time_is_left_out_rather_than_rejected() {
        let e = event(post_json("call-hangup-answered", r#"{"call_id": "1", "answer_stamp": "soon"}"#));

        assert_eq!(attr(&e, "answer_time"), None);
    }

    // --- DTMF ------------------------------------------------------------------

    #[test]
    fn a_dtmf_key_carries_the_digit_and_the_time_it_was_pressed() {
        let body = r#"{"uuid": "61111f5e708c5", "call_id": "1628540022.7292026", "digit_pressed": "3",
                       "date": "2021-08-10 01:43:47", "caller_id_number": "9876543210"}"#;

        let e = event(post_json("dtmf-option", body));

        assert_eq!(e.event_key.as_str(), "dtmf-option#1628540022.7292026#3#2021-08-09T20:13:47Z");
        assert_eq!(attr(&e, "dtmf_digit"), Some("3"));
        assert_eq!(attr(&e, "dtmf_time"), Some("2021-08-09T20:13:47Z"));
        assert_eq!(e.callback, CallbackDecision::NotDue);
    }

    #[test]
    fn two_presses_in_one_call_are_two_events() {
        let first = r#"{"call_id": "1628540022.7292026", "digit_pressed": "1", "date": "2021-08-10 01:43:47"}"#;
        let second = r#"{"call_id": "1628540022.7292026", "digit_pressed": "1", "date": "2021-08-10 01:43:55"}"#;
        let other = r#"{"call_id": "1628540022.7292026", "digit_pressed": "2", "date": "2021-08-10 01:43:47"}"#;

        let keys: Vec<EventKey> =
            [first, second, other].iter().map(|b| event(post_json("dtmf-option", b)).event_key).collect();

        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
    }

    #[test]
    fn dtmf_digits_are_read_from_the_other_spellings_and_from_arrays() {
        for (body, digit) in [
            (r#"{"call_id": "1", "dtmf": 4, "date": "2021-08-10 01:43:47"}"#, "4"),
            (r#"{"call_id": "1", "Digit": "*", "date": "2021-08-10 01:43:47"}"#, "*"),
            (r#"{"call_id": "1", "digits_dialed": ["1", "2"], "date": "2021-08-10 01:43:47"}"#, "12"),
            (r#"{"call_id": "1", "digits_dialed": "[\"5\"]", "date": "2021-08-10 01:43:47"}"#, "5"),
        ] {
            let e = event(post_json("dtmf-option", body));

            assert_eq!(attr(&e, "dtmf_digit"), Some(digit), "{body}");
            assert!(e.event_key.as_str().starts_with(&format!("dtmf-option#1#{digit}#")), "{body}");
        }
    }

    /// The key's time text is written once and handed to the attribute of
    /// the same time: every time attribute still reads as its own time.
    #[test]
    fn a_dtmf_key_time_is_the_time_attribute_it_came_from() {
        for (start, date, key_time) in [
            (Some("2021-08-10 01:43:40"), Some("2021-08-10 01:43:47"), "2021-08-09T20:13:47Z"),
            (Some("2021-08-10 01:43:47"), Some("2021-08-10 01:43:47"), "2021-08-09T20:13:47Z"),
            (Some("2021-08-10 01:43:40"), None, "2021-08-09T20:13:40Z"),
        ] {
            let mut body = r#"{"call_id": "1", "digit_pressed": "2""#.to_owned();
            for (name, at) in [("start_stamp", start), ("date", date)] {
                if let Some(at) = at {
                    body.push_str(&format!(r#", "{name}": "{at}""#));
                }
            }
            body.push('}');
            let e = event(post_json("dtmf-option", &body));

            assert_eq!(e.event_key.as_str(), format!("dtmf-option#1#2#{key_time}"), "{body}");
            let written = |at: Option<&str>| {
                at.map(|at| rfc3339(parse_time(at, FixedOffset::east_opt(19_800).unwrap()).unwrap()))
            };
            assert_eq!(attr(&e, "start_time").map(str::to_owned), written(start), "{body}");
            assert_eq!(attr(&e, "dtmf_time").map(str::to_owned), written(date), "{body}");
        }
    }

    #[test]
    fn a_dtmf_event_without_a_digit_is_rejected() {
        let r = rejection(post_json("dtmf-option", r#"{"call_id": "1", "digit_pressed": "$digit_pressed"}"#));

        assert_eq!(r.reason, "missing_dtmf_digit");
    }

    #[test]
    fn a_dtmf_event_without_a_time_is_keyed_by_call_and_digit() {
        let e = event(post_json("dtmf-option", r#"{"call_id": "1", "digit_pressed": "9"}"#));

        assert_eq!(e.event_key.as_str(), "dtmf-option#1#9");
    }

    // --- missed-call tasks -----------------------------------------------------

    #[test]
    fn a_missed_call_gives_a_task_to_call_the_customer_back_from_the_number_they_dialled() {
        let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

        let task = due(&e);
        assert_eq!(task.reason, CallbackReason::MissedCall);
        assert_eq!(task.phone.as_str(), "+919876543210");
        assert_eq!(task.business_phone.as_ref().unwrap().as_str(), "+918069010148");
        assert_eq!(task.window, None);
        assert_eq!(task.requested_at, Utc.with_ymd_and_hms(2021, 8, 9, 12, 26, 21).unwrap());
        assert_eq!(task.context.get("trigger"), Some(&Value::from("call-hangup-missed")));
    }

    #[test]
    fn each_missed_call_trigger_gives_a_task_whatever_the_status_says() {
        for trigger in MISSED_TRIGGERS {
            let e = event(post_json(trigger, &minimal("$call_status")));

            assert_eq!(due(&e).reason, CallbackReason::MissedCall, "{trigger}");
        }
    }

    #[test]
    fn a_hangup_whose_status_says_missed_gives_a_task() {
        for status in [
            "missed",
            "Missed",
            "MISSED",
            "noanswer",
            "NOANSWER",
            "no answer",
            "no_answer",
            "Not Answered",
            "Missed by agent",
        ] {
            let e = event(post_json("call-hangup", &minimal(status)));

            assert_eq!(due(&e).phone.as_str(), "+919876543210", "{status}");
        }
    }

    #[test]
    fn a_hangup_that_was_answered_or_has_no_status_gives_no_task() {
        for status in ["answered", "Answered", "ANSWER", "Answered by agent", "completed", "$call_status", ""] {
            let e = event(post_json("call-hangup", &minimal(status)));

            assert_eq!(e.callback, CallbackDecision::NotDue, "{status:?}");
            assert_eq!(e.attributes.get("missed"), Some(&Value::from(false)));
        }
    }

    #[test]
    fn no_other_trigger_gives_a_task_even_when_its_status_says_missed() {
        for trigger in TRIGGERS.iter().filter(|t| !MISSED_TRIGGERS.contains(t) && **t != "call-hangup") {
            let body = minimal("missed").replace('}', r#", "digit_pressed": "1"}"#);

            let e = event(post_json(trigger, &body));

            assert_eq!(e.callback, CallbackDecision::NotDue, "{trigger}");
        }
    }

    #[test]
    fn a_missed_click_to_call_calls_back_the_dialled_customer_from_the_caller_id() {
        let body = r#"{"uuid": "6110f068a4139", "call_id": "1628540022.7292026", "call_to_number": "09876543210",
                       "caller_id_number": "918069010102", "direction": "clicktocall", "call_status": "missed",
                       "start_stamp": "2021-08-09 14:37:52"}"#;

        let e = event(post_json("call-missed-by-customer-click-to-call", body));

        assert_eq!(due(&e).phone.as_str(), "+919876543210");
        assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010102");
        assert_eq!(attr(&e, "direction"), Some("click_to_call"));
    }

    #[test]
    fn an_outbound_missed_hangup_calls_back_the_called_number() {
        let body = r#"{"call_id": "1", "call_to_number": "9876543210", "caller_id_number": "918069010148",
                       "direction": "outbound", "call_status": "missed"}"#;

        let e = event(post_json("call-hangup", body));

        assert_eq!(due(&e).phone.as_str(), "+919876543210");
        assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
    }

    #[test]
    fn when_the_explicit_customer_number_is_the_called_number_the_business_is_the_caller_id() {
        let body = r#"{"call_id": "1", "customer_no_with_prefix": "919876543210", "call_to_number": "9876543210",
                       "caller_id_number": "918069010148"}"#;

        let e = event(post_json("call-hangup-missed", body));

        assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
    }

    #[test]
    fn a_missed_call_without_a_reachable_number_is_unreachable() {
        for body in [
            r#"{"call_id": "1", "caller_id_number": "$caller_id_number"}"#,
            r#"{"call_id": "1", "caller_id_number": "anonymous", "customer_number": "12"}"#,
        ] {
            let e = event(post_json("call-missed-by-agent-hangup", body));

            assert_eq!(e.callback, CallbackDecision::Unreachable { reason: CallbackReason::MissedCall }, "{body}");
        }
    }

    #[test]
    fn a_missed_call_without_a_call_time_is_requested_at_its_receipt() {
        let e = event(post_json("call-hangup-missed", r#"{"call_id": "1", "caller_id_number": "9876543210"}"#));

        assert_eq!(due(&e).requested_at, received_at());
    }

    #[test]
    fn the_normalised_event_serialises_with_the_missed_call_reason() {
        let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

        let json = e.to_json();

        assert_eq!(json["callback"], Value::from("missed_call"));
        assert_eq!(json["event_type"], Value::from("call-hangup-missed"));
    }

    #[test]
    fn the_plain_local_form_reads_as_chrono_reads_it() {
        let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        let mut cases: Vec<String> = Vec::new();
        for date in ["2021-08-09", "2024-02-29", "2023-02-29", "2021-13-01", "2021-00-10", "0000-01-01", "9999-12-31"] {
            for sep in [" ", "T", "t", "_"] {
                for time in ["17:58:44", "00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:2:3"] {
                    cases.push(format!("{date}{sep}{time}"));
                }
            }
        }
        cases.extend(
            [
                "2021-08-09 17:58:4x",
                "+021-08-09 17:58:44",
                "2021-08-09 17:58:44Z",
                "2021/08/09 17:58:44",
                "２021-08-09",
            ]
            .map(String::from),
        );
        let mut fast = 0;
        for case in &cases {
            let general = parse_time_with_chrono(case, ist);
            match plain_local(case) {
                Some(_) => {
                    fast += 1;
                    assert_eq!(parse_time(case, ist), general, "{case}");
                    assert!(general.is_some(), "{case}");
                }
                None => assert_eq!(parse_time(case, ist), general, "{case}"),
            }
        }
        assert!(fast > 20, "the fast path is taken ({fast})");
    }

    #[test]
    fn the_one_pass_reader_builds_the_fields_the_raw_reader_builds_or_leaves_the_body_to_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
        let mut bodies: Vec<String> = Vec::new();
        for file in std::fs::read_dir(&dir).expect("events/smartflo exists").flatten() {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
            if let Some(body) = v["body"].as_str().filter(|b| b.trim_start().starts_with('{')) {
                bodies.push(body.to_owned());
            }
        }
        let recorded = bodies.len();
        let nested =
            |levels: usize| format!("{{\"call_id\":\"1\",\"x\":{}1{}}}", "{\"a\":".repeat(levels), "}".repeat(levels));
        bodies.extend([
            HANGUP_MISSED.to_owned(),
            r#"{"call_id": 1628512094.7228905, "n": -0.5E+3, "t": true, "f": false, "z": null, "e": 1e400, "o": 0}"#
                .into(),
            r#"{"call_id": "a\"b", "uuid": "\u00e9x", "call\u005fstatus": "missed"}"#.into(),
            " \n{ \"data\" : { \"call_id\" : \"1\" } , \"x\" : [ ] , \"y\" : { } }\r\n\t".into(),
            r#"{"$call_id": "1", "callId": "2", "Call ID": "3", "call_id": "4", "customer_no": "९१९८७६५४३२१०"}"#.into(),
            r#"{"digits_dialed": ["1", 2, null, {"digit": 1}, [], [[]]], "missed_agent": [{"name": "A"}]}"#.into(),
            r#"{"call_id": "\ud800"}"#.into(),
            r#"{"call\ud800": "1"}"#.into(),
            r#"{"a": 1,}"#.into(),
            r#"{"a": [1,]}"#.into(),
            r#"{"a": 01}"#.into(),
            r#"{"a": -}"#.into(),
            r#"{"a": 1.}"#.into(),
            r#"{"a": 1e}"#.into(),
            r#"{"a": 1x}"#.into(),
            r#"{"a": tru}"#.into(),
            r#"{"a": nul}"#.into(),
            r#"{"a" 1}"#.into(),
            r#"{"a": 1 "b": 2}"#.into(),
            r#"{"a": 1} x"#.into(),
            r#"{"a": "unterminated"#.into(),
            r#"{"a": "x\"}"#.into(),
            "{\"a\": \"tab\tinside\"}".into(),
            "{".into(),
            "[1]".into(),
            "\"text\"".into(),
            nested(MAX_DEPTH - 2),
            nested(MAX_DEPTH - 1),
            nested(MAX_DEPTH),
        ]);
        let mut one_pass = 0;
        for (i, body) in bodies.iter().enumerate() {
            let raw = parse_object_at(body, 0).ok();
            if let Some(fields) = OnePass::object(body) {
                one_pass += usize::from(i < recorded);
                assert_eq!(Some(FieldValue::Object(fields)), raw, "{body}");
            }
        }
        let recorded_ok = bodies[..recorded].iter().filter(|b| parse_object_at(b, 0).is_ok()).count();
        assert_eq!(one_pass, recorded_ok, "every recorded body the raw reader reads is read in one pass");
        assert!(OnePass::object(&bodies[recorded + 1]).is_some(), "numbers, literals and null in one pass");
        assert!(OnePass::object(&bodies[recorded + 2]).is_some(), "escapes in one pass");
    }

    /// `normalise_key` as it was, character by character (the reference
    /// for the byte-by-byte version).
    fn normalise_key_by_characters(key: &str) -> String {
        let key = key.trim();
        let key = key.strip_prefix('$').unwrap_or(key);
        let key = key.trim_start_matches('{').trim_end_matches('}').trim();
        let mut out = String::new();
        let mut prev: Option<char> = None;
        let chars: Vec<char> = key.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_ascii_uppercase() {
                let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
                let boundary = match prev {
                    Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                    Some(p) if p.is_ascii_uppercase() && next_lower => true,
                    _ => false,
                };
                if boundary {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('_') {
                out.push('_');
            }
            prev = Some(c);
        }
        out.trim_matches('_').to_owned()
    }

    #[test]
    fn key_normalisation_gives_what_the_character_by_character_version_gave() {
        let mut keys: Vec<String> = [
            "",
            "_",
            "__",
            "$",
            "${}",
            "$_a_",
            "call_id",
            "_call_id",
            "call_id_",
            "call__id",
            "$call_id",
            "${uuid}",
            " $ {x} ",
            "$$call_id",
            "callId",
            "CallID",
            "HTTPServerURL",
            "a1B",
            "ABc",
            "A",
            "aB",
            "x-y z",
            "Caller ID Number",
            "caller-id-number",
            "café_no",
            "éA",
            "Aé",
            "aéb",
            "Ωmega",
            "customer no with prefix ",
            "__x__",
            "a_-_b",
            "${call_ID}",
            "call id\t",
            "NUMBER9x",
            "9A",
            "_A_",
            "a\u{2003}b",
        ]
        .iter()
        .map(|k| (*k).to_owned())
        .collect();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
        for file in std::fs::read_dir(&dir).expect("events/smartflo exists").flatten() {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
            if let Ok(Value::Object(body)) = serde_json::from_str::<Value>(v["body"].as_str().unwrap_or("")) {
                keys.extend(body.keys().cloned());
            }
        }
        for key in &keys {
            assert_eq!(normalise_key(key), normalise_key_by_characters(key), "{key:?}");
        }
    }

    #[test]
    fn every_read_name_has_its_slot_and_no_other_name_has_one() {
        for (slot, name) in NAMES.iter().enumerate() {
            assert_eq!(usize::from(slot_of(name)), slot, "{name}");
        }
        for other in ["", "x", "call", "call_i", "call_idx", "Call_id", "customer_no_with_prefi", "key", "operators"] {
            let want = NAMES.iter().position(|n| *n == other).map_or(UNREAD, |slot| slot as u8);
            assert_eq!(slot_of(other), want, "{other}");
        }
    }

    #[test]
    fn eight_bytes_need_a_look_exactly_when_one_of_them_ends_or_interrupts_a_plain_string() {
        let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for round in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = seed.to_le_bytes();
            // Mostly plain text, with a special byte or a neighbour of one here and there.
            for b in &mut bytes {
                *b = match *b % 8 {
                    0 => [b'"', b'\\', 0x1f, 0x20, b'!', b'#', b'[', b']', 0x00, 0x7f, 0x80, 0xff]
                        [usize::from(*b / 8) % 12],
                    _ => *b | 0x20,
                };
            }
            if round % 2 == 0 {
                bytes = bytes.map(|b| if special(b) { b'a' } else { b });
            }
            assert_eq!(needs_a_look(u64::from_le_bytes(bytes)), bytes.iter().any(|&b| special(b)), "{bytes:?}");
        }
    }

    #[test]
    fn the_query_string_is_written_as_form_urlencoded_writes_it() {
        let pairs: Vec<(String, String)> = [
            ("call_id", "1754036781.4471935"),
            ("", ""),
            ("a b", "c+d&e=f"),
            ("$uuid", "${uuid}"),
            ("name", "Priya Śharma ☎ 😀"),
            ("*-._~!'()", "%2B%zz/?#[]@"),
            ("tab\tnew\nline", "\u{0}\u{7f}\u{80}"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for n in 0..=pairs.len() {
            let mut serializer = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &pairs[..n] {
                serializer.append_pair(k, v);
            }
            assert_eq!(query_string(&pairs[..n]), serializer.finish());
        }
        let mut empty_first = vec![(String::new(), String::new())];
        empty_first.extend(pairs);
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &empty_first {
            serializer.append_pair(k, v);
        }
        assert_eq!(query_string(&empty_first), serializer.finish());
    }

    #[test]
    fn percent_decoding_gives_what_the_radix_parsing_version_gave() {
        // The version before, for text whose escapes are two hex digits (as
        // `decode_form` has checked before it decodes).
        fn by_radix(s: &str) -> Result<Cow<'_, str>, DecodeError> {
            if !s.contains(['+', '%']) {
                return Ok(Cow::Borrowed(s));
            }
            let bytes = s.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'+' => out.push(b' '),
                    b'%' => {
                        let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| DecodeError::BadForm)?;
                        out.push(u8::from_str_radix(hex, 16).map_err(|_| DecodeError::BadForm)?);
                        i += 2;
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            String::from_utf8(out).map(Cow::Owned).map_err(|_| DecodeError::BadForm)
        }
        for text in [
            "",
            "plain",
            "a+b",
            "%2B%2b",
            "2025-08-01+13%3A56%3A21",
            "%E0%A4%95",
            "%FF",
            "%C3",
            "%00%7F",
            "Śharma+%F0%9F%98%80",
            "%aF%Af%09",
            "+++",
            "%25%2525",
        ] {
            let ours = percent_decode(text);
            assert_eq!(ours, by_radix(text), "{text}");
            assert_eq!(matches!(ours, Ok(Cow::Borrowed(_))), !text.contains(['+', '%']), "{text}");
        }
    }

    #[test]
    fn directions_flags_and_substrings_read_as_the_copying_versions_read_them() {
        let old_direction = |raw: &str| {
            let d = normalise_key(&raw.to_ascii_lowercase()).into_owned();
            match d.as_str() {
                "clicktocall" | "click2call" | "c2c" => "click_to_call".to_owned(),
                _ => d,
            }
        };
        let old_flag = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => Some(true),
            "false" | "0" | "no" | "n" => Some(false),
            _ => None,
        };
        for raw in [
            "inbound",
            "outbound",
            "Inbound",
            "OUTBOUND",
            "clicktocall",
            "ClickToCall",
            "click2call",
            "c2c",
            "C2C",
            "click_to_call",
            "click-to-call",
            "dialer_outbound",
            " inbound ",
            "$direction",
            "",
            "Y",
            "n",
            " True ",
            "FALSE",
            "1",
            "0",
            "yes",
            "No",
            "yess",
            "tru",
            "K",
            "ß",
            "ﬁ",
        ] {
            assert_eq!(normalise_direction(raw), old_direction(raw), "{raw:?}");
            assert_eq!(flag(raw), old_flag(raw), "{raw:?}");
            for needle in ["click", "miss", "hangup", "missed", "out", "ﬁ"] {
                assert_eq!(contains_bytes(raw, needle), raw.contains(needle), "{raw:?} {needle:?}");
            }
        }
        for trigger in TRIGGERS {
            for needle in ["hangup", "missed"] {
                assert_eq!(contains_bytes(trigger, needle), trigger.contains(needle), "{trigger} {needle}");
            }
        }
    }

    #[test]
    fn key_normalisation_handles_the_spellings_seen_in_the_wild() {
        for (raw, want) in [
            ("$caller_id_number", "caller_id_number"),
            ("customer_no_with_prefix ", "customer_no_with_prefix"),
            ("callId", "call_id"),
            ("CallID", "call_id"),
            ("Caller ID Number", "caller_id_number"),
            ("call-to-number", "call_to_number"),
            ("${uuid}", "uuid"),
        ] {
            assert_eq!(normalise_key(raw), want, "{raw:?}");
        }
    }

    // --- recorded events -------------------------------------------------------

    /// What each recorded event in `events/smartflo` must produce.
    fn expected_outcome(file: &str) -> &'static str {
        match file {
            f if f.starts_with("unknown-trigger") => "404",
            f if f.starts_with("malformed") => "400",
            f if f.starts_with("unsupported-content-type") => "415",
            f if f.starts_with("missing-call-id") || f.starts_with("invalid-timestamp") => "422",
            f if f.contains("unreachable") => "unreachable",
            "call-hangup-missed.json"
            | "call-missed-by-agent-hangup.json"
            | "call-missed-by-customer-click-to-call.json"
            | "call-hangup.json" => "task",
            f if f.contains("missed") && !f.contains("answered") => "task",
            _ => "stored",
        }
    }

    #[test]
    fn every_recorded_event_parses_to_its_expected_outcome() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
        let mut seen_triggers = std::collections::BTreeSet::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir).expect("events/smartflo exists").flatten().collect();
        files.sort_by_key(|f| f.file_name());
        assert!(files.len() >= 16);
        for file in files {
            let name = file.file_name().to_string_lossy().into_owned();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
            let method = v["requestContext"]["http"]["method"].as_str().unwrap();
            assert!(v["routeKey"].as_str().unwrap().starts_with(method), "{name}");
            let trigger = v["pathParameters"]["trigger"].as_str();
            let path = v["rawPath"].as_str().unwrap();
            let query: Vec<(String, String)> = form_urlencoded::parse(v["rawQueryString"].as_str().unwrap().as_bytes())
                .into_owned()
                .filter(|(k, _)| k != "key")
                .collect();
            let content_type = v["headers"]["content-type"].as_str();
            let body = v["body"].as_str().unwrap_or("");
            let delivery = Delivery { method, path, trigger, query: &query, content_type, body: body.as_bytes() };

            let outcome = match Smartflo.parse(&delivery, &ctx()) {
                Err(DecodeError::UnknownRoute(_)) => "404",
                Err(DecodeError::UnsupportedContentType(_)) => "415",
                Err(_) => "400",
                Ok(events) => match &events[0].outcome {
                    Err(_) => "422",
                    Ok(e) => {
                        seen_triggers.insert(e.event_type.clone());
                        assert_eq!(trigger, Some(e.event_type.as_str()), "{name}");
                        match e.callback {
                            CallbackDecision::Due(_) => "task",
                            CallbackDecision::Unreachable { .. } => "unreachable",
                            CallbackDecision::NotDue => "stored",
                        }
                    }
                },
            };

            assert_eq!(outcome, expected_outcome(&name), "{name}");
        }
        assert_eq!(seen_triggers.len(), TRIGGERS.len(), "one recorded event per trigger at least");
    }
}
