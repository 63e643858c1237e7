//! The Smartflo parser's unit tests: whole deliveries through
//! [`Smartflo::parse`], and the parts that have a reference to agree with.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use super::Smartflo;
use super::body::{MAX_DEPTH, form_decode, parse_json_object, query_string};
use super::fields::{FieldValue, filled_text, is_unfilled};
use super::keys::{is_read, normalise_key};
use super::normalise::flag;
use super::parties::{digit_of, normalise_direction};
use super::time::parse_time;
use super::triggers::{MISSED_TRIGGERS, TRIGGERS};
use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser, Rejection};
use crate::event::rfc3339;
use crate::{CallbackDecision, CallbackReason, CallbackRequest, DecodeError, EventKey, NormalisedEvent, Provider};

fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 1, 12, 0, 0).unwrap()
}

fn ctx() -> ParseContext {
    ParseContext::new(received_at())
}

fn deliver_with(
    method: &str,
    trigger: Option<&str>,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
    query: &[(&str, &str)],
    ctx: &ParseContext,
) -> Result<Vec<ParsedEvent>, DecodeError> {
    let query: Vec<(String, String)> = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let delivery = Delivery { method, path, trigger, query: &query, content_type, body };
    Smartflo.parse(&delivery, ctx)
}

fn deliver(
    method: &str,
    trigger: &str,
    content_type: Option<&str>,
    body: &str,
    query: &[(&str, &str)],
) -> Result<Vec<ParsedEvent>, DecodeError> {
    let path = format!("/webhooks/smartflo/{trigger}");
    deliver_with(method, Some(trigger), &path, content_type, body.as_bytes(), query, &ctx())
}

fn post_json(trigger: &str, body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
    deliver("POST", trigger, Some("application/json"), body, &[])
}

fn event(result: Result<Vec<ParsedEvent>, DecodeError>) -> NormalisedEvent {
    let mut events = result.expect("decodable");
    assert_eq!(events.len(), 1);
    events.remove(0).outcome.expect("valid event")
}

fn rejection(result: Result<Vec<ParsedEvent>, DecodeError>) -> Rejection {
    result.expect("decodable").remove(0).outcome.expect_err("rejected")
}

fn attr<'a>(e: &'a NormalisedEvent, name: &str) -> Option<&'a str> {
    e.attributes.get(name).and_then(Value::as_str)
}

fn due(e: &NormalisedEvent) -> &CallbackRequest {
    e.callback.request().unwrap_or_else(|| panic!("expected a task, got {:?}", e.callback))
}

/// A hangup body as Smartflo's documented `$variables` fill it.
const HANGUP_MISSED: &str = r#"{
    "uuid": "61111f5e708c5",
    "call_id": "1628512094.7228905",
    "call_to_number": "918069010148",
    "caller_id_number": "09876543210",
    "customer_no_with_prefix": "919876543210",
    "start_stamp": "2021-08-09 17:56:21",
    "answer_stamp": "",
    "end_stamp": "2021-08-09 17:58:44",
    "hangup_cause": "NORMAL_CLEARING",
    "billsec": "0",
    "duration": "143",
    "direction": "inbound",
    "call_status": "missed",
    "missed_agent": [{"name": "Priya Sharma", "number": "+919812345678"}],
    "billing_circle": {"operator": "Airtel", "circle": "Karnataka"}
}"#;

fn minimal(call_status: &str) -> String {
    format!(
        r#"{{"call_id": "1628512094.7228905", "caller_id_number": "9876543210", "call_to_number": "918069010148",
            "start_stamp": "2021-08-09 17:56:21", "end_stamp": "2021-08-09 17:58:44", "direction": "inbound",
            "call_status": "{call_status}"}}"#
    )
}

// --- triggers and routes -------------------------------------------------

#[test]
fn every_trigger_slug_is_accepted_and_becomes_the_event_type_and_key_prefix() {
    for trigger in TRIGGERS {
        let body = r#"{"call_id": "1628512094.7228905", "uuid": "61111f5e708c5", "digit_pressed": "3",
                       "date": "2021-08-10 01:43:47", "caller_id_number": "9876543210"}"#;

        let e = event(post_json(trigger, body));

        assert_eq!(e.event_type, trigger);
        assert_eq!(e.provider, Provider::Smartflo);
        assert!(e.event_key.as_str().starts_with(&format!("{trigger}#1628512094.7228905")), "{trigger}");
    }
}

#[test]
fn the_trigger_comes_from_the_last_path_segment_when_there_is_no_path_parameter() {
    let body = br#"{"call_id": "1628512094.7228905"}"#;

    let events =
        deliver_with("POST", None, "/call-answered-on-ivr/", Some("application/json"), body, &[], &ctx()).unwrap();

    let e = events[0].outcome.as_ref().unwrap();
    assert_eq!(e.event_type, "call-answered-on-ivr");
    assert_eq!(e.event_key.as_str(), "call-answered-on-ivr#1628512094.7228905");
}

#[test]
fn trigger_slugs_are_matched_without_regard_to_case() {
    let e = event(deliver("POST", "Call-Hangup", Some("application/json"), &minimal("answered"), &[]));

    assert_eq!(e.event_type, "call-hangup");
}

#[test]
fn an_unknown_trigger_is_an_unknown_route() {
    let result = deliver("POST", "session-call-answered", Some("application/json"), &minimal("x"), &[]);

    assert_eq!(result, Err(DecodeError::UnknownRoute("session-call-answered".into())));
}

// --- methods, content types and decode errors ------------------------------

#[test]
fn a_get_delivery_is_read_from_the_query_and_stored_as_the_query_string() {
    let query = [("call_id", "1628364541.6274658"), ("caller_id_number", "+91 98765 43210"), ("uuid", "610edefd7b4dd")];

    let events = deliver("GET", "call-received-on-server", None, "", &query).unwrap();

    assert_eq!(events[0].raw, "call_id=1628364541.6274658&caller_id_number=%2B91+98765+43210&uuid=610edefd7b4dd");
    let e = events[0].outcome.as_ref().unwrap();
    assert_eq!(e.event_key.as_str(), "call-received-on-server#1628364541.6274658");
    assert_eq!(attr(e, "customer_number"), Some("+919876543210"));
}

