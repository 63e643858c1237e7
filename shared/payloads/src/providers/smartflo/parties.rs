//! Who is on the call: the direction, the customer's and the business's
//! numbers, the agent, and the DTMF digits the caller pressed.

use std::borrow::Cow;

use super::fields::{FieldValue, Fields, filled_text};
use super::keys::{self, is_snake_case, normalise_key};
use crate::{PhoneNumber, PhoneRegion};

pub(super) fn phone(raw: &str, region: PhoneRegion) -> Option<PhoneNumber> {
    PhoneNumber::parse(raw, region).ok()
}

/// `inbound`, `outbound`, `click_to_call` (also sent as `clicktocall`),
/// lower case, in the key spelling; borrowed when already so.
pub(super) fn normalise_direction(raw: &str) -> Cow<'_, str> {
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

pub(super) fn is_outbound(direction: &str) -> bool {
    direction.starts_with("out") || direction.contains("click") || direction == "dialer_outbound"
}

/// The customer's and the business's numbers. Explicit customer fields come
/// first; otherwise the direction decides: on inbound calls the caller ID is
/// the customer and the called number the DID, on outbound and click-to-call
/// calls the other way round.
pub(super) fn parties(
    fields: &Fields<'_>,
    outbound: bool,
    caller_id: Option<&PhoneNumber>,
    call_to: Option<&PhoneNumber>,
    region: PhoneRegion,
) -> (Option<PhoneNumber>, Option<PhoneNumber>) {
    let (customer_side, business_side) = if outbound { (call_to, caller_id) } else { (caller_id, call_to) };
    let explicit = fields.values(keys::CUSTOMER).filter_map(filled_text).find_map(|n| phone(n, region));
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
pub(super) fn agent_of(fields: &Fields<'_>, region: PhoneRegion) -> (Option<String>, Option<PhoneNumber>) {
    let mut agents: Vec<Cow<'_, Fields<'_>>> = fields.object(keys::ANSWERED_AGENT_OBJECT).into_iter().collect();
    agents.extend(fields.objects(keys::MISSED_AGENTS));
    let name = fields
        .text(keys::AGENT_NAME)
        .or_else(|| fields.text(keys::ANSWERED_AGENT_TEXT))
        .or_else(|| agents.iter().find_map(|a| a.text(keys::NESTED_AGENT_NAME)))
        .map(str::to_owned);
    let number = fields
        .values(keys::AGENT_NUMBER)
        .filter_map(filled_text)
        .chain(agents.iter().filter_map(|a| a.text(keys::NESTED_AGENT_NUMBER)))
        .find_map(|n| phone(n, region));
    (name, number)
}

/// The DTMF digit(s): `digit_pressed` and friends; an array
/// (`digits_dialed`, also sent as JSON text) is joined.
pub(super) fn digit_of(fields: &Fields<'_>) -> Option<String> {
    let joined = |items: &[FieldValue<'_>]| {
        let joined: String = items.iter().filter_map(filled_text).collect();
        (!joined.is_empty()).then_some(joined)
    };
    fields.values(keys::DIGIT).find_map(|v| match v {
        FieldValue::Array(items) => joined(items),
        FieldValue::Text(t) if t.trim_start().starts_with('[') => match super::body::parse_json_value(t) {
            Ok(FieldValue::Array(items)) => joined(&items),
            _ => filled_text(v).map(str::to_owned),
        },
        other => filled_text(other).map(str::to_owned),
    })
}
