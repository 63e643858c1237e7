//! Reading a stored `callback-request/v1` task back (the `task` attribute of
//! an event record), for consumers such as the campaign pusher.
//!
//! Strict: the JSON must be what [`CallbackTask::to_json`] wrote. Phone
//! numbers must already be in E.164 (they are parsed again and must come
//! back unchanged), so a hand-edited or foreign record is refused rather
//! than reinterpreted.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::task::SCHEMA;
use crate::{CallbackReason, CallbackTask, CallbackWindow, PhoneNumber, PhoneRegion, Provider, TaskContext};

/// Why a stored task could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredTaskError {
    #[error("task is not valid JSON of the expected shape: {0}")]
    Shape(String),
    #[error("task schema {0:?} is not {SCHEMA}")]
    Schema(String),
    #[error("unknown provider {0:?}")]
    Provider(String),
    #[error("unknown reason {0:?}")]
    Reason(String),
    #[error("{field} is not a phone number in E.164")]
    Phone { field: &'static str },
}

#[derive(Deserialize)]
struct Stored {
    schema: String,
    task_id: String,
    provider: String,
    event_key: String,
    reason: String,
    phone: String,
    #[serde(default)]
    alternate_phone: Option<String>,
    #[serde(default)]
    business_phone: Option<String>,
    #[serde(default)]
    window: Option<StoredWindow>,
    requested_at: DateTime<Utc>,
    #[serde(default)]
    context: Map<String, Value>,
}

#[derive(Deserialize)]
struct StoredWindow {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn e164(field: &'static str, value: &str) -> Result<Cow<'static, PhoneNumber>, StoredTaskError> {
    match PhoneNumber::parse(value, PhoneRegion::INDIA) {
        Ok(phone) if phone.as_str() == value => Ok(Cow::Owned(phone)),
        _ => Err(StoredTaskError::Phone { field }),
    }
}

impl CallbackTask<'static> {
    /// The task from its stored JSON.
    pub fn from_json(json: &str) -> Result<Self, StoredTaskError> {
        let stored: Stored = serde_json::from_str(json).map_err(|e| StoredTaskError::Shape(e.to_string()))?;
        if stored.schema != SCHEMA {
            return Err(StoredTaskError::Schema(stored.schema));
        }
        let provider = Provider::ALL
            .into_iter()
            .find(|p| p.name() == stored.provider)
            .ok_or(StoredTaskError::Provider(stored.provider))?;
        let reason = [CallbackReason::CallbackRequested, CallbackReason::HumanRequested, CallbackReason::MissedCall]
            .into_iter()
            .find(|r| r.as_str() == stored.reason)
            .ok_or(StoredTaskError::Reason(stored.reason))?;
        Ok(Self {
            schema: SCHEMA,
            task_id: stored.task_id,
            provider,
            event_key: Cow::Owned(stored.event_key),
            reason,
            phone: e164("phone", &stored.phone)?,
            alternate_phone: stored.alternate_phone.as_deref().map(|p| e164("alternate_phone", p)).transpose()?,
            business_phone: stored.business_phone.as_deref().map(|p| e164("business_phone", p)).transpose()?,
            window: stored.window.map(|w| CallbackWindow { from: w.from, to: w.to }),
            requested_at: stored.requested_at,
            context: TaskContext::Map(stored.context),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = r#"{"schema":"callback-request/v1","task_id":"6f1c2a57-0000-5000-8000-000000000001","provider":"truecaller","event_key":"860a7f4c-6545-40f1-85be-3655edde650f","reason":"callback_requested","phone":"+911234567890","alternate_phone":null,"business_phone":"+919876543210","window":{"from":"2025-08-02T06:30:00Z","to":"2025-08-02T07:00:00Z"},"requested_at":"2025-07-31T07:09:20Z","context":{"feature_set":"Fresh Flower Delivery","cmb_config_name":"CMBName"}}"#;

    #[test]
    fn a_stored_task_reads_back_and_serialises_to_the_same_json() {
        let task = CallbackTask::from_json(STORED).expect("valid stored task");
        assert_eq!(task.provider, Provider::Truecaller);
        assert_eq!(task.reason, CallbackReason::CallbackRequested);
        assert_eq!(task.phone.as_str(), "+911234567890");
        assert_eq!(task.business_phone.as_deref().map(PhoneNumber::as_str), Some("+919876543210"));
        let again: Value = serde_json::from_str(&task.to_json()).unwrap();
        assert_eq!(again, serde_json::from_str::<Value>(STORED).unwrap());
    }

    #[test]
    fn foreign_or_edited_tasks_are_refused_naming_what_is_wrong() {
        let edit = |from: &str, to: &str| CallbackTask::from_json(&STORED.replace(from, to)).unwrap_err();
        assert_eq!(
            edit("callback-request/v1", "callback-request/v2"),
            StoredTaskError::Schema("callback-request/v2".into())
        );
        assert_eq!(edit("\"truecaller\"", "\"acme\""), StoredTaskError::Provider("acme".into()));
        assert_eq!(edit("callback_requested", "later"), StoredTaskError::Reason("later".into()));
        assert_eq!(edit("+911234567890", "911234567890"), StoredTaskError::Phone { field: "phone" });
        assert!(matches!(edit("\"task_id\"", "\"id\""), StoredTaskError::Shape(_)));
    }
}
