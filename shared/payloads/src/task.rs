//! The `callback-request/v1` task the dialer consumes (queue contract).

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{Attributes, CallbackReason, CallbackWindow, NormalisedEvent, PhoneNumber, Provider};

pub const SCHEMA: &str = "callback-request/v1";

/// Fixed namespace for task IDs, so the same event always yields the same ID.
const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a57_3b0e_4c59_9d4e_8a7b_c0d1_e2f3);

/// The task for one event. Made from an event, it borrows the event's key,
/// numbers and context (issue 6: copying them cost as much as the rest of
/// the task); read back from stored JSON ([`CallbackTask::from_json`]), it
/// owns them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackTask<'a> {
    pub schema: &'static str,
    pub task_id: String,
    pub provider: Provider,
    pub event_key: Cow<'a, str>,
    pub reason: CallbackReason,
    pub phone: Cow<'a, PhoneNumber>,
    pub alternate_phone: Option<Cow<'a, PhoneNumber>>,
    pub business_phone: Option<Cow<'a, PhoneNumber>>,
    pub window: Option<CallbackWindow>,
    #[serde(serialize_with = "secs")]
    pub requested_at: DateTime<Utc>,
    pub context: TaskContext<'a>,
}

fn secs<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::event::rfc3339(*at))
}

impl<'a> CallbackTask<'a> {
    /// The task for an event whose callback is due; `None` otherwise.
    pub fn for_event(event: &'a NormalisedEvent) -> Option<Self> {
        let request = event.callback.request()?;
        Some(Self {
            schema: SCHEMA,
            task_id: task_id(event.provider, event.event_key.as_str()),
            provider: event.provider,
            event_key: Cow::Borrowed(event.event_key.as_str()),
            reason: request.reason,
            phone: Cow::Borrowed(&request.phone),
            alternate_phone: request.alternate_phone.as_ref().map(Cow::Borrowed),
            business_phone: request.business_phone.as_ref().map(Cow::Borrowed),
            window: request.window,
            requested_at: request.requested_at,
            context: TaskContext::Event(&request.context),
        })
    }

    /// The same task, owning what it borrowed.
    pub fn into_owned(self) -> CallbackTask<'static> {
        CallbackTask {
            schema: self.schema,
            task_id: self.task_id,
            provider: self.provider,
            event_key: Cow::Owned(self.event_key.into_owned()),
            reason: self.reason,
            phone: Cow::Owned(self.phone.into_owned()),
            alternate_phone: self.alternate_phone.map(|p| Cow::Owned(p.into_owned())),
            business_phone: self.business_phone.map(|p| Cow::Owned(p.into_owned())),
            window: self.window,
            requested_at: self.requested_at,
            context: TaskContext::Map(self.context.into_map()),
        }
    }

    /// FIFO group: callbacks to one customer are serialised.
    pub fn message_group_id(&self) -> &str {
        self.phone.as_str()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a task always serialises")
    }
}

/// A task's `context`: the event's own (borrowed), or a JSON object (read
/// back from a stored task, or changed). Either way the same JSON object.
#[derive(Clone)]
pub enum TaskContext<'a> {
    Event(&'a Attributes),
    Map(Map<String, Value>),
}

impl TaskContext<'_> {
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            TaskContext::Event(attributes) => attributes.get(name),
            TaskContext::Map(map) => map.get(name),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            TaskContext::Event(attributes) => attributes.len(),
            TaskContext::Map(map) => map.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        let (event, map) = match self {
            TaskContext::Event(attributes) => (Some(*attributes), None),
            TaskContext::Map(map) => (None, Some(map)),
        };
        event.into_iter().flat_map(Attributes::values).chain(map.into_iter().flat_map(Map::values))
    }

    /// The context as a map to change (an event's is copied first).
    pub fn to_mut(&mut self) -> &mut Map<String, Value> {
        if let TaskContext::Event(attributes) = self {
            *self = TaskContext::Map(attributes.to_map());
        }
        match self {
            TaskContext::Map(map) => map,
            TaskContext::Event(_) => unreachable!("made a map above"),
        }
    }

    pub fn into_map(self) -> Map<String, Value> {
        match self {
            TaskContext::Event(attributes) => attributes.to_map(),
            TaskContext::Map(map) => map,
        }
    }
}

impl From<Map<String, Value>> for TaskContext<'_> {
    fn from(map: Map<String, Value>) -> Self {
        TaskContext::Map(map)
    }
}

/// As a `Map` prints (sorted by name).
impl fmt::Debug for TaskContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskContext::Event(attributes) => attributes.fmt(f),
            TaskContext::Map(map) => map.fmt(f),
        }
    }
}

/// Equal when they hold the same names with the same values (as two `Map`s).
impl PartialEq for TaskContext<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && match self {
                TaskContext::Event(attributes) => attributes.iter().all(|(n, v)| other.get(n) == Some(v)),
                TaskContext::Map(map) => map.iter().all(|(n, v)| other.get(n) == Some(v)),
            }
    }
}

/// The JSON object of a `Map` of the same names and values.
impl Serialize for TaskContext<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TaskContext::Event(attributes) => attributes.serialize(s),
            TaskContext::Map(map) => map.serialize(s),
        }
    }
}

/// Stable task ID: UUID v5 of `{provider}#{event_key}`.
pub fn task_id(provider: Provider, event_key: &str) -> String {
    // Written without `format!` and `Display`: this is on every task's path
    // and the formatting machinery cost as much as the hashing (issue 6).
    let mut name = Vec::with_capacity(provider.name().len() + 1 + event_key.len());
    name.extend_from_slice(provider.name().as_bytes());
    name.push(b'#');
    name.extend_from_slice(event_key.as_bytes());
    uuid_text(Uuid::new_v5(&TASK_NAMESPACE, &name))
}

/// A UUID's lower-case hyphenated text, without the `Display` machinery.
pub(crate) fn uuid_text(uuid: Uuid) -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_stable_and_distinct_per_provider_and_key() {
        let a = task_id(Provider::Truecaller, "k1");
        assert_eq!(a, task_id(Provider::Truecaller, "k1"));
        assert_ne!(a, task_id(Provider::Truecaller, "k2"));
        assert_ne!(a, task_id(Provider::Wavix, "k1"));
        assert_eq!(a.len(), 36);
    }

    #[test]
    fn task_ids_are_the_hyphenated_uuid_v5_of_provider_hash_key() {
        for provider in Provider::ALL {
            // Empty, short and long keys.
            for len in [0, 1, 36, 100, 113, 114, 115, 116, 127, 128, 129, 200, 1024] {
                let key = "k".repeat(len);
                let name = format!("{}#{}", provider.name(), key);
                let want = Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes()).to_string();
                assert_eq!(task_id(provider, &key), want, "{provider} {len}");
            }
        }
    }
}
