//! The common shape every provider's event is normalised to.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{EventKey, PhoneNumber};

/// The providers we receive from. The name is the function name, the route
/// segment, and the prefix of every DynamoDB key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Provider {
    #[serde(rename = "truecaller")]
    Truecaller,
    #[serde(rename = "curious-thing")]
    CuriousThing,
    #[serde(rename = "smartflo")]
    Smartflo,
    #[serde(rename = "wavix")]
    Wavix,
}

impl Provider {
    pub const ALL: [Provider; 4] = [Provider::Truecaller, Provider::CuriousThing, Provider::Smartflo, Provider::Wavix];

    pub const fn name(self) -> &'static str {
        match self {
            Provider::Truecaller => "truecaller",
            Provider::CuriousThing => "curious-thing",
            Provider::Smartflo => "smartflo",
            Provider::Wavix => "wavix",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the contact centre should call the customer (queue contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackReason {
    CallbackRequested,
    HumanRequested,
    MissedCall,
}

impl CallbackReason {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallbackReason::CallbackRequested => "callback_requested",
            CallbackReason::HumanRequested => "human_requested",
            CallbackReason::MissedCall => "missed_call",
        }
    }
}

/// When the customer asked to be called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallbackWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// What a callback task needs beyond the event's identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackRequest {
    pub reason: CallbackReason,
    pub phone: PhoneNumber,
    pub alternate_phone: Option<PhoneNumber>,
    pub business_phone: Option<PhoneNumber>,
    pub window: Option<CallbackWindow>,
    pub requested_at: DateTime<Utc>,
    /// The task's `context` (written out as a JSON object by the task).
    pub context: Attributes,
}

/// The task rule's verdict for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackDecision {
    /// This event does not ask for a callback.
    NotDue,
    /// Exactly one callback task must be enqueued for this event.
    Due(Box<CallbackRequest>),
    /// A callback is due but there is no number to call: stored, no task,
    /// counted so on-call sees it.
    Unreachable { reason: CallbackReason },
}

impl CallbackDecision {
    pub fn request(&self) -> Option<&CallbackRequest> {
        match self {
            CallbackDecision::Due(request) => Some(request),
            _ => None,
        }
    }
}

/// One provider event, validated and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalisedEvent {
    pub provider: Provider,
    pub event_key: EventKey,
    /// The provider's own event type name (`cmb`, `CallComplete`, a Smartflo
    /// trigger slug, a Wavix `event_type`), kept even when unknown to us.
    pub event_type: String,
    pub occurred_at: Option<DateTime<Utc>>,
    /// The normalised fields worth querying (numbers in E.164, times in
    /// RFC 3339). The raw body is stored beside it, so nothing is lost.
    pub attributes: Attributes,
    pub callback: CallbackDecision,
}

impl NormalisedEvent {
    /// The normalised event as stored in DynamoDB (`event` attribute).
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("provider".into(), Value::from(self.provider.name()));
        map.insert("event_key".into(), Value::from(self.event_key.as_str()));
        map.insert("event_type".into(), Value::from(self.event_type.as_str()));
        if let Some(at) = self.occurred_at {
            map.insert("occurred_at".into(), Value::from(rfc3339(at)));
        }
        map.insert("attributes".into(), Value::Object(self.attributes.to_map()));
        map.insert(
            "callback".into(),
            match &self.callback {
                CallbackDecision::NotDue => Value::Null,
                CallbackDecision::Due(r) => Value::from(r.reason.as_str()),
                CallbackDecision::Unreachable { reason } => Value::from(format!("{}:unreachable", reason.as_str())),
            },
        );
        Value::Object(map)
    }
}

/// An event's normalised fields. Their names are fixed in code and there are
/// a dozen or so, so a list of static names is much cheaper to build and drop
/// than a `Map` with an owned key and a tree node per field (issue 6).
/// Stored as [`Attributes::to_map`]: the same JSON object a `Map` would give.
#[derive(Clone, Default)]
pub struct Attributes(Vec<(&'static str, Value)>);

/// As a `Map` prints: sorted by name (callback decisions are logged and
/// compared in their `Debug` form).
impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted: Vec<&(&'static str, Value)> = self.0.iter().collect();
        sorted.sort_unstable_by_key(|(n, _)| *n);
        f.debug_map().entries(sorted.into_iter().map(|(n, v)| (n, v))).finish()
    }
}

impl Attributes {
    pub fn new() -> Self {
        Self(Vec::with_capacity(16))
    }

    /// Sets `name`, replacing and returning an earlier value (as `Map::insert`).
    pub fn insert(&mut self, name: &'static str, value: Value) -> Option<Value> {
        match self.0.iter_mut().find(|(n, _)| same_name(n, name)) {
            Some((_, old)) => Some(std::mem::replace(old, value)),
            None => {
                self.0.push((name, value));
                None
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| same_name(n, name)).map(|(_, v)| v)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Name and value, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.0.iter().map(|(n, v)| (*n, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, v)| v)
    }

    /// The attributes as the JSON object that is stored.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(n, v)| (n.to_owned(), v.clone())).collect()
    }
}

/// `a == b`, with the first bytes compared before the call that compares
/// the rest: the names looked up are nearly always absent and of a length
/// some other name has (issue 6).
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Where the providers' field helpers write: an event's attributes or a
/// task's context.
pub(crate) trait SetField {
    fn set_field(&mut self, name: &'static str, value: Value);
}

impl SetField for Attributes {
    fn set_field(&mut self, name: &'static str, value: Value) {
        self.insert(name, value);
    }
}

impl SetField for Map<String, Value> {
    fn set_field(&mut self, name: &'static str, value: Value) {
        self.insert(name.into(), value);
    }
}

/// Equal when they hold the same names with the same values, in any order
/// (as two `Map`s would be).
impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(n, v)| other.get(n) == Some(v))
    }
}

/// As the `Map` of [`Attributes::to_map`] serialises.
impl Serialize for Attributes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl std::ops::Index<&str> for Attributes {
    type Output = Value;

    /// Panics when `name` is absent, as indexing a `Map` does.
    fn index(&self, name: &str) -> &Value {
        self.get(name).unwrap_or_else(|| panic!("no attribute {name}"))
    }
}

/// RFC 3339 in UTC with whole seconds, the form used in every stored record.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_is_string_equality() {
        let names =
            ["", "a", "b", "ab", "ba", "kind", "uuid", "from", "date", "disposition", "destination", "é", "è", "éa"];
        for a in names {
            for b in names {
                assert_eq!(same_name(a, b), a == b, "{a:?} {b:?}");
            }
        }
    }
}
