//! The sixteen triggers of the route `/webhooks/smartflo/{trigger}`: which
//! mean a missed call, which are sent when a call has ended.

use crate::{DecodeError, Delivery};

/// The trigger slugs.
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
pub(super) const MISSED_TRIGGERS: [&str; 3] =
    ["call-hangup-missed", "call-missed-by-agent-hangup", "call-missed-by-customer-click-to-call"];

/// Triggers sent when a call has ended: their time is the end of the call.
pub(super) const END_TRIGGERS: [&str; 7] = [
    "call-hangup-missed",
    "call-hangup-answered",
    "call-hangup",
    "call-answered-by-agent-hangup",
    "call-missed-by-agent-hangup",
    "call-missed-by-customer-click-to-call",
    "disposition-status-updated-dialer",
];

/// The DTMF trigger: its events are keyed by digit and time as well.
pub(super) const DTMF_TRIGGER: &str = "dtmf-option";

/// The trigger slug: the `{trigger}` path parameter, or else the path's last
/// segment, in any case. Unknown slugs are unknown routes (404).
pub(super) fn trigger_of(delivery: &Delivery<'_>) -> Result<&'static str, DecodeError> {
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

/// Whether the event says if the call was missed (the `missed` attribute).
pub(super) fn tells_missed(trigger: &str) -> bool {
    trigger.contains("hangup") || trigger.contains("missed")
}