#[test]
fn a_form_body_is_decoded_and_kept_verbatim_as_raw() {
    let body = "uuid=61111f5e708c5&call_id=1628512094.7228905&caller_id_number=%2B919876543210\
                &call_to_number=918069010148&call_status=Missed&start_stamp=2021-08-09+17%3A56%3A21";

    let events = deliver("POST", "call-hangup", Some("application/x-www-form-urlencoded"), body, &[]).unwrap();

    assert_eq!(events[0].raw, body);
    let e = events[0].outcome.as_ref().unwrap();
    assert_eq!(attr(e, "start_time"), Some("2021-08-09T12:26:21Z"));
    assert_eq!(due(e).phone.as_str(), "+919876543210");
}

#[test]
fn a_json_body_without_a_content_type_is_accepted() {
    let e = event(deliver("POST", "call-hangup-answered", None, &minimal("answered"), &[]));

    assert_eq!(e.event_key.as_str(), "call-hangup-answered#1628512094.7228905");
}

#[test]
fn form_fields_given_in_the_query_of_a_post_with_no_body_are_used() {
    let query = [("call_id", "1628540022.7292026"), ("caller_id_number", "9876543210")];

    let events = deliver("POST", "call-hangup-missed", None, "", &query).unwrap();

    assert_eq!(events[0].raw, "call_id=1628540022.7292026&caller_id_number=9876543210");
    let e = events[0].outcome.as_ref().unwrap();
    assert_eq!(due(e).phone.as_str(), "+919876543210");
}

#[test]
fn query_fields_fill_gaps_a_body_leaves_but_never_override_it() {
    let query = [("call_id", "from-query"), ("campaign_name", "Diwali")];

    let e = event(deliver("POST", "call-hangup", Some("application/json"), &minimal("answered"), &query));

    assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
    assert_eq!(attr(&e, "campaign_name"), Some("Diwali"));
}

#[test]
fn content_types_smartflo_never_sends_are_unsupported() {
    for ct in ["multipart/form-data", "application/xml", "text/html"] {
        let result = deliver("POST", "call-hangup", Some(ct), &minimal("missed"), &[]);

        assert_eq!(result, Err(DecodeError::UnsupportedContentType(ct.into())), "{ct}");
    }
}

#[test]
fn methods_other_than_get_and_post_are_not_allowed() {
    for method in ["PUT", "DELETE", "PATCH"] {
        let result = deliver(method, "call-hangup", Some("application/json"), &minimal("missed"), &[]);

        assert_eq!(result, Err(DecodeError::MethodNotAllowed(method.into())));
    }
}

