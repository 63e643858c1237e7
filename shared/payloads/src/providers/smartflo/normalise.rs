//! One delivery's fields as a [`NormalisedEvent`]: identity, times,
//! parties, attributes and the callback decision.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fields::Fields;
use super::keys::{self, SECONDS_ATTRIBUTES, TEXT_ATTRIBUTES};
use super::parties::{agent_of, digit_of, is_outbound, normalise_direction, parties, phone};
use super::task::{MissedCall, callback_for, is_missed};
use super::time::{Reject, parse_time, stamp_or_split, strict_time};
use super::triggers::{DTMF_TRIGGER, END_TRIGGERS, tells_missed};
use crate::event::rfc3339;
use crate::{Attributes, CallbackDecision, EventKey, NormalisedEvent, ParseContext, PhoneNumber, Provider, Rejection};

pub(super) fn normalise(
    trigger: &'static str,
    fields: &Fields<'_>,
    ctx: &ParseContext,
) -> Result<NormalisedEvent, Rejection> {
    let reject: Reject = &move |reason, detail| Rejection::new(reason, detail).with_event_type(Some(trigger));
    let tz = ctx.local_offset;

    let call_id = fields.text(keys::CALL_ID);
    let uuid = fields.text(keys::UUID);
    let id = call_id.or(uuid).ok_or_else(|| {
        reject("missing_call_id", "neither call_id nor uuid is present (or Smartflo left them unfilled)".into())
    })?;

    // Times that decide meaning are strict; the answer time is informative.
    let start = stamp_or_split(
        fields,
        (keys::START, "start_stamp"),
        (keys::START_DATE, "start_date"),
        (keys::START_TIME, "start_time"),
        tz,
        reject,
    )?;
    let end = stamp_or_split(
        fields,
        (keys::END, "end_stamp"),
        (keys::END_DATE, "end_date"),
        (keys::END_TIME, "end_time"),
        tz,
        reject,
    )?;
    let date = fields.text(keys::DATE).map(|s| strict_time(s, tz, "date", reject)).transpose()?;
    let answer = fields.text(keys::ANSWER).and_then(|s| parse_time(s, tz));

    let is_dtmf = trigger == DTMF_TRIGGER;
    let digit = digit_of(fields);
    let event_key = if is_dtmf {
        // A key press is one event per digit and time.
        let digit = digit.as_deref().ok_or_else(|| reject("missing_dtmf_digit", "digit_pressed is missing".into()))?;
        let pressed_at = date.or(start).map(rfc3339);
        EventKey::join([trigger, id, digit].into_iter().chain(pressed_at.as_deref()))
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
    let direction = fields.text(keys::DIRECTION).map(normalise_direction);
    let outbound = match direction.as_deref() {
        Some(d) => is_outbound(d),
        None => trigger.ends_with("click-to-call"),
    };
    let caller_id = fields.text(keys::CALLER_ID).and_then(|n| phone(n, region));
    let call_to = fields.text(keys::CALL_TO).and_then(|n| phone(n, region));
    let (customer, business) = parties(fields, outbound, caller_id.as_ref(), call_to.as_ref(), region);
    let status = fields.text(keys::STATUS);
    let (agent_name, agent_number) = agent_of(fields, region);

    let mut attributes = Attributes::new();
    put(&mut attributes, "call_id", call_id);
    put(&mut attributes, "uuid", uuid);
    put(&mut attributes, "direction", direction.as_deref());
    put(&mut attributes, "call_status", status);
    for (name, number) in [
        ("customer_number", &customer),
        ("business_number", &business),
        ("caller_id_number", &caller_id),
        ("call_to_number", &call_to),
        ("agent_number", &agent_number),
    ] {
        put(&mut attributes, name, number.as_ref().map(PhoneNumber::as_str));
    }
    put(&mut attributes, "agent_name", agent_name.as_deref());
    for (name, at) in [("start_time", start), ("answer_time", answer), ("end_time", end), ("dtmf_time", date)] {
        put(&mut attributes, name, at.map(rfc3339).as_deref());
    }
    put(&mut attributes, "dtmf_digit", digit.as_deref());
    put_other_attributes(&mut attributes, fields);

    let missed = is_missed(trigger, status);
    if tells_missed(trigger) {
        attributes.insert("missed", Value::from(missed));
    }
    let callback = if missed {
        callback_for(MissedCall {
            trigger,
            id,
            customer,
            business,
            direction: direction.as_deref(),
            status,
            agent_name: agent_name.as_deref(),
            requested_at: requested_at(start, end, date, ctx.received_at),
        })
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

/// When a callback was asked for: the call's start, else its end or DTMF
/// time, else the delivery's receipt.
fn requested_at(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    date: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
) -> DateTime<Utc> {
    start.or(end).or(date).unwrap_or(received_at)
}

/// The attributes read as they are: text, whole seconds, flags, the
/// billing circle.
fn put_other_attributes(attributes: &mut Attributes, fields: &Fields<'_>) {
    for (name, spellings) in TEXT_ATTRIBUTES {
        put(attributes, name, fields.text(spellings));
    }
    for (name, spellings) in SECONDS_ATTRIBUTES {
        if let Some(n) = fields.text(spellings).and_then(|s| s.parse::<f64>().ok()).filter(|n| n.is_finite()) {
            attributes.insert(name, Value::from(n.round() as i64));
        }
    }
    if let Some(connected) = fields.text(keys::CALL_CONNECTED).and_then(flag) {
        attributes.insert("call_connected", Value::from(connected));
    }
    if let Some(circle) = fields.object(keys::BILLING_CIRCLE) {
        put(attributes, "telecom_operator", circle.text(keys::CIRCLE_OPERATOR));
        put(attributes, "telecom_circle", circle.text(keys::CIRCLE_NAME));
    }
}

fn put(attributes: &mut Attributes, name: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        attributes.insert(name, Value::from(v));
    }
}

/// `true`/`false`, `1`/`0`, `yes`/`no`, `y`/`n`, in any case.
pub(super) fn flag(s: &str) -> Option<bool> {
    let s = s.trim();
    let any = |words: [&str; 4]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
    if any(["true", "1", "yes", "y"]) {
        Some(true)
    } else if any(["false", "0", "no", "n"]) {
        Some(false)
    } else {
        None
    }
}
