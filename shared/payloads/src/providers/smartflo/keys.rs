//! The key spellings the parser reads, and the one step that brings every
//! key a sender writes to one spelling.
//!
//! **A new spelling of a field is one more string in that field's list**
//! (normalised: snake case, no `$`). The lists are in order of preference:
//! the first spelling with a filled value wins. A new field is a new list,
//! also named in [`READ`].

use std::borrow::Cow;

/// A field's spellings after [`normalise_key`], preferred first.
pub(super) type Spellings = &'static [&'static str];

// --- call identity --------------------------------------------------------
pub(super) const CALL_ID: Spellings = &["call_id", "callid", "smartflo_call_id", "tata_call_id"];
pub(super) const UUID: Spellings = &["uuid", "call_uuid"];

// --- parties ----------------------------------------------------------------
pub(super) const CUSTOMER: Spellings = &[
    "customer_no_with_prefix",
    "customer_number_with_prefix",
    "customer_num_with_prefix",
    "customer_number",
    "customer_no",
    "customer_phone",
    "client_number",
];
pub(super) const CALLER_ID: Spellings =
    &["caller_id_number", "caller_id_num", "caller_number", "cid_num", "from_number"];
pub(super) const CALL_TO: Spellings =
    &["call_to_number", "called_number", "call_num", "to_number", "destination_number", "did_number"];
pub(super) const DIRECTION: Spellings = &["direction", "call_direction", "call_type"];
pub(super) const STATUS: Spellings = &["call_status", "status", "callstatus"];

// --- times --------------------------------------------------------------------
pub(super) const START: Spellings = &["start_stamp", "start_timestamp", "call_start_time"];
pub(super) const ANSWER: Spellings = &["answer_stamp", "answer_timestamp", "call_answer_time"];
pub(super) const END: Spellings = &["end_stamp", "end_timestamp", "call_end_time"];
pub(super) const DATE: Spellings = &["date", "dtmf_time", "pressed_at"];
pub(super) const START_DATE: Spellings = &["start_date"];
pub(super) const START_TIME: Spellings = &["start_time"];
pub(super) const END_DATE: Spellings = &["end_date"];
pub(super) const END_TIME: Spellings = &["end_time"];

// --- DTMF ---------------------------------------------------------------------
pub(super) const DIGIT: Spellings =
    &["digit_pressed", "dtmf", "dtmf_digit", "dtmf_option", "digit", "digits", "dtmf_input", "digits_dialed"];

// --- agents -------------------------------------------------------------------
pub(super) const AGENT_NUMBER: Spellings = &[
    "answered_agent_number",
    "answer_agent_number",
    "agent_number",
    "first_missed_agent_number",
    "missed_agent_number",
];
pub(super) const AGENT_NAME: Spellings =
    &["answered_agent_name", "answer_agent_name", "agent_name", "agent", "missed_agent_name"];
/// `{"answered_agent": {"name": ..., "number": ...}}`.
pub(super) const ANSWERED_AGENT_OBJECT: Spellings = &["answered_agent", "answer_agent"];
/// `{"answered_agent": "Ravi"}`.
pub(super) const ANSWERED_AGENT_TEXT: Spellings = &["answered_agent"];
/// `{"missed_agent": [{"name": ..., "number": ...}, ...]}`.
pub(super) const MISSED_AGENTS: Spellings = &["missed_agent", "missed_agents"];
/// Inside an agent object.
pub(super) const NESTED_AGENT_NAME: Spellings = &["name", "agent_name"];
pub(super) const NESTED_AGENT_NUMBER: Spellings = &["number", "agent_number", "follow_me_number"];

// --- other attributes -----------------------------------------------------------
pub(super) const CALL_CONNECTED: Spellings = &["call_connected"];
/// `{"billing_circle": {"operator": ..., "circle": ...}}`.
pub(super) const BILLING_CIRCLE: Spellings = &["billing_circle"];
pub(super) const CIRCLE_OPERATOR: Spellings = &["operator", "telecom_operator"];
pub(super) const CIRCLE_NAME: Spellings = &["circle", "telecom_circle"];

/// Objects some senders and relays wrap the variables in (`{"data": {...}}`,
/// Smartflo's own relay `{"pyld": {...}}`); their fields are read after the
/// top-level ones.
pub(super) const WRAPPERS: Spellings = &["data", "payload", "pyld", "body", "call", "webhook"];