#[test]
fn broken_json_is_not_json_and_json_that_is_not_an_object_has_the_wrong_shape() {
    let broken = post_json("call-hangup", r#"{"call_id": "1628512094.7228905","#);
    assert!(matches!(broken, Err(DecodeError::NotJson(_))), "{broken:?}");

    for body in [r#"[{"call_id": "1"}]"#, r#""call_id""#, "42", "null"] {
        let result = post_json("call-hangup", body);
        assert!(matches!(result, Err(DecodeError::WrongShape(_))), "{body}: {result:?}");
    }
}

#[test]
fn an_empty_post_with_no_query_fields_is_not_decodable() {
    assert!(matches!(post_json("call-hangup", "  "), Err(DecodeError::NotJson(_))));
    let form = deliver("POST", "call-hangup", Some("application/x-www-form-urlencoded"), "", &[]);
    assert_eq!(form, Err(DecodeError::BadForm));
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    // Regression (fuzz/, tests/hostile.rs): 10 000 nested objects used to
    // recurse once per level and abort the process.
    for (open, close) in [("{\"a\":", "}"), ("{\"call_id\":[", "]}"), ("[", "]")] {
        let body = format!("{}1{}", open.repeat(10_000), close.repeat(10_000));
        let result = post_json("call-hangup", &body);
        assert!(matches!(result, Err(DecodeError::WrongShape(_) | DecodeError::NotJson(_))), "{open}: {result:?}");
    }
    let nested = format!("{{\"call_id\":\"1.2\",\"x\":{}1{}}}", "{\"a\":".repeat(100), "}".repeat(100));
    assert!(post_json("call-hangup", &nested).is_ok_and(|events| events[0].outcome.is_ok()));
}

#[test]
fn bad_form_encoding_is_refused() {
    let form = Some("application/x-www-form-urlencoded");
    for body in ["call_id=16285%zz", "call_id=1628%", "call_id=%ff%fe"] {
        assert_eq!(deliver("POST", "call-hangup", form, body, &[]), Err(DecodeError::BadForm), "{body}");
    }
    let not_utf8 = deliver_with("POST", Some("call-hangup"), "/", form, b"call_id=\xff", &[], &ctx());
    assert_eq!(not_utf8, Err(DecodeError::BadForm));
}

#[test]
fn a_json_body_that_is_not_utf8_is_refused() {
    let result =
        deliver_with("POST", Some("call-hangup"), "/", Some("application/json"), b"{\"a\":\"\xff\"}", &[], &ctx());

    assert_eq!(result, Err(DecodeError::NotUtf8));
}

// --- identity --------------------------------------------------------------

#[test]
fn a_delivery_without_call_id_or_uuid_is_rejected_as_missing_call_id() {
    let r = rejection(post_json("call-hangup", r#"{"caller_id_number": "9876543210", "call_id": "$call_id"}"#));

    assert_eq!(r.reason, "missing_call_id");
    assert_eq!(r.event_type.as_deref(), Some("call-hangup"));
}

#[test]
fn the_uuid_is_the_key_when_the_call_id_was_left_unfilled() {
    let e = event(post_json("call-answered-by-agent", r#"{"call_id": "$call_id", "uuid": "61111f5e708c5"}"#));

    assert_eq!(e.event_key.as_str(), "call-answered-by-agent#61111f5e708c5");
    assert_eq!(attr(&e, "call_id"), None);
}

#[test]
fn a_call_id_sent_as_a_json_number_keeps_every_digit() {
    let e = event(post_json("call-hangup", r#"{"call_id": 1628512094.7228905}"#));

    assert_eq!(e.event_key.as_str(), "call-hangup#1628512094.7228905");
}

#[test]
fn a_redelivered_event_has_the_same_key_and_the_same_task() {
    let first = event(post_json("call-hangup-missed", HANGUP_MISSED));
    let again = event(post_json("call-hangup-missed", HANGUP_MISSED));

    assert_eq!(first.event_key, again.event_key);
    assert_eq!(first.callback, again.callback);
    let t1 = crate::CallbackTask::for_event(&first).unwrap();
    let t2 = crate::CallbackTask::for_event(&again).unwrap();
    assert_eq!(t1.task_id, t2.task_id);
}

#[test]
fn the_same_call_on_two_triggers_gives_two_events() {
    let hangup = event(post_json("call-hangup", HANGUP_MISSED));
    let missed = event(post_json("call-hangup-missed", HANGUP_MISSED));

    assert_ne!(hangup.event_key, missed.event_key);
}

// --- key spellings and unfilled variables -----------------------------------

#[test]
fn dollar_prefixed_keys_are_read_like_plain_ones() {
    let body = r#"{"$call_id": "1628512094.7228905", "$caller_id_number": "919876543210",
                   "$call_to_number": "918069010148", "$call_status": "missed", "$start_stamp": "2021-08-09 17:56:21"}"#;

    let e = event(post_json("call-hangup", body));

    assert_eq!(e.event_key.as_str(), "call-hangup#1628512094.7228905");
    assert_eq!(due(&e).phone.as_str(), "+919876543210");
    assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
}

#[test]
fn camel_case_upper_case_and_dashed_keys_are_read_like_snake_case() {
    let body = r#"{"callId": "1628512094.7228905", "CallerIdNumber": "9876543210", "CALL_STATUS": "NOANSWER",
                   "call-to-number": "918069010148", "StartStamp": "2021-08-09 17:56:21"}"#;

    let e = event(post_json("call-hangup", body));

    assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
    assert_eq!(attr(&e, "call_status"), Some("NOANSWER"));
    assert_eq!(due(&e).phone.as_str(), "+919876543210");
    assert_eq!(attr(&e, "start_time"), Some("2021-08-09T12:26:21Z"));
}

#[test]
fn the_customer_number_key_with_a_trailing_space_is_read() {
    // Smartflo's own relay and several integrations send "customer_no_with_prefix ".
    let body = r#"{"call_id": "1739257917.28918", "customer_no_with_prefix ": "918580993919",
                   "caller_id_number": "+919240251731", "direction": "click_to_call"}"#;

    let e = event(post_json("call-missed-by-customer-click-to-call", body));

    assert_eq!(due(&e).phone.as_str(), "+918580993919");
    assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+919240251731");
}

#[test]
fn the_customer_number_with_prefix_spellings_are_all_read() {
    for key in ["customer_no_with_prefix", "customer_number_with_prefix", "customer_number", "$customer_no_with_prefix"]
    {
        let body = format!(r#"{{"call_id": "1628512094.7228905", "{key}": "919876543210"}}"#);

        let e = event(post_json("call-hangup-missed", &body));

        assert_eq!(due(&e).phone.as_str(), "+919876543210", "{key}");
    }
}

#[test]
fn unfilled_variables_count_as_absent_not_as_values() {
    for unfilled in ["$customer_no_with_prefix", "", "null", "NA", "  ", "${customer_no_with_prefix}"] {
        let body = format!(
            r#"{{"call_id": "1628512094.7228905", "customer_no_with_prefix": "{unfilled}",
                 "caller_id_number": "09876543210", "start_stamp": "$start_stamp", "call_status": "$call_status"}}"#
        );

        let e = event(post_json("call-hangup-missed", &body));

        assert_eq!(due(&e).phone.as_str(), "+919876543210", "{unfilled:?}");
        assert_eq!(due(&e).requested_at, received_at(), "{unfilled:?}");
        assert_eq!(attr(&e, "call_status"), None);
    }
}

#[test]
fn is_unfilled_recognises_template_leftovers_and_sentinels_only() {
    for v in ["$caller_id_number", "${call_id}", "", "null", "NULL", "NA", "n/a", "undefined", "{}", "[]"] {
        assert!(is_unfilled(v), "{v:?}");
    }
    for v in ["$", "9876543210", "missed", "$ 100", "1628512094.7228905"] {
        assert!(!is_unfilled(v), "{v:?}");
    }
}

#[test]
fn fields_inside_a_data_or_pyld_wrapper_are_read() {
    let body = r#"{"hm": "POST", "pyld": {"uuid": "67aaf83f245de", "call_id": "1739257917.28918",
                   "call_to_number": "918580993919", "caller_id_number": "+919240251731",
                   "start_stamp": "2025-02-11 12:41:57", "direction": "click_to_call"}}"#;

    let e = event(post_json("call-missed-by-customer-click-to-call", body));

    assert_eq!(e.event_key.as_str(), "call-missed-by-customer-click-to-call#1739257917.28918");
    assert_eq!(attr(&e, "start_time"), Some("2025-02-11T07:11:57Z"));
    assert_eq!(due(&e).phone.as_str(), "+918580993919");
}

#[test]
fn agent_billing_circle_and_other_attributes_are_normalised() {
    let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

    assert_eq!(attr(&e, "call_id"), Some("1628512094.7228905"));
    assert_eq!(attr(&e, "uuid"), Some("61111f5e708c5"));
    assert_eq!(attr(&e, "direction"), Some("inbound"));
    assert_eq!(attr(&e, "customer_number"), Some("+919876543210"));
    assert_eq!(attr(&e, "business_number"), Some("+918069010148"));
    assert_eq!(attr(&e, "agent_name"), Some("Priya Sharma"));
    assert_eq!(attr(&e, "agent_number"), Some("+919812345678"));
    assert_eq!(attr(&e, "telecom_operator"), Some("Airtel"));
    assert_eq!(attr(&e, "telecom_circle"), Some("Karnataka"));
    assert_eq!(attr(&e, "hangup_cause"), Some("NORMAL_CLEARING"));
    assert_eq!(attr(&e, "end_time"), Some("2021-08-09T12:28:44Z"));
    assert_eq!(attr(&e, "answer_time"), None);
    assert_eq!(e.attributes.get("duration_seconds"), Some(&Value::from(143)));
    assert_eq!(e.attributes.get("missed"), Some(&Value::from(true)));
    assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 12, 28, 44).unwrap()));
}

#[test]
fn the_answering_agent_is_read_from_flat_variables_or_the_answered_agent_object() {
    let flat = r#"{"call_id": "1", "answer_agent_number": "+911000001039", "call_status": "Answered by agent"}"#;
    let e = event(post_json("call-answered-by-customer-click-to-call", flat));
    assert_eq!(attr(&e, "agent_number"), Some("+911000001039"));

    let nested = r#"{"call_id": "1", "answered_agent": {"name": "Ravi", "number": "9812345678"}}"#;
    let e = event(post_json("call-answered-by-agent-hangup", nested));
    assert_eq!(attr(&e, "agent_name"), Some("Ravi"));
    assert_eq!(attr(&e, "agent_number"), Some("+919812345678"));
}

