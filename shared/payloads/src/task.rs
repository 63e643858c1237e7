//! The `callback-request/v1` task the dialer consumes (queue contract).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{CallbackReason, CallbackWindow, NormalisedEvent, PhoneNumber, Provider};

pub const SCHEMA: &str = "callback-request/v1";

/// Fixed namespace for task IDs, so the same event always yields the same ID.
const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a57_3b0e_4c59_9d4e_8a7b_c0d1_e2f3);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackTask {
    pub schema: &'static str,
    pub task_id: String,
    pub provider: Provider,
    pub event_key: String,
    pub reason: CallbackReason,
    pub phone: PhoneNumber,
    pub alternate_phone: Option<PhoneNumber>,
    pub business_phone: Option<PhoneNumber>,
    pub window: Option<CallbackWindow>,
    #[serde(serialize_with = "secs")]
    pub requested_at: DateTime<Utc>,
    pub context: Map<String, Value>,
}

fn secs<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::event::rfc3339(*at))
}

impl CallbackTask {
    /// The task for an event whose callback is due; `None` otherwise.
    pub fn for_event(event: &NormalisedEvent) -> Option<Self> {
        let request = event.callback.request()?;
        Some(Self {
            schema: SCHEMA,
            task_id: task_id(event.provider, event.event_key.as_str()),
            provider: event.provider,
            event_key: event.event_key.as_str().to_owned(),
            reason: request.reason,
            phone: request.phone.clone(),
            alternate_phone: request.alternate_phone.clone(),
            business_phone: request.business_phone.clone(),
            window: request.window,
            requested_at: request.requested_at,
            context: request.context.to_map(),
        })
    }

    /// FIFO group: callbacks to one customer are serialised.
    pub fn message_group_id(&self) -> &str {
        self.phone.as_str()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a task always serialises")
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
        let name = format!("{}#{}", Provider::Wavix.name(), "k1");
        assert_eq!(task_id(Provider::Wavix, "k1"), Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes()).to_string());
    }
}
