//! Truecaller for Business webhooks: `cmb` (Call Me Back) and
//! `user_feedback` (seed 000).
//!
//! Identity is strict (the `event_id` UUID, epoch-second timestamps, the
//! customer's number); everything else is lenient (numbers as strings,
//! `null` vs `""`, the `"NA"` and `"Phone number not available"` sentinels).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{is_syntax_error, json_text};
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::event::SetField;
use crate::lenient::{self, epoch_seconds, flag, meaningful, text};
use crate::{
    Attributes, CallbackDecision, CallbackReason, CallbackRequest, CallbackWindow, DecodeError, EventKey,
    NormalisedEvent, PhoneNumber, PhoneRegion, Provider,
};

#[derive(Debug, Default, Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "text")]
    event_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    client_account_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    event_type: Option<String>,
    #[serde(default, deserialize_with = "text")]
    created_at: Option<String>,
    #[serde(default)]
    cmb_payload: Option<CmbPayload>,
    #[serde(default)]
    survey_payload: Option<SurveyPayload>,
}

#[derive(Debug, Default, Deserialize)]
struct CmbPayload {
    #[serde(default, deserialize_with = "text")]
    business_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    feature_set: Option<String>,
    #[serde(default, deserialize_with = "text")]
    client_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    requested_at: Option<String>,
    #[serde(default, deserialize_with = "text")]
    requested_date: Option<String>,
    #[serde(default, deserialize_with = "text")]
    requested_slot: Option<String>,
    #[serde(default, deserialize_with = "text")]
    preferred_from_time: Option<String>,
    #[serde(default, deserialize_with = "text")]
    preferred_to_time: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    is_interested: Option<bool>,
    #[serde(default, deserialize_with = "text")]
    alternate_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    cmb_config_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct SurveyPayload {
    #[serde(default, deserialize_with = "text")]
    name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    business_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    feature_set: Option<String>,
    #[serde(default, deserialize_with = "text")]
    client_number: Option<String>,
    #[serde(default, deserialize_with = "text")]
    requested_at: Option<String>,
    #[serde(default)]
    user_responses: Vec<UserResponse>,
}

#[derive(Debug, Default, Deserialize)]
struct UserResponse {
    #[serde(default, deserialize_with = "text")]
    question: Option<String>,
    #[serde(default, deserialize_with = "text")]
    response: Option<String>,
}

/// The Truecaller receiver's parser.
#[derive(Debug, Default, Clone, Copy)]
pub struct Truecaller;

impl ProviderParser for Truecaller {
    fn provider(&self) -> Provider {
        Provider::Truecaller
    }

    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
        delivery.require_post()?;
        delivery.require_json()?;
        let body = json_text(delivery.body)?;
        if !body.trim_start().starts_with('{') {
            // serde's derive reads a JSON array as the struct's fields in
            // order (`[1]` would be an event with `event_id` "1"): anything
            // but an object is the wrong top-level shape, never an event.
            return Err(match serde_json::from_str::<serde::de::IgnoredAny>(body) {
                Ok(_) => DecodeError::WrongShape("expected a JSON object".into()),
                Err(err) => DecodeError::NotJson(position(&err)),
            });
        }
        let outcome = match serde_json::from_str::<Envelope>(body) {
            Ok(envelope) => normalise(envelope, ctx),
            Err(err) if is_syntax_error(&err) => return Err(DecodeError::NotJson(position(&err))),
            Err(err) if !body.trim_start().starts_with('{') => {
                return Err(DecodeError::WrongShape(format!("expected a JSON object ({})", position(&err))));
            }
            // Valid JSON object, but a section has the wrong shape.
            Err(err) => Err(Rejection::new("invalid_payload", format!("wrong type ({})", position(&err)))),
        };
        Ok(vec![ParsedEvent { raw: body.to_owned(), outcome }])
    }
}

/// Where serde failed, without echoing the offending value (it could be a
/// phone number).
fn position(err: &serde_json::Error) -> String {
    format!("line {} column {}", err.line(), err.column())
}