#[test]
fn dialer_disposition_fields_are_kept_including_the_documented_misspelling() {
    let body = r#"{"call_id": "1628540022.7292026", "disposition": "Call Back Later", "sub_dispositon": "Busy",
                   "campaign_name": "Demo campaign", "campaign_id": 1213334, "agent_name": "Demo Agent",
                   "start_date": "2021-08-09", "start_time": "16:12:00", "end_date": "2021-08-09", "end_time": "16:14:00"}"#;

    let e = event(post_json("disposition-status-updated-dialer", body));

    assert_eq!(attr(&e, "disposition"), Some("Call Back Later"));
    assert_eq!(attr(&e, "sub_disposition"), Some("Busy"));
    assert_eq!(attr(&e, "campaign_id"), Some("1213334"));
    assert_eq!(attr(&e, "start_time"), Some("2021-08-09T10:42:00Z"));
    assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 10, 44, 0).unwrap()));
    assert_eq!(e.callback, CallbackDecision::NotDue);
}

// --- time ------------------------------------------------------------------

#[test]
fn zone_less_timestamps_are_read_in_india_time_and_stored_as_utc() {
    let e = event(post_json("call-received-on-server", r#"{"call_id": "1", "start_stamp": "2021-08-08 00:59:01"}"#));

    assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 7, 19, 29, 1).unwrap()));
    assert_eq!(attr(&e, "start_time"), Some("2021-08-07T19:29:01Z"));
}

#[test]
fn zone_less_timestamps_follow_the_configured_local_offset() {
    let mut ctx = ctx();
    ctx.local_offset = FixedOffset::east_opt(4 * 3600).unwrap();
    let body = br#"{"call_id": "1", "start_stamp": "2021-08-09 17:58:44"}"#;

    let events =
        deliver_with("POST", Some("call-answered-on-ivr"), "/", Some("application/json"), body, &[], &ctx).unwrap();

    let e = events[0].outcome.as_ref().unwrap();
    assert_eq!(e.occurred_at, Some(Utc.with_ymd_and_hms(2021, 8, 9, 13, 58, 44).unwrap()));
}

#[test]
fn iso_8601_with_a_zone_and_epoch_seconds_are_accepted() {
    let utc = Utc.with_ymd_and_hms(2021, 8, 9, 12, 28, 44).unwrap();
    let ist = FixedOffset::east_opt(19800).unwrap();
    for raw in [
        "2021-08-09T12:28:44Z",
        "2021-08-09T17:58:44+05:30",
        "2021-08-09 17:58:44+05:30",
        "1628512124",
        "1628512124000",
    ] {
        assert_eq!(parse_time(raw, ist), Some(utc), "{raw}");
    }
    assert_eq!(parse_time("2021-08-09", ist), Some(Utc.with_ymd_and_hms(2021, 8, 8, 18, 30, 0).unwrap()));
}