/// Plain-text attributes worth querying: attribute name, spellings.
pub(super) const TEXT_ATTRIBUTES: &[(&str, Spellings)] = &[
    ("hangup_cause", &["hangup_cause", "hangup_cause_description", "reason_key"]),
    ("recording_url", &["recording_url", "recording"]),
    ("disposition", &["disposition", "disposition_status"]),
    ("sub_disposition", &["sub_disposition", "sub_dispositon", "subdisposition"]),
    ("campaign_name", &["campaign_name", "broadcast_name"]),
    ("campaign_id", &["campaign_id", "broadcast_id"]),
    ("department", &["dept_name", "department_name", "department"]),
    ("department_id", &["dept_id", "department_id"]),
    ("ivr_name", &["ivr_name"]),
    ("ivr_id", &["ivr_id"]),
    ("auto_attendant_name", &["auto_attendant_name"]),
    ("auto_attendant_id", &["auto_attendant_id"]),
    ("ref_id", &["ref_id", "reference_id"]),
    ("custom_identifier", &["custom_identifier"]),
    ("telecom_operator", &["telecom_operator"]),
    ("telecom_circle", &["telecom_circle"]),
];

/// Durations, stored as whole seconds: attribute name, spellings.
pub(super) const SECONDS_ATTRIBUTES: &[(&str, Spellings)] = &[
    ("duration_seconds", &["duration", "call_duration"]),
    ("billsec", &["billsec", "bill_sec"]),
    ("agent_ring_time", &["agent_ring_time"]),
];

/// Every list above except the attribute tables (which [`is_read`] reads
/// as well). A key under none of them is parsed and checked, never read.
const READ: &[Spellings] = &[
    CALL_ID,
    UUID,
    CUSTOMER,
    CALLER_ID,
    CALL_TO,
    DIRECTION,
    STATUS,
    START,
    ANSWER,
    END,
    DATE,
    START_DATE,
    START_TIME,
    END_DATE,
    END_TIME,
    DIGIT,
    AGENT_NUMBER,
    AGENT_NAME,
    ANSWERED_AGENT_OBJECT,
    ANSWERED_AGENT_TEXT,
    MISSED_AGENTS,
    NESTED_AGENT_NAME,
    NESTED_AGENT_NUMBER,
    CALL_CONNECTED,
    BILLING_CIRCLE,
    CIRCLE_OPERATOR,
    CIRCLE_NAME,
    WRAPPERS,
];

/// Whether some lookup reads the (normalised) key. A POST with an empty
/// body is read from its query only when the query has such a key.
pub(super) fn is_read(key: &str) -> bool {
    let tables = TEXT_ATTRIBUTES.iter().chain(SECONDS_ATTRIBUTES).map(|(_, spellings)| *spellings);
    READ.iter().copied().chain(tables).any(|spellings| spellings.contains(&key))
}

/// One spelling for every key: trimmed, without a leading `$` (or `${…}`),
/// camelCase split, lower case, any other character a single `_`.
/// `"$Caller_ID_Number"`, `"callerIdNumber"`, `"customer_no_with_prefix "`
/// and `"caller-id-number"` all become `caller_id_number`-style snake case.
/// A key already in that form (most of them) is borrowed.
pub(super) fn normalise_key(key: &str) -> Cow<'_, str> {
    let key = key.trim();
    let key = key.strip_prefix('$').unwrap_or(key);
    let key = key.trim_start_matches('{').trim_end_matches('}').trim();
    if is_snake_case(key) {
        return Cow::Borrowed(key);
    }
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            // A word starts at `aB`, `1B` and the `B` of `ABc`.
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next_is_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let starts_word = previous.is_some_and(|p| {
                p.is_ascii_lowercase() || p.is_ascii_digit() || (p.is_ascii_uppercase() && next_is_lower)
            });
            if starts_word {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    Cow::Owned(out.trim_matches('_').to_owned())
}

/// Lower-case ASCII letters, digits and single inner underscores: a key
/// [`normalise_key`] leaves as it is. Also tells whether a direction is
/// already in its normal form.
pub(super) fn is_snake_case(key: &str) -> bool {
    key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !key.starts_with('_')
        && !key.ends_with('_')
        && !key.contains("__")
}