fn normalise(envelope: Envelope, ctx: &ParseContext) -> Result<NormalisedEvent, Rejection> {
    let event_type = envelope.event_type.clone().unwrap_or_else(|| {
        if envelope.cmb_payload.is_some() {
            "cmb".into()
        } else if envelope.survey_payload.is_some() {
            "user_feedback".into()
        } else {
            "unknown".into()
        }
    });
    let reject = |reason: &'static str, detail: &str| Rejection::new(reason, detail).with_event_type(Some(&event_type));

    let event_id = envelope.event_id.as_deref().ok_or_else(|| reject("missing_event_id", "event_id is missing"))?;
    let event_uuid =
        uuid::Uuid::try_parse(event_id).map_err(|_| reject("invalid_event_id", "event_id is not a UUID"))?;
    // The hyphenated lower-case form, so `ABC…` and `abc…` are one event.
    let event_key =
        EventKey::parse(crate::task::uuid_text(event_uuid)).map_err(|e| reject("invalid_event_id", &e.to_string()))?;
    let occurred_at =
        optional_time(envelope.created_at.as_deref(), "created_at").map_err(|d| reject("invalid_timestamp", &d))?;

    let mut attributes = Attributes::new();
    if let Some(account) = &envelope.client_account_id {
        attributes.insert("client_account_id", Value::from(account.as_str()));
    }

    let callback = match event_type.as_str() {
        "cmb" => {
            let cmb = envelope.cmb_payload.ok_or_else(|| reject("missing_payload", "cmb_payload is missing"))?;
            cmb_callback(cmb, occurred_at, ctx, &mut attributes).map_err(|(reason, d)| reject(reason, &d))?
        }
        "user_feedback" => {
            let survey =
                envelope.survey_payload.ok_or_else(|| reject("missing_payload", "survey_payload is missing"))?;
            survey_attributes(survey, ctx.default_region, &mut attributes)
                .map_err(|d| reject("invalid_timestamp", &d))?;
            CallbackDecision::NotDue
        }
        // Authentic but unknown to us: store and acknowledge (DESIGN.md).
        _ => CallbackDecision::NotDue,
    };

    Ok(NormalisedEvent { provider: Provider::Truecaller, event_key, event_type, occurred_at, attributes, callback })
}

fn optional_time(value: Option<&str>, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match meaningful(value.map(str::to_owned)) {
        None => Ok(None),
        Some(s) => epoch_seconds(&s).map(Some).map_err(|_| format!("{field} is not epoch seconds")),
    }
}

fn put_text(attributes: &mut impl SetField, name: &'static str, value: Option<&String>) {
    if let Some(v) = value.filter(|v| !lenient::is_sentinel(v)) {
        attributes.set_field(name, Value::from(v.as_str()));
    }
}

fn put_phone(attributes: &mut Attributes, name: &'static str, phone: Option<&PhoneNumber>) {
    if let Some(p) = phone {
        attributes.insert(name, Value::from(p.as_str()));
    }
}

fn phone(raw: Option<&str>, region: PhoneRegion) -> Option<PhoneNumber> {
    raw.and_then(|r| PhoneNumber::parse(r, region).ok())
}

