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
    pub context: Map<String, Value>,
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
    pub attributes: Map<String, Value>,
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
        map.insert("attributes".into(), Value::Object(self.attributes.clone()));
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

/// RFC 3339 in UTC with whole seconds, the form used in every stored record.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
