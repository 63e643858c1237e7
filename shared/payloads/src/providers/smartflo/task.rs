//! The task rule: a missed call asks for a callback to the customer.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::keys::normalise_key;
use super::triggers::MISSED_TRIGGERS;
use crate::{Attributes, CallbackDecision, CallbackReason, CallbackRequest, PhoneNumber};

/// Whether the call was missed: a missed-call trigger, or a plain hangup
/// whose status says so.
pub(super) fn is_missed(trigger: &str, status: Option<&str>) -> bool {
    MISSED_TRIGGERS.contains(&trigger) || (trigger == "call-hangup" && status.is_some_and(status_says_missed))
}

/// `missed`, `Missed`, `NOANSWER`, `no answer`, `not_answered`,
/// `Missed by agent`: the statuses that mean nobody picked up.
pub fn status_says_missed(status: &str) -> bool {
    let lower = status.to_ascii_lowercase();
    let s = normalise_key(&lower);
    s.contains("miss")
        || matches!(
            s.as_ref(),
            "noanswer" | "no_answer" | "not_answered" | "unanswered" | "no_answered" | "notanswered"
        )
}

/// What a missed call needs to become a callback request.
pub(super) struct MissedCall<'e> {
    pub trigger: &'static str,
    /// The call id, or else the uuid.
    pub id: &'e str,
    pub customer: Option<PhoneNumber>,
    pub business: Option<PhoneNumber>,
    pub direction: Option<&'e str>,
    pub status: Option<&'e str>,
    pub agent_name: Option<&'e str>,
    /// The call's start, end or DTMF time, else the delivery's receipt.
    pub requested_at: DateTime<Utc>,
}

/// The callback a missed call asks for: to the customer's number, from the
/// business number they dealt with; unreachable without a customer number.
pub(super) fn callback_for(call: MissedCall<'_>) -> CallbackDecision {
    let reason = CallbackReason::MissedCall;
    let Some(phone) = call.customer else { return CallbackDecision::Unreachable { reason } };
    let mut context = Attributes::new();
    context.insert("trigger", Value::from(call.trigger));
    context.insert("call_id", Value::from(call.id));
    for (name, value) in [("direction", call.direction), ("call_status", call.status), ("agent_name", call.agent_name)]
    {
        if let Some(v) = value {
            context.insert(name, Value::from(v));
        }
    }
    CallbackDecision::Due(Box::new(CallbackRequest {
        reason,
        phone,
        alternate_phone: None,
        business_phone: call.business,
        window: None,
        requested_at: call.requested_at,
        context,
    }))
}