fn cmb_callback(
    cmb: CmbPayload,
    created_at: Option<DateTime<Utc>>,
    ctx: &ParseContext,
    attributes: &mut Attributes,
) -> Result<CallbackDecision, (&'static str, String)> {
    let region = ctx.default_region;
    let client = phone(cmb.client_number.as_deref(), region);
    let alternate = phone(cmb.alternate_number.as_deref(), region);
    let business = phone(cmb.business_number.as_deref(), region);

    let requested_at =
        optional_time(cmb.requested_at.as_deref(), "requested_at").map_err(|d| ("invalid_timestamp", d))?;
    let from = optional_time(cmb.preferred_from_time.as_deref(), "preferred_from_time")
        .map_err(|d| ("invalid_timestamp", d))?;
    let to =
        optional_time(cmb.preferred_to_time.as_deref(), "preferred_to_time").map_err(|d| ("invalid_timestamp", d))?;
    let window = match (from, to) {
        (Some(from), Some(to)) if from <= to => Some(CallbackWindow { from, to }),
        (Some(_), Some(_)) => {
            return Err(("invalid_window", "preferred_from_time is after preferred_to_time".into()));
        }
        // Half a window is no window: the dialer treats null as "any time".
        _ => None,
    };

    put_phone(attributes, "client_number", client.as_ref());
    put_phone(attributes, "alternate_number", alternate.as_ref());
    put_phone(attributes, "business_number", business.as_ref());
    put_text(attributes, "feature_set", cmb.feature_set.as_ref());
    put_text(attributes, "cmb_config_name", cmb.cmb_config_name.as_ref());
    put_text(attributes, "requested_date", cmb.requested_date.as_ref());
    put_text(attributes, "requested_slot", cmb.requested_slot.as_ref());
    if let Some(at) = requested_at {
        attributes.insert("requested_at", Value::from(crate::event::rfc3339(at)));
    }
    if let Some(w) = &window {
        attributes.insert("preferred_from_time", Value::from(crate::event::rfc3339(w.from)));
        attributes.insert("preferred_to_time", Value::from(crate::event::rfc3339(w.to)));
    }
    let interested = cmb.is_interested.unwrap_or(false);
    attributes.insert("is_interested", Value::from(interested));

    if !interested {
        return Ok(CallbackDecision::NotDue);
    }
    let reason = CallbackReason::CallbackRequested;
    let (phone, alternate_phone) = match (client, alternate) {
        (Some(client), alternate) => {
            let alternate = alternate.filter(|a| a != &client);
            (client, alternate)
        }
        (None, Some(alternate)) => (alternate, None),
        (None, None) => return Ok(CallbackDecision::Unreachable { reason }),
    };
    let mut context = Attributes::new();
    put_text(&mut context, "feature_set", cmb.feature_set.as_ref());
    put_text(&mut context, "cmb_config_name", cmb.cmb_config_name.as_ref());
    put_text(&mut context, "requested_slot", cmb.requested_slot.as_ref());
    put_text(&mut context, "requested_date", cmb.requested_date.as_ref());
    Ok(CallbackDecision::Due(Box::new(CallbackRequest {
        reason,
        phone,
        alternate_phone,
        business_phone: business,
        window,
        requested_at: requested_at.or(created_at).unwrap_or(ctx.received_at),
        context,
    })))
}

fn survey_attributes(survey: SurveyPayload, region: PhoneRegion, attributes: &mut Attributes) -> Result<(), String> {
    put_text(attributes, "survey_name", survey.name.as_ref());
    put_text(attributes, "feature_set", survey.feature_set.as_ref());
    put_phone(attributes, "client_number", phone(survey.client_number.as_deref(), region).as_ref());
    put_phone(attributes, "business_number", phone(survey.business_number.as_deref(), region).as_ref());
    if let Some(at) = optional_time(survey.requested_at.as_deref(), "requested_at")? {
        attributes.insert("requested_at", Value::from(crate::event::rfc3339(at)));
    }
    let responses: Vec<Value> = survey
        .user_responses
        .into_iter()
        .map(|r| serde_json::json!({"question": r.question, "response": r.response}))
        .collect();
    attributes.insert("user_responses", Value::Array(responses));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
        let delivery = Delivery {
            method: "POST",
            path: "/webhooks/truecaller",
            trigger: None,
            query: &[],
            content_type: Some("application/json"),
            body: body.as_bytes(),
        };
        Truecaller.parse(&delivery, &ParseContext::new(Utc::now()))
    }

    #[test]
    fn a_json_array_is_the_wrong_shape_not_an_event() {
        // Regression (tests/hostile.rs): `[]` and `[1, "a", null]` were read
        // as an envelope's fields in order and stored as rejected events.
        for body in ["[]", "[1, \"a\", null]", "[\"860a7f4c-6545-40f1-85be-3655edde650f\"]", " 42", "null"] {
            assert!(matches!(parse(body), Err(DecodeError::WrongShape(_))), "{body}: {:?}", parse(body));
        }
        assert!(matches!(parse("[1,"), Err(DecodeError::NotJson(_))));
        assert!(matches!(parse(&"[".repeat(10_000)), Err(DecodeError::NotJson(_))));
    }
}