#[test]
fn an_unreadable_timestamp_that_decides_the_time_rejects_the_event_naming_only_the_field() {
    for (field, value) in [("start_stamp", "09/08/2021 5pm"), ("end_stamp", "9876543210x"), ("date", "yesterday")] {
        let body = format!(r#"{{"call_id": "1", "digit_pressed": "1", "{field}": "{value}"}}"#);

        let r = rejection(post_json("dtmf-option", &body));

        assert_eq!(r.reason, "invalid_timestamp", "{field}");
        assert!(r.detail.contains(field), "{}", r.detail);
        assert!(!r.detail.contains(value), "{}", r.detail);
    }
}

#[test]
fn an_unreadable_answer_time_is_left_out_rather_than_rejected() {
    let e = event(post_json("call-hangup-answered", r#"{"call_id": "1", "answer_stamp": "soon"}"#));

    assert_eq!(attr(&e, "answer_time"), None);
}

// --- DTMF ------------------------------------------------------------------

#[test]
fn a_dtmf_key_carries_the_digit_and_the_time_it_was_pressed() {
    let body = r#"{"uuid": "61111f5e708c5", "call_id": "1628540022.7292026", "digit_pressed": "3",
                   "date": "2021-08-10 01:43:47", "caller_id_number": "9876543210"}"#;

    let e = event(post_json("dtmf-option", body));

    assert_eq!(e.event_key.as_str(), "dtmf-option#1628540022.7292026#3#2021-08-09T20:13:47Z");
    assert_eq!(attr(&e, "dtmf_digit"), Some("3"));
    assert_eq!(attr(&e, "dtmf_time"), Some("2021-08-09T20:13:47Z"));
    assert_eq!(e.callback, CallbackDecision::NotDue);
}

#[test]
fn two_presses_in_one_call_are_two_events() {
    let first = r#"{"call_id": "1628540022.7292026", "digit_pressed": "1", "date": "2021-08-10 01:43:47"}"#;
    let second = r#"{"call_id": "1628540022.7292026", "digit_pressed": "1", "date": "2021-08-10 01:43:55"}"#;
    let other = r#"{"call_id": "1628540022.7292026", "digit_pressed": "2", "date": "2021-08-10 01:43:47"}"#;

    let keys: Vec<EventKey> =
        [first, second, other].iter().map(|b| event(post_json("dtmf-option", b)).event_key).collect();

    assert_ne!(keys[0], keys[1]);
    assert_ne!(keys[0], keys[2]);
}

#[test]
fn dtmf_digits_are_read_from_the_other_spellings_and_from_arrays() {
    for (body, digit) in [
        (r#"{"call_id": "1", "dtmf": 4, "date": "2021-08-10 01:43:47"}"#, "4"),
        (r#"{"call_id": "1", "Digit": "*", "date": "2021-08-10 01:43:47"}"#, "*"),
        (r#"{"call_id": "1", "digits_dialed": ["1", "2"], "date": "2021-08-10 01:43:47"}"#, "12"),
        (r#"{"call_id": "1", "digits_dialed": "[\"5\"]", "date": "2021-08-10 01:43:47"}"#, "5"),
    ] {
        let e = event(post_json("dtmf-option", body));

        assert_eq!(attr(&e, "dtmf_digit"), Some(digit), "{body}");
        assert!(e.event_key.as_str().starts_with(&format!("dtmf-option#1#{digit}#")), "{body}");
    }
}

/// The key's time text is written once and handed to the attribute of
/// the same time: every time attribute still reads as its own time.
#[test]
fn a_dtmf_key_time_is_the_time_attribute_it_came_from() {
    for (start, date, key_time) in [
        (Some("2021-08-10 01:43:40"), Some("2021-08-10 01:43:47"), "2021-08-09T20:13:47Z"),
        (Some("2021-08-10 01:43:47"), Some("2021-08-10 01:43:47"), "2021-08-09T20:13:47Z"),
        (Some("2021-08-10 01:43:40"), None, "2021-08-09T20:13:40Z"),
    ] {
        let mut body = r#"{"call_id": "1", "digit_pressed": "2""#.to_owned();
        for (name, at) in [("start_stamp", start), ("date", date)] {
            if let Some(at) = at {
                body.push_str(&format!(r#", "{name}": "{at}""#));
            }
        }
        body.push('}');
        let e = event(post_json("dtmf-option", &body));

        assert_eq!(e.event_key.as_str(), format!("dtmf-option#1#2#{key_time}"), "{body}");
        let written =
            |at: Option<&str>| at.map(|at| rfc3339(parse_time(at, FixedOffset::east_opt(19_800).unwrap()).unwrap()));
        assert_eq!(attr(&e, "start_time").map(str::to_owned), written(start), "{body}");
        assert_eq!(attr(&e, "dtmf_time").map(str::to_owned), written(date), "{body}");
    }
}

#[test]
fn a_dtmf_event_without_a_digit_is_rejected() {
    let r = rejection(post_json("dtmf-option", r#"{"call_id": "1", "digit_pressed": "$digit_pressed"}"#));

    assert_eq!(r.reason, "missing_dtmf_digit");
}

#[test]
fn a_dtmf_event_without_a_time_is_keyed_by_call_and_digit() {
    let e = event(post_json("dtmf-option", r#"{"call_id": "1", "digit_pressed": "9"}"#));

    assert_eq!(e.event_key.as_str(), "dtmf-option#1#9");
}

// --- missed-call tasks -----------------------------------------------------

#[test]
fn a_missed_call_gives_a_task_to_call_the_customer_back_from_the_number_they_dialled() {
    let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

    let task = due(&e);
    assert_eq!(task.reason, CallbackReason::MissedCall);
    assert_eq!(task.phone.as_str(), "+919876543210");
    assert_eq!(task.business_phone.as_ref().unwrap().as_str(), "+918069010148");
    assert_eq!(task.window, None);
    assert_eq!(task.requested_at, Utc.with_ymd_and_hms(2021, 8, 9, 12, 26, 21).unwrap());
    assert_eq!(task.context.get("trigger"), Some(&Value::from("call-hangup-missed")));
}

#[test]
fn each_missed_call_trigger_gives_a_task_whatever_the_status_says() {
    for trigger in MISSED_TRIGGERS {
        let e = event(post_json(trigger, &minimal("$call_status")));

        assert_eq!(due(&e).reason, CallbackReason::MissedCall, "{trigger}");
    }
}

#[test]
fn a_hangup_whose_status_says_missed_gives_a_task() {
    for status in [
        "missed",
        "Missed",
        "MISSED",
        "noanswer",
        "NOANSWER",
        "no answer",
        "no_answer",
        "Not Answered",
        "Missed by agent",
    ] {
        let e = event(post_json("call-hangup", &minimal(status)));

        assert_eq!(due(&e).phone.as_str(), "+919876543210", "{status}");
    }
}

#[test]
fn a_hangup_that_was_answered_or_has_no_status_gives_no_task() {
    for status in ["answered", "Answered", "ANSWER", "Answered by agent", "completed", "$call_status", ""] {
        let e = event(post_json("call-hangup", &minimal(status)));

        assert_eq!(e.callback, CallbackDecision::NotDue, "{status:?}");
        assert_eq!(e.attributes.get("missed"), Some(&Value::from(false)));
    }
}

#[test]
fn no_other_trigger_gives_a_task_even_when_its_status_says_missed() {
    for trigger in TRIGGERS.iter().filter(|t| !MISSED_TRIGGERS.contains(t) && **t != "call-hangup") {
        let body = minimal("missed").replace('}', r#", "digit_pressed": "1"}"#);

        let e = event(post_json(trigger, &body));

        assert_eq!(e.callback, CallbackDecision::NotDue, "{trigger}");
    }
}

#[test]
fn a_missed_click_to_call_calls_back_the_dialled_customer_from_the_caller_id() {
    let body = r#"{"uuid": "6110f068a4139", "call_id": "1628540022.7292026", "call_to_number": "09876543210",
                   "caller_id_number": "918069010102", "direction": "clicktocall", "call_status": "missed",
                   "start_stamp": "2021-08-09 14:37:52"}"#;

    let e = event(post_json("call-missed-by-customer-click-to-call", body));

    assert_eq!(due(&e).phone.as_str(), "+919876543210");
    assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010102");
    assert_eq!(attr(&e, "direction"), Some("click_to_call"));
}

#[test]
fn an_outbound_missed_hangup_calls_back_the_called_number() {
    let body = r#"{"call_id": "1", "call_to_number": "9876543210", "caller_id_number": "918069010148",
                   "direction": "outbound", "call_status": "missed"}"#;

    let e = event(post_json("call-hangup", body));

    assert_eq!(due(&e).phone.as_str(), "+919876543210");
    assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
}

#[test]
fn when_the_explicit_customer_number_is_the_called_number_the_business_is_the_caller_id() {
    let body = r#"{"call_id": "1", "customer_no_with_prefix": "919876543210", "call_to_number": "9876543210",
                   "caller_id_number": "918069010148"}"#;

    let e = event(post_json("call-hangup-missed", body));

    assert_eq!(due(&e).business_phone.as_ref().unwrap().as_str(), "+918069010148");
}

#[test]
fn a_missed_call_without_a_reachable_number_is_unreachable() {
    for body in [
        r#"{"call_id": "1", "caller_id_number": "$caller_id_number"}"#,
        r#"{"call_id": "1", "caller_id_number": "anonymous", "customer_number": "12"}"#,
    ] {
        let e = event(post_json("call-missed-by-agent-hangup", body));

        assert_eq!(e.callback, CallbackDecision::Unreachable { reason: CallbackReason::MissedCall }, "{body}");
    }
}

#[test]
fn a_missed_call_without_a_call_time_is_requested_at_its_receipt() {
    let e = event(post_json("call-hangup-missed", r#"{"call_id": "1", "caller_id_number": "9876543210"}"#));

    assert_eq!(due(&e).requested_at, received_at());
}

#[test]
fn the_normalised_event_serialises_with_the_missed_call_reason() {
    let e = event(post_json("call-hangup-missed", HANGUP_MISSED));

    let json = e.to_json();

    assert_eq!(json["callback"], Value::from("missed_call"));
    assert_eq!(json["event_type"], Value::from("call-hangup-missed"));
}

/// Smartflo's own `2021-08-09 17:58:44` as the reader of its own that
/// came before chrono read it (the reference for `parse_time`).
fn plain_local_reference(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':'
    {
        return None;
    }
    let number = |at: usize, len: usize| {
        b[at..at + len].iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(number(0, 4)?).ok()?, number(5, 2)?, number(8, 2)?)?;
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if second > 59 {
        return None;
    }
    date.and_hms_opt(hour, minute, second)
}

#[test]
fn the_plain_local_form_reads_as_chrono_reads_it() {
    let ist = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
    let mut cases: Vec<String> = Vec::new();
    for date in ["2021-08-09", "2024-02-29", "2023-02-29", "2021-13-01", "2021-00-10", "0000-01-01", "9999-12-31"] {
        for sep in [" ", "T", "t", "_"] {
            for time in ["17:58:44", "00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:2:3"] {
                cases.push(format!("{date}{sep}{time}"));
            }
        }
    }
    cases.extend(
        ["2021-08-09 17:58:4x", "+021-08-09 17:58:44", "2021-08-09 17:58:44Z", "2021/08/09 17:58:44", "２021-08-09"]
            .map(String::from),
    );
    let mut plain = 0;
    for case in &cases {
        if let Some(naive) = plain_local_reference(case) {
            plain += 1;
            let want = ist.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc));
            assert_eq!(parse_time(case, ist), want, "{case}");
            assert!(want.is_some(), "{case}");
        }
    }
    assert!(plain > 20, "the plain form is among the cases ({plain})");
}

/// Recorded bodies and bodies at the edges of JSON: what the body reader
/// makes of them.
fn json_bodies() -> (Vec<String>, usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
    let mut bodies: Vec<String> = Vec::new();
    for file in std::fs::read_dir(&dir).expect("events/smartflo exists").flatten() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
        if let Some(body) = v["body"].as_str().filter(|b| b.trim_start().starts_with('{')) {
            bodies.push(body.to_owned());
        }
    }
    let recorded = bodies.len();
    bodies.push(HANGUP_MISSED.to_owned());
    (bodies, recorded)
}

fn nested(levels: usize) -> String {
    format!("{{\"call_id\":\"1\",\"x\":{}1{}}}", "{\"a\":".repeat(levels), "}".repeat(levels))
}

#[test]
fn the_body_reader_reads_every_recorded_json_object_and_the_exact_text_of_numbers() {
    let (bodies, recorded) = json_bodies();
    assert!(recorded > 0);
    for body in &bodies {
        let object = serde_json::from_str::<serde_json::Map<String, Value>>(body);
        assert_eq!(parse_json_object(body).is_ok(), object.is_ok(), "{body}");
    }
    let body = r#"{"call_id": 1628512094.7228905, "n": -0.5E+3, "t": true, "f": false, "z": null, "e": 1e400, "o": 0}"#;
    let fields = parse_json_object(body).unwrap();
    for (key, want) in
        [("call_id", "1628512094.7228905"), ("n", "-0.5E+3"), ("t", "true"), ("f", "false"), ("e", "1e400"), ("o", "0")]
    {
        assert_eq!(fields.values(&[key]).next(), Some(&FieldValue::Text(Cow::Borrowed(want))), "{key}");
    }
    assert_eq!(fields.values(&["z"]).next(), Some(&FieldValue::Null));
}

#[test]
fn the_body_reader_decodes_escapes_and_keeps_duplicate_and_wrapped_keys_in_order() {
    let escaped = parse_json_object(r#"{"call_id": "a\"b", "uuid": "\u00e9x", "call\u005fstatus": "missed"}"#).unwrap();
    assert_eq!(escaped.text(&["call_id"]), Some("a\"b"));
    assert_eq!(escaped.text(&["uuid"]), Some("éx"));
    assert_eq!(escaped.text(&["call_status"]), Some("missed"));

    let spaced = " \n{ \"data\" : { \"call_id\" : \"1\" } , \"x\" : [ ] , \"y\" : { } }\r\n\t";
    let fields = parse_json_object(spaced).unwrap().with_wrappers();
    assert_eq!(fields.text(&["call_id"]), Some("1"));
    assert_eq!(fields.values(&["x"]).next(), Some(&FieldValue::Array(Vec::new())));

    let same_key = r#"{"$call_id": "1", "callId": "2", "Call ID": "3", "call_id": "4", "customer_no": "९१९८७६५४३२१०"}"#;
    let fields = parse_json_object(same_key).unwrap();
    let texts: Vec<_> = fields.values(&["call_id"]).filter_map(filled_text).collect();
    assert_eq!(texts, ["1", "2", "3", "4"]);

    let arrays = r#"{"digits_dialed": ["1", 2, null, {"digit": 1}, [], [[]]], "missed_agent": [{"name": "A"}]}"#;
    let fields = parse_json_object(arrays).unwrap();
    assert_eq!(digit_of(&fields).as_deref(), Some("12"));
    assert_eq!(fields.objects(&["missed_agent"])[0].text(&["name"]), Some("A"));
}

#[test]
fn the_body_reader_refuses_what_is_not_a_json_object_within_the_depth_limit() {
    for body in [
        r#"{"call_id": "\ud800"}"#,
        r#"{"call\ud800": "1"}"#,
        r#"{"a": 1,}"#,
        r#"{"a": [1,]}"#,
        r#"{"a": 01}"#,
        r#"{"a": -}"#,
        r#"{"a": 1.}"#,
        r#"{"a": 1e}"#,
        r#"{"a": 1x}"#,
        r#"{"a": tru}"#,
        r#"{"a": nul}"#,
        r#"{"a" 1}"#,
        r#"{"a": 1 "b": 2}"#,
        r#"{"a": 1} x"#,
        r#"{"a": "unterminated"#,
        r#"{"a": "x\"}"#,
        "{\"a\": \"tab\tinside\"}",
        "{",
        "[1]",
        "\"text\"",
    ] {
        assert!(parse_json_object(body).is_err(), "{body}");
    }
    // `nested(n)` has n + 1 levels below the top.
    assert!(parse_json_object(&nested(MAX_DEPTH - 2)).is_ok());
    assert!(parse_json_object(&nested(MAX_DEPTH - 1)).is_ok());
    assert!(parse_json_object(&nested(MAX_DEPTH)).is_err());
}

/// `normalise_key` as it was, character by character (the reference
/// for the byte-by-byte version).
fn normalise_key_by_characters(key: &str) -> String {
    let key = key.trim();
    let key = key.strip_prefix('$').unwrap_or(key);
    let key = key.trim_start_matches('{').trim_end_matches('}').trim();
    let mut out = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() && next_lower => true,
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(c);
    }
    out.trim_matches('_').to_owned()
}

#[test]
fn key_normalisation_gives_what_the_character_by_character_version_gave() {
    let mut keys: Vec<String> = [
        "",
        "_",
        "__",
        "$",
        "${}",
        "$_a_",
        "call_id",
        "_call_id",
        "call_id_",
        "call__id",
        "$call_id",
        "${uuid}",
        " $ {x} ",
        "$$call_id",
        "callId",
        "CallID",
        "HTTPServerURL",
        "a1B",
        "ABc",
        "A",
        "aB",
        "x-y z",
        "Caller ID Number",
        "caller-id-number",
        "café_no",
        "éA",
        "Aé",
        "aéb",
        "Ωmega",
        "customer no with prefix ",
        "__x__",
        "a_-_b",
        "${call_ID}",
        "call id\t",
        "NUMBER9x",
        "9A",
        "_A_",
        "a\u{2003}b",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
    for file in std::fs::read_dir(&dir).expect("events/smartflo exists").flatten() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
        if let Ok(Value::Object(body)) = serde_json::from_str::<Value>(v["body"].as_str().unwrap_or("")) {
            keys.extend(body.keys().cloned());
        }
    }
    for key in &keys {
        assert_eq!(normalise_key(key), normalise_key_by_characters(key), "{key:?}");
    }
}

/// The names the hand-made name table of the parser before this one held.
const NAMES_READ_BEFORE: [&str; 114] = [
    "call_id",
    "callid",
    "smartflo_call_id",
    "tata_call_id",
    "uuid",
    "call_uuid",
    "customer_no_with_prefix",
    "customer_number_with_prefix",
    "customer_num_with_prefix",
    "customer_number",
    "customer_no",
    "customer_phone",
    "client_number",
    "caller_id_number",
    "caller_id_num",
    "caller_number",
    "cid_num",
    "from_number",
    "call_to_number",
    "called_number",
    "call_num",
    "to_number",
    "destination_number",
    "did_number",
    "direction",
    "call_direction",
    "call_type",
    "call_status",
    "status",
    "callstatus",
    "start_stamp",
    "start_timestamp",
    "call_start_time",
    "answer_stamp",
    "answer_timestamp",
    "call_answer_time",
    "end_stamp",
    "end_timestamp",
    "call_end_time",
    "date",
    "dtmf_time",
    "pressed_at",
    "start_date",
    "start_time",
    "end_date",
    "end_time",
    "digit_pressed",
    "dtmf",
    "dtmf_digit",
    "dtmf_option",
    "digit",
    "digits",
    "dtmf_input",
    "digits_dialed",
    "answered_agent_number",
    "answer_agent_number",
    "agent_number",
    "first_missed_agent_number",
    "missed_agent_number",
    "answered_agent_name",
    "answer_agent_name",
    "agent_name",
    "agent",
    "missed_agent_name",
    "answered_agent",
    "answer_agent",
    "missed_agent",
    "missed_agents",
    "name",
    "number",
    "follow_me_number",
    "data",
    "payload",
    "pyld",
    "body",
    "call",
    "webhook",
    "hangup_cause",
    "hangup_cause_description",
    "reason_key",
    "recording_url",
    "recording",
    "disposition",
    "disposition_status",
    "sub_disposition",
    "sub_dispositon",
    "subdisposition",
    "campaign_name",
    "broadcast_name",
    "campaign_id",
    "broadcast_id",
    "dept_name",
    "department_name",
    "department",
    "dept_id",
    "department_id",
    "ivr_name",
    "ivr_id",
    "auto_attendant_name",
    "auto_attendant_id",
    "ref_id",
    "reference_id",
    "custom_identifier",
    "telecom_operator",
    "telecom_circle",
    "duration",
    "call_duration",
    "billsec",
    "bill_sec",
    "agent_ring_time",
    "call_connected",
    "billing_circle",
    "operator",
    "circle",
];

#[test]
fn every_name_read_before_is_read_and_no_other_name_is() {
    for name in NAMES_READ_BEFORE {
        assert!(is_read(name), "{name}");
    }
    for other in ["", "x", "call", "call_i", "call_idx", "Call_id", "customer_no_with_prefi", "key", "operators"] {
        assert_eq!(is_read(other), NAMES_READ_BEFORE.contains(&other), "{other}");
    }
}

#[test]
fn a_post_with_an_empty_body_and_only_unread_query_keys_is_not_decodable() {
    let query = [("foo", "bar"), ("x", "1")];

    assert!(matches!(deliver("POST", "call-hangup", None, "", &query), Err(DecodeError::NotJson(_))));
    let form = deliver("POST", "call-hangup", Some("application/x-www-form-urlencoded"), "", &query);
    assert_eq!(form, Err(DecodeError::BadForm));
}

#[test]
fn strings_with_quotes_backslashes_and_control_characters_read_as_serde_json_reads_them() {
    let special = |c: char| c == '"' || c == '\\' || c < ' ';
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Mostly plain text, with a special character or a neighbour of one here and there.
        let mut text: String = seed
            .to_le_bytes()
            .iter()
            .map(|b| match *b % 8 {
                0 => ['"', '\\', '\u{1f}', ' ', '!', '#', '[', ']', '\u{0}', '\u{7f}', '\u{80}', 'ÿ']
                    [usize::from(*b / 8) % 12],
                _ => char::from(*b & 0x7f | 0x20),
            })
            .collect();
        if round % 2 == 0 {
            text = text.chars().map(|c| if special(c) { 'a' } else { c }).collect();
        }
        let body = format!("{{\"call_id\": {}}}", serde_json::to_string(&text).unwrap());

        let fields = parse_json_object(&body).unwrap();

        let Some(FieldValue::Text(read)) = fields.values(&["call_id"]).next() else { panic!("{body}") };
        assert_eq!(read.as_ref(), text, "{body}");
        assert_eq!(matches!(read, Cow::Borrowed(_)), !text.chars().any(special), "{body}");
    }
}

#[test]
fn the_query_string_is_written_as_form_urlencoded_writes_it() {
    let pairs: Vec<(String, String)> = [
        ("call_id", "1754036781.4471935"),
        ("", ""),
        ("a b", "c+d&e=f"),
        ("$uuid", "${uuid}"),
        ("name", "Priya Śharma ☎ 😀"),
        ("*-._~!'()", "%2B%zz/?#[]@"),
        ("tab\tnew\nline", "\u{0}\u{7f}\u{80}"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for n in 0..=pairs.len() {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs[..n] {
            serializer.append_pair(k, v);
        }
        assert_eq!(query_string(&pairs[..n]), serializer.finish());
    }
    let mut empty_first = vec![(String::new(), String::new())];
    empty_first.extend(pairs);
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &empty_first {
        serializer.append_pair(k, v);
    }
    assert_eq!(query_string(&empty_first), serializer.finish());
}

#[test]
fn percent_decoding_gives_what_the_radix_parsing_version_gave() {
    // The version before, for text whose escapes are two hex digits (as
    // `decode_form` has checked before it decodes).
    fn by_radix(s: &str) -> Result<Cow<'_, str>, DecodeError> {
        if !s.contains(['+', '%']) {
            return Ok(Cow::Borrowed(s));
        }
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| DecodeError::BadForm)?;
                    out.push(u8::from_str_radix(hex, 16).map_err(|_| DecodeError::BadForm)?);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map(Cow::Owned).map_err(|_| DecodeError::BadForm)
    }
    for text in [
        "",
        "plain",
        "a+b",
        "%2B%2b",
        "2025-08-01+13%3A56%3A21",
        "%E0%A4%95",
        "%FF",
        "%C3",
        "%00%7F",
        "Śharma+%F0%9F%98%80",
        "%aF%Af%09",
        "+++",
        "%25%2525",
    ] {
        let ours = form_decode(text);
        assert_eq!(ours, by_radix(text), "{text}");
        assert_eq!(matches!(ours, Ok(Cow::Borrowed(_))), !text.contains(['+', '%']), "{text}");
    }
}

#[test]
fn directions_and_flags_read_as_the_copying_versions_read_them() {
    let old_direction = |raw: &str| {
        let d = normalise_key(&raw.to_ascii_lowercase()).into_owned();
        match d.as_str() {
            "clicktocall" | "click2call" | "c2c" => "click_to_call".to_owned(),
            _ => d,
        }
    };
    let old_flag = |s: &str| match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    };
    for raw in [
        "inbound",
        "outbound",
        "Inbound",
        "OUTBOUND",
        "clicktocall",
        "ClickToCall",
        "click2call",
        "c2c",
        "C2C",
        "click_to_call",
        "click-to-call",
        "dialer_outbound",
        " inbound ",
        "$direction",
        "",
        "Y",
        "n",
        " True ",
        "FALSE",
        "1",
        "0",
        "yes",
        "No",
        "yess",
        "tru",
        "K",
        "ß",
        "ﬁ",
    ] {
        assert_eq!(normalise_direction(raw), old_direction(raw), "{raw:?}");
        assert_eq!(flag(raw), old_flag(raw), "{raw:?}");
    }
}

#[test]
fn key_normalisation_handles_the_spellings_seen_in_the_wild() {
    for (raw, want) in [
        ("$caller_id_number", "caller_id_number"),
        ("customer_no_with_prefix ", "customer_no_with_prefix"),
        ("callId", "call_id"),
        ("CallID", "call_id"),
        ("Caller ID Number", "caller_id_number"),
        ("call-to-number", "call_to_number"),
        ("${uuid}", "uuid"),
    ] {
        assert_eq!(normalise_key(raw), want, "{raw:?}");
    }
}

// --- recorded events -------------------------------------------------------

/// What each recorded event in `events/smartflo` must produce.
fn expected_outcome(file: &str) -> &'static str {
    match file {
        f if f.starts_with("unknown-trigger") => "404",
        f if f.starts_with("malformed") => "400",
        f if f.starts_with("unsupported-content-type") => "415",
        f if f.starts_with("missing-call-id") || f.starts_with("invalid-timestamp") => "422",
        f if f.contains("unreachable") => "unreachable",
        "call-hangup-missed.json"
        | "call-missed-by-agent-hangup.json"
        | "call-missed-by-customer-click-to-call.json"
        | "call-hangup.json" => "task",
        f if f.contains("missed") && !f.contains("answered") => "task",
        _ => "stored",
    }
}

#[test]
fn every_recorded_event_parses_to_its_expected_outcome() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/smartflo");
    let mut seen_triggers = std::collections::BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("events/smartflo exists").flatten().collect();
    files.sort_by_key(|f| f.file_name());
    assert!(files.len() >= 16);
    for file in files {
        let name = file.file_name().to_string_lossy().into_owned();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap();
        let method = v["requestContext"]["http"]["method"].as_str().unwrap();
        assert!(v["routeKey"].as_str().unwrap().starts_with(method), "{name}");
        let trigger = v["pathParameters"]["trigger"].as_str();
        let path = v["rawPath"].as_str().unwrap();
        let query: Vec<(String, String)> = form_urlencoded::parse(v["rawQueryString"].as_str().unwrap().as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "key")
            .collect();
        let content_type = v["headers"]["content-type"].as_str();
        let body = v["body"].as_str().unwrap_or("");
        let delivery = Delivery { method, path, trigger, query: &query, content_type, body: body.as_bytes() };

        let outcome = match Smartflo.parse(&delivery, &ctx()) {
            Err(DecodeError::UnknownRoute(_)) => "404",
            Err(DecodeError::UnsupportedContentType(_)) => "415",
            Err(_) => "400",
            Ok(events) => match &events[0].outcome {
                Err(_) => "422",
                Ok(e) => {
                    seen_triggers.insert(e.event_type.clone());
                    assert_eq!(trigger, Some(e.event_type.as_str()), "{name}");
                    match e.callback {
                        CallbackDecision::Due(_) => "task",
                        CallbackDecision::Unreachable { .. } => "unreachable",
                        CallbackDecision::NotDue => "stored",
                    }
                }
            },
        };

        assert_eq!(outcome, expected_outcome(&name), "{name}");
    }
    assert_eq!(seen_triggers.len(), TRIGGERS.len(), "one recorded event per trigger at least");
}
