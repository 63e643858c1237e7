use chrono::TimeZone;

use super::*;

/// The seed's `CallComplete` example, its missing comma fixed.
const SEED_CALL_COMPLETE: &str = r#"[
  {
    "id": "3aa7c3d2-6d1a-4b02-9418-f8ae1e16bbc0",
    "eventType": "CallComplete",
    "createdAt": "2022-09-01T00:30:48.567Z",
    "data": {
      "correlationId": "d07b9760-9c74-4c12-919b-3b88adbf5863",
      "sessionId": "6d5e9bcd-3477-45a7-bca5-b67fae83c974",
      "callResultId": "9ea5abe8-08da-4a40-a6d0-f7f56bb3d8c2",
      "name": "Jane Doe",
      "phone": "61491573087",
      "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436",
      "lastStepName": "Question 3?",
      "startedTime": "2022-09-01T00:29:12.000Z",
      "flow": [
        {"questionName": "Question 1?", "response": "Other", "transcript": "Answer 1"},
        {"questionName": "Question 2?", "response": "Other", "transcript": "Answer 2"},
        {"questionName": "Question 3?", "response": "Other", "transcript": "Answer 3"}
      ],
      "requests": [],
      "status": "Complete",
      "additionalInformation": "No further action"
    }
  },
  {
    "id": "d07b9760-9c74-4c12-919b-3b88adbf5863",
    "eventType": "CallComplete",
    "createdAt": "2022-08-31T21:46:58.621Z",
    "data": {
      "sessionId": "ef925557-2fd4-4bb0-abee-a13d6b542269",
      "callResultId": "94c9dda8-6a72-40d6-ac7e-1de5e4cedc2d",
      "name": "John Doe",
      "phone": "61491573087",
      "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436",
      "status": "Partial",
      "additionalInformation": "Customer exited part way through",
      "lastStepName": "Question 2?",
      "startedTime": "2022-08-31T21:46:51.000Z",
      "flow": [
        {"questionName": "Question 1?", "response": "Other", "transcript": "Anything."},
        {"questionName": "Question 2?", "response": "Other", "transcript": "I want to talk to a human."}
      ],
      "requests": ["humanSupportRequest"]
    }
  },
  {
    "id": "34441be5-750e-49bc-a1d8-fd701790b345",
    "eventType": "CallComplete",
    "createdAt": "2022-08-31T21:46:58.621Z",
    "data": {
      "sessionId": "13fcb80a-8ffa-43db-a83d-0329efc3b331",
      "callResultId": "48f1bc2c-ed38-40a7-a30c-8e4a09c33c8c",
      "name": "John Doe",
      "phone": "61491573087",
      "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436",
      "lastStepName": null,
      "startedTime": "2022-08-31T21:46:51.000Z",
      "flow": [],
      "requests": [],
      "status": "Not Complete",
      "additionalInformation": "Voicemail"
    }
  }
]"#;

fn ctx() -> ParseContext {
    ParseContext::new(Utc.with_ymd_and_hms(2025, 8, 1, 6, 0, 0).unwrap())
}

fn deliver_with(body: &str, query: &[(String, String)]) -> Result<Vec<ParsedEvent>, DecodeError> {
    let delivery = Delivery {
        method: "POST",
        path: "/webhooks/curious-thing",
        trigger: None,
        query,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    };
    CuriousThing.parse(&delivery, &ctx())
}

fn deliver(body: &str) -> Result<Vec<ParsedEvent>, DecodeError> {
    deliver_with(body, &[])
}

fn events(body: &str) -> Vec<NormalisedEvent> {
    deliver(body).unwrap().into_iter().map(|e| e.outcome.unwrap()).collect()
}

fn one(body: &str) -> NormalisedEvent {
    let mut all = events(body);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn attr<'a>(event: &'a NormalisedEvent, name: &str) -> &'a Value {
    event.attributes.get(name).unwrap_or_else(|| panic!("attribute {name} missing in {:?}", event.attributes))
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn is_hex_sha256(key: &EventKey) -> bool {
    key.as_str().len() == 64 && key.as_str().bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

// --- batches -------------------------------------------------------------

#[test]
fn a_batch_gives_one_event_per_element_in_order_keyed_on_each_id() {
    // Arrange: the seed's three CallComplete results.
    // Act
    let parsed = deliver(SEED_CALL_COMPLETE).unwrap();
    // Assert
    let keys: Vec<&str> = parsed.iter().map(|p| p.outcome.as_ref().unwrap().event_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "3aa7c3d2-6d1a-4b02-9418-f8ae1e16bbc0",
            "d07b9760-9c74-4c12-919b-3b88adbf5863",
            "34441be5-750e-49bc-a1d8-fd701790b345"
        ]
    );
    assert!(parsed.iter().all(|p| p.outcome.as_ref().unwrap().event_type == "CallComplete"));
}

#[test]
fn each_event_keeps_its_element_exact_json_text_as_raw() {
    // Arrange
    let first = r#"{"id": "a1",  "eventType":"CallAttempted" ,"time":"2025-08-01T05:00:00Z"}"#;
    let second = "{\n  \"id\": 7,\n  \"eventType\": \"SMSSent\"\n}";
    let body = format!("[ {first},\n\t{second} ]");
    // Act
    let parsed = deliver(&body).unwrap();
    // Assert
    assert_eq!(parsed[0].raw, first);
    assert_eq!(parsed[1].raw, second);
}

#[test]
fn a_single_object_is_a_batch_of_one_whose_raw_is_the_whole_body() {
    // Arrange
    let body = " {\"id\": \"e1\", \"eventType\": \"CallReceived\", \"data\": {\"phone\": \"61491570156\", \"type\": \"inbound\"}}\n";
    // Act
    let parsed = deliver(body).unwrap();
    // Assert
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].raw, body);
    let event = parsed[0].outcome.as_ref().unwrap();
    assert_eq!(event.event_type, "CallReceived");
    assert_eq!(event.event_key.as_str(), "e1");
}

#[test]
fn an_empty_batch_is_a_successful_delivery_of_no_events() {
    // Arrange, act
    let parsed = deliver(" [ ] ").unwrap();
    // Assert
    assert!(parsed.is_empty());
}

#[test]
fn invalid_elements_are_rejected_one_by_one_and_the_others_still_parse() {
    // Arrange
    let body = r#"[
        {"id": "ok-1", "eventType": "CallAttempted", "time": "2025-08-01T05:00:00Z", "phone": "61491570156", "status": "success"},
        "not an event",
        42,
        {"id": {"nested": true}, "eventType": "CallAttempted"},
        {"id": "bad-time", "eventType": "CallComplete", "createdAt": "31/02/2025 25:61", "data": {"phone": "61491570156"}},
        {"id": "bad-data", "eventType": "CallComplete", "data": "61491570156"},
        {"id": "ok-2", "eventType": "SMSReceived", "time": "2025-08-01T05:01:00Z"}
    ]"#;
    // Act
    let parsed = deliver(body).unwrap();
    // Assert
    let reasons: Vec<Result<&str, &str>> =
        parsed.iter().map(|p| p.outcome.as_ref().map(|e| e.event_key.as_str()).map_err(|r| r.reason)).collect();
    assert_eq!(
        reasons,
        [
            Ok("ok-1"),
            Err("not_an_object"),
            Err("not_an_object"),
            Err("invalid_event_id"),
            Err("invalid_timestamp"),
            Err("invalid_payload"),
            Ok("ok-2")
        ]
    );
    assert_eq!(parsed[1].raw, "\"not an event\"");
    let bad_time = parsed[4].outcome.as_ref().unwrap_err();
    assert_eq!(bad_time.event_type.as_deref(), Some("CallComplete"));
}

#[test]
fn a_rejection_never_carries_the_phone_number_or_the_offending_value() {
    // Arrange
    let body = r#"[{"id": "x", "eventType": "CallComplete", "createdAt": "61491570156x", "data": "61491570156"},
                   {"id": "y", "eventType": "CallComplete", "data": "61491570156"}]"#;
    // Act
    let parsed = deliver(body).unwrap();
    // Assert
    for p in &parsed {
        let rejection = p.outcome.as_ref().unwrap_err();
        assert!(!rejection.detail.contains("491570156"), "{}", rejection.detail);
    }
}

// --- event keys ------------------------------------------------------------

#[test]
fn an_element_without_id_is_keyed_on_the_sha256_of_its_canonical_json() {
    // Arrange
    let element = r#"{"time":"2022-08-31T21:46:58.621Z","phone":"61491573087","status":"success"}"#;
    let canonical = r#"{"phone":"61491573087","status":"success","time":"2022-08-31T21:46:58.621Z"}"#;
    // Act
    let event = one(&format!("[{element}]"));
    // Assert
    assert_eq!(event.event_key.as_str(), hex::encode(Sha256::digest(canonical.as_bytes())));
    assert!(is_hex_sha256(&event.event_key));
    assert_eq!(attr(&event, "key_source"), "content_sha256");
}

#[test]
fn the_same_id_less_content_in_another_key_order_and_spacing_gets_the_same_key() {
    // Arrange
    let original = r#"[{"time": "2022-08-31T21:46:58.621Z", "phone": "61491573087", "status": "failed",
                        "note": "invalid phone", "meta": {"b": [1, {"y": 2, "x": 1}], "a": null}}]"#;
    let redelivered = r#"[{"meta":{"a":null,"b":[1,{"x":1,"y":2}]},"note":"invalid phone",
                           "status":"failed","phone":"61491573087","time":"2022-08-31T21:46:58.621Z"}]"#;
    let changed = r#"[{"time": "2022-08-31T21:46:58.621Z", "phone": "61491573087", "status": "failed",
                       "note": "busy", "meta": {"b": [1, {"y": 2, "x": 1}], "a": null}}]"#;
    // Act
    let (a, b, c) = (one(original), one(redelivered), one(changed));
    // Assert
    assert_eq!(a.event_key, b.event_key);
    assert_ne!(a.event_key, c.event_key);
}

#[test]
fn canonical_json_sorts_keys_at_every_depth_and_drops_whitespace() {
    // Arrange
    let value: Value =
        serde_json::from_str(r#"{ "b": [ {"d": 1, "c": "x\"y"} ], "a": { "z": true, "é": null, "e": 1.5 } }"#).unwrap();
    // Act
    let text = canonical_json(&value);
    // Assert
    assert_eq!(text, r#"{"a":{"e":1.5,"z":true,"é":null},"b":[{"c":"x\"y","d":1}]}"#);
}

/// The canonical JSON as it was written before (a `String` per name and scalar).
fn canonical_json_by_display(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(k.as_str()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

#[test]
fn canonical_json_is_written_as_by_value_display() {
    let mut texts: Vec<String> = [
        r#"{ "b": [ {"d": 1, "c": "x\"y"} ], "a": { "z": true, "é": null, "e": 1.5 } }"#,
        r#"{"ctl": "\u0000\u001f\u007f\t\n\r\b\f", "esc": "\/\\ \ud83d\ude00 é \u2028\u2029", "": ""}"#,
        r#"{"n": [0, -0, 1e300, -1.5e-7, 12345678901234567890, -9223372036854775808, 0.1, 2.0, 1E2]}"#,
        r#"{"deep": [[[[{"b": {"a": [null, false, true, {}, []]}}]]]], "Z": 1, "a": 2, "_": 3, "ä": 4, "a\u0000": 5}"#,
        r#"[1, "two", {"three": 3}]"#,
        r#""text""#,
        "42",
        "null",
    ]
    .map(str::to_owned)
    .to_vec();
    let dir = format!("{}/../../events/curious-thing", env!("CARGO_MANIFEST_DIR"));
    for file in std::fs::read_dir(&dir).expect(&dir) {
        let request: Value = serde_json::from_str(&std::fs::read_to_string(file.unwrap().path()).unwrap()).unwrap();
        texts.extend(request["body"].as_str().map(str::to_owned));
    }
    let mut compared = 0;
    for text in texts {
        let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
        assert_eq!(canonical_json(&value), canonical_json_by_display(&value), "{text}");
        compared += 1;
    }
    assert!(compared >= 8 + 10, "every hostile text and the recorded bodies: {compared}");
}

#[test]
fn a_numeric_id_is_the_key_as_text_and_a_uuid_id_is_lower_cased() {
    // Arrange
    let body = r#"[{"id": 123456789, "eventType": "SMSSent"},
                   {"id": "3AA7C3D2-6D1A-4B02-9418-F8AE1E16BBC0", "eventType": "SMSSent"},
                   {"id": " order-42 ", "eventType": "SMSSent"}]"#;
    // Act
    let all = events(body);
    // Assert
    assert_eq!(all[0].event_key.as_str(), "123456789");
    assert_eq!(all[1].event_key.as_str(), "3aa7c3d2-6d1a-4b02-9418-f8ae1e16bbc0");
    assert_eq!(all[2].event_key.as_str(), "order-42");
    assert!(all.iter().all(|e| e.attributes["key_source"] == "id"));
}

#[test]
fn a_null_or_blank_id_counts_as_no_id() {
    // Arrange
    let body = r#"[{"id": null, "eventType": "SMSSent", "message": "a"}, {"id": "  ", "eventType": "SMSSent", "message": "a"}]"#;
    // Act
    let all = events(body);
    // Assert
    assert!(is_hex_sha256(&all[0].event_key));
    assert!(is_hex_sha256(&all[1].event_key));
    assert_ne!(all[0].event_key, all[1].event_key, "the hash covers the whole element, id included");
}

#[test]
fn an_id_that_is_not_a_string_or_number_is_rejected_for_known_types() {
    // Arrange
    let body = r#"[{"id": true, "eventType": "CallReceived"}, {"id": ["a"], "eventType": "CallReceived"}]"#;
    // Act
    let parsed = deliver(body).unwrap();
    // Assert
    for p in parsed {
        let rejection = p.outcome.unwrap_err();
        assert_eq!(rejection.reason, "invalid_event_id");
        assert_eq!(rejection.event_type.as_deref(), Some("CallReceived"));
    }
}

// --- each event type -------------------------------------------------------

#[test]
fn a_call_complete_is_normalised_with_e164_numbers_and_utc_times() {
    // Arrange, act
    let event = events(SEED_CALL_COMPLETE).remove(0);
    // Assert
    assert_eq!(event.event_type, "CallComplete");
    assert_eq!(event.occurred_at, Some(at("2022-09-01T00:30:48Z") + chrono::Duration::milliseconds(567)));
    assert_eq!(attr(&event, "phone"), "+61491573087");
    assert_eq!(attr(&event, "started_at"), "2022-09-01T00:29:12Z");
    assert_eq!(attr(&event, "call_result_id"), "9ea5abe8-08da-4a40-a6d0-f7f56bb3d8c2");
    assert_eq!(attr(&event, "session_id"), "6d5e9bcd-3477-45a7-bca5-b67fae83c974");
    assert_eq!(attr(&event, "correlation_id"), "d07b9760-9c74-4c12-919b-3b88adbf5863");
    assert_eq!(attr(&event, "campaign_id"), "5dd7681b-2188-49fc-8fc0-87b57056f436");
    assert_eq!(attr(&event, "contact_name"), "Jane Doe");
    assert_eq!(attr(&event, "status"), "Complete");
    assert_eq!(attr(&event, "additional_information"), "No further action");
    assert_eq!(attr(&event, "last_step_name"), "Question 3?");
    assert_eq!(attr(&event, "flow_steps"), 3);
    assert_eq!(attr(&event, "requests"), &serde_json::json!([]));
    assert_eq!(attr(&event, "human_support_requested"), false);
    assert_eq!(attr(&event, "event_type_source"), "payload");
    assert_eq!(event.callback, CallbackDecision::NotDue);
}

#[test]
fn a_call_attempted_as_documented_is_recognised_by_its_shape() {
    // Arrange: the seed's flat elements, trailing comma fixed.
    let body = r#"[
      {"time": "2022-08-31T21:46:58.621Z", "phone": "61491573087", "status": "failed", "note": "invalid phone",
       "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436", "correlationId": "d07b9760-9c74-4c12-919b-3b88adbf5863"},
      {"time": "2022-08-31T21:46:58.621Z", "phone": "61491573087", "status": "success",
       "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436"}
    ]"#;
    // Act
    let all = events(body);
    // Assert
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|e| e.event_type == "CallAttempted" && e.attributes["event_type_source"] == "shape"));
    assert_eq!(attr(&all[0], "phone"), "+61491573087");
    assert_eq!(attr(&all[0], "status"), "failed");
    assert_eq!(attr(&all[0], "note"), "invalid phone");
    assert_eq!(attr(&all[0], "correlation_id"), "d07b9760-9c74-4c12-919b-3b88adbf5863");
    assert_eq!(attr(&all[1], "status"), "success");
    assert_ne!(all[0].event_key, all[1].event_key);
    assert!(all.iter().all(|e| e.callback == CallbackDecision::NotDue));
}

#[test]
fn a_call_received_keeps_its_call_type_and_caller() {
    // Arrange
    let body = r#"[
      {"time": "2022-08-31T21:46:58.621Z", "phone": "61491573087", "type": "inbound",
       "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436"},
      {"id": "c2", "eventType": "CallReceived", "createdAt": "2025-08-01T05:00:00Z",
       "data": {"phone": "+91 98765 43210", "type": "outbound-callback", "campaignId": "c-1"}}
    ]"#;
    // Act
    let all = events(body);
    // Assert
    assert_eq!(all[0].event_type, "CallReceived");
    assert_eq!(attr(&all[0], "call_type"), "inbound");
    assert_eq!(attr(&all[0], "phone"), "+61491573087");
    assert_eq!(all[1].event_type, "CallReceived");
    assert_eq!(attr(&all[1], "call_type"), "outbound-callback");
    assert_eq!(attr(&all[1], "phone"), "+919876543210");
    assert_eq!(all[1].occurred_at, Some(at("2025-08-01T05:00:00Z")));
    assert!(all.iter().all(|e| e.callback == CallbackDecision::NotDue));
}

#[test]
fn an_sms_sent_maps_to_to_the_customer_and_keeps_the_length_not_the_text() {
    // Arrange
    let body = r#"[{"id": "s1", "eventType": "SMSSent", "createdAt": "2025-08-01T05:00:00Z",
                    "data": {"time": "2025-08-01T05:00:00Z", "from": "61291234567", "to": "61491570156",
                             "message": "Your appointment is at 10:30 🙂", "campaignId": "c-1"}}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.event_type, "SMSSent");
    assert_eq!(attr(&event, "from"), "+61291234567");
    assert_eq!(attr(&event, "to"), "+61491570156");
    assert_eq!(attr(&event, "customer_phone"), "+61491570156");
    assert_eq!(attr(&event, "business_phone"), "+61291234567");
    assert_eq!(attr(&event, "message_length"), 30);
    assert!(!event.attributes.values().any(|v| v.as_str().is_some_and(|s| s.contains("appointment"))));
    assert_eq!(event.callback, CallbackDecision::NotDue);
}

#[test]
fn an_sms_received_maps_from_to_the_customer() {
    // Arrange
    let body = r#"[{"id": "s2", "eventType": "SMSReceived", "createdAt": "2025-08-01T05:00:00Z",
                    "data": {"from": "919876543210", "to": "918041234567", "message": "STOP"}}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.event_type, "SMSReceived");
    assert_eq!(attr(&event, "customer_phone"), "+919876543210");
    assert_eq!(attr(&event, "business_phone"), "+918041234567");
    assert_eq!(attr(&event, "message_length"), 4);
}

#[test]
fn an_sms_without_event_type_is_stored_as_sms_of_unknown_direction() {
    // Arrange: the documented flat SMS shape, the same for sent and received.
    let body = r#"[{"time": "2022-08-31T21:46:58.621Z", "from": "61491573087", "to": "61491570006",
                    "message": "Message text body", "campaignId": "5dd7681b-2188-49fc-8fc0-87b57056f436"}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.event_type, "SMS");
    assert_eq!(attr(&event, "from"), "+61491573087");
    assert_eq!(attr(&event, "to"), "+61491570006");
    assert!(!event.attributes.contains_key("customer_phone"));
}

#[test]
fn the_query_names_the_type_of_elements_that_do_not() {
    // Arrange
    let body = r#"[{"time": "2022-08-31T21:46:58.621Z", "from": "61491573087", "to": "61491570006", "message": "Hi"},
                   {"eventType": "SMSSent", "time": "2022-08-31T21:47:00Z", "from": "61491570006", "to": "61491573087"}]"#;
    let query = [("eventType".to_owned(), "SMSReceived".to_owned())];
    // Act
    let all: Vec<NormalisedEvent> =
        deliver_with(body, &query).unwrap().into_iter().map(|p| p.outcome.unwrap()).collect();
    // Assert
    assert_eq!(all[0].event_type, "SMSReceived");
    assert_eq!(attr(&all[0], "event_type_source"), "query");
    assert_eq!(attr(&all[0], "customer_phone"), "+61491573087");
    assert_eq!(all[1].event_type, "SMSSent", "the element's own type wins");
}

#[test]
fn event_type_spelling_variants_are_read_as_the_documented_names() {
    // Arrange
    let body = r#"[{"id": "1", "eventType": "callComplete"}, {"id": "2", "event_type": "CALL_ATTEMPTED"},
                   {"id": "3", "EventType": "call-received"}, {"id": "4", "type": "sms_sent"},
                   {"id": "5", "event": "SmsReceived"}, {"id": "6", "eventType": "CallCompleted"}]"#;
    // Act
    let types: Vec<String> = events(body).into_iter().map(|e| e.event_type).collect();
    // Assert
    assert_eq!(types, ["CallComplete", "CallAttempted", "CallReceived", "SMSSent", "SMSReceived", "CallComplete"]);
}

#[test]
fn an_unknown_event_type_is_stored_under_its_own_name_and_never_rejected() {
    // Arrange
    let body = r#"[{"id": "u1", "eventType": "CallTransferred", "createdAt": "2025-08-01T05:00:00Z",
                    "data": {"phone": "61491570156", "requests": ["humanSupportRequest"]}},
                   {"id": {"odd": 1}, "eventType": "RecordingReady", "createdAt": "not a time", "data": "x"}]"#;
    // Act
    let all = events(body);
    // Assert
    assert_eq!(all[0].event_type, "CallTransferred");
    assert_eq!(all[0].callback, CallbackDecision::NotDue);
    assert_eq!(attr(&all[0], "phone"), "+61491570156");
    assert_eq!(all[1].event_type, "RecordingReady");
    assert!(is_hex_sha256(&all[1].event_key));
    assert_eq!(all[1].occurred_at, None);
}

#[test]
fn an_element_of_no_recognisable_shape_is_stored_as_unknown() {
    // Arrange, act
    let event = one(r#"[{"hello": "world"}]"#);
    // Assert
    assert_eq!(event.event_type, "unknown");
    assert_eq!(event.callback, CallbackDecision::NotDue);
}

// --- the human-request rule ------------------------------------------------

#[test]
fn a_call_complete_with_a_human_support_request_gives_a_human_requested_task() {
    // Arrange, act
    let event = events(SEED_CALL_COMPLETE).remove(1);
    // Assert
    let request = event.callback.request().expect("a task is due");
    assert_eq!(request.reason, CallbackReason::HumanRequested);
    assert_eq!(request.phone.as_str(), "+61491573087");
    assert_eq!(request.alternate_phone, None);
    assert_eq!(request.business_phone, None);
    assert_eq!(request.window, None);
    assert_eq!(request.requested_at, at("2022-08-31T21:46:58Z") + chrono::Duration::milliseconds(621));
    assert_eq!(request.context["campaign_id"], "5dd7681b-2188-49fc-8fc0-87b57056f436");
    assert_eq!(request.context["call_result_id"], "94c9dda8-6a72-40d6-ac7e-1de5e4cedc2d");
    assert_eq!(request.context["session_id"], "ef925557-2fd4-4bb0-abee-a13d6b542269");
    assert_eq!(request.context["status"], "Partial");
    assert_eq!(attr(&event, "human_support_requested"), true);
    let task = crate::CallbackTask::for_event(&event).unwrap();
    assert_eq!(task.event_key, "d07b9760-9c74-4c12-919b-3b88adbf5863");
    assert!(task.to_json().contains("\"reason\":\"human_requested\""));
}

#[test]
fn only_the_human_support_request_gives_a_task_in_the_seed_batch() {
    // Arrange, act
    let all = events(SEED_CALL_COMPLETE);
    // Assert
    let due: Vec<bool> = all.iter().map(|e| e.callback.request().is_some()).collect();
    assert_eq!(due, [false, true, false]);
}

#[test]
fn requests_as_objects_or_in_other_spellings_are_recognised() {
    // Arrange
    let body = r#"[
      {"id": "r1", "eventType": "CallComplete", "data": {"phone": "61491570156", "requests": [{"type": "humanSupportRequest"}]}},
      {"id": "r2", "eventType": "CallComplete", "data": {"phone": "61491570156", "requests": [{"name": "human_support_request", "at": 1}]}},
      {"id": "r3", "event_type": "call_complete", "data": {"phone": "61491570156", "requests": "HumanSupportRequest"}},
      {"id": "r4", "eventType": "CallComplete", "data": {"phone": "61491570156", "requests": ["callbackRequest", {"type": "other"}]}},
      {"id": "r5", "eventType": "CallComplete", "data": {"phone": "61491570156", "requests": null}}
    ]"#;
    // Act
    let due: Vec<bool> = events(body).iter().map(|e| e.callback.request().is_some()).collect();
    // Assert
    assert_eq!(due, [true, true, true, false, false]);
}

#[test]
fn the_task_prefers_the_call_end_time_and_takes_a_business_number_when_given() {
    // Arrange
    let body = r#"[{"id": "t1", "eventType": "CallComplete", "createdAt": "2025-08-01T05:10:00Z",
                    "data": {"phone": "9876543210", "businessPhone": "+61 2 9123 4567", "endedTime": "2025-08-01T10:35:00+05:30",
                             "campaignName": "Renewals", "requests": ["humanSupportRequest"]}}]"#;
    // Act
    let event = one(body);
    // Assert
    let request = event.callback.request().unwrap();
    assert_eq!(request.phone.as_str(), "+919876543210");
    assert_eq!(request.business_phone.as_ref().map(PhoneNumber::as_str), Some("+61291234567"));
    assert_eq!(request.requested_at, at("2025-08-01T05:05:00Z"));
    assert_eq!(request.context["campaign_name"], "Renewals");
}

#[test]
fn the_task_falls_back_to_the_received_time_when_the_event_has_none() {
    // Arrange
    let body = r#"[{"id": "t2", "eventType": "CallComplete", "data": {"phone": "61491570156", "requests": ["humanSupportRequest"]}}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.callback.request().unwrap().requested_at, ctx().received_at);
}

#[test]
fn a_human_request_without_a_usable_number_is_unreachable() {
    // Arrange
    let body = r#"[{"id": "n1", "eventType": "CallComplete", "data": {"phone": "", "requests": ["humanSupportRequest"]}},
                   {"id": "n2", "eventType": "CallComplete", "data": {"phone": "anonymous", "requests": ["humanSupportRequest"]}},
                   {"id": "n3", "eventType": "CallComplete", "data": {"phone": "12", "requests": ["humanSupportRequest"]}},
                   {"id": "n4", "eventType": "CallComplete", "data": {"requests": ["humanSupportRequest"]}}]"#;
    // Act
    let all = events(body);
    // Assert
    for event in all {
        assert_eq!(event.callback, CallbackDecision::Unreachable { reason: CallbackReason::HumanRequested });
    }
}

#[test]
fn no_other_event_type_gives_a_task_even_with_a_human_request() {
    // Arrange
    let body = r#"[{"id": "o1", "eventType": "CallAttempted", "data": {"phone": "61491570156", "requests": ["humanSupportRequest"]}},
                   {"id": "o2", "eventType": "CallReceived", "data": {"phone": "61491570156", "requests": ["humanSupportRequest"]}},
                   {"id": "o3", "eventType": "SMSSent", "data": {"to": "61491570156", "requests": ["humanSupportRequest"]}},
                   {"id": "o4", "eventType": "SMSReceived", "data": {"from": "61491570156", "requests": ["humanSupportRequest"]}}]"#;
    // Act
    let all = events(body);
    // Assert
    assert!(all.iter().all(|e| e.callback == CallbackDecision::NotDue));
}

#[test]
fn a_flat_call_complete_without_event_type_still_gives_its_task() {
    // Arrange
    let body = r#"[{"time": "2025-08-01T05:00:00Z", "phone": "61491570156", "status": "Partial",
                    "callResultId": "cr-1", "requests": ["humanSupportRequest"]}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.event_type, "CallComplete");
    assert!(event.callback.request().is_some());
}

// --- leniency --------------------------------------------------------------

#[test]
fn snake_case_keys_numbers_as_strings_and_numbers_as_numbers_are_accepted() {
    // Arrange
    let body = r#"[{"id": "l1", "event_type": "CallComplete", "created_at": 1754024400,
                    "data": {"phone": 61491570156, "campaign_id": "c-9", "call_result_id": "cr-9",
                             "duration": "95", "started_time": "1754024300000", "requests": ["human_support_request"]}}]"#;
    // Act
    let event = one(body);
    // Assert
    assert_eq!(event.occurred_at, Some(at("2025-08-01T05:00:00Z")));
    assert_eq!(attr(&event, "phone"), "+61491570156");
    assert_eq!(attr(&event, "campaign_id"), "c-9");
    assert_eq!(attr(&event, "call_result_id"), "cr-9");
    assert_eq!(attr(&event, "duration_seconds"), 95);
    assert_eq!(attr(&event, "started_at"), "2025-08-01T04:58:20Z");
    assert!(event.callback.request().is_some());
}

#[test]
fn timestamps_with_offsets_without_zone_or_with_a_space_are_read_as_utc() {
    // Arrange
    let times = [
        ("2025-08-01T10:30:00+05:30", "2025-08-01T05:00:00Z"),
        ("2025-08-01T15:00:00+1000", "2025-08-01T05:00:00Z"),
        ("2025-08-01T05:00:00", "2025-08-01T05:00:00Z"),
        ("2025-08-01 05:00:00.250", "2025-08-01T05:00:00Z"),
        ("2025-08-01 05:00:00Z", "2025-08-01T05:00:00Z"),
        ("1754024400", "2025-08-01T05:00:00Z"),
    ];
    for (raw, expected) in times {
        // Act
        let event = one(&format!(r#"[{{"id": "x", "eventType": "SMSSent", "time": "{raw}"}}]"#));
        // Assert
        assert_eq!(event.occurred_at.map(rfc3339).as_deref(), Some(expected), "{raw}");
    }
}

#[test]
fn an_implausible_event_time_is_rejected() {
    // Arrange
    let body = r#"[{"id": "z", "eventType": "CallAttempted", "time": "0001-01-01T00:00:00Z"}]"#;
    // Act
    let parsed = deliver(body).unwrap();
    // Assert
    assert_eq!(parsed[0].outcome.as_ref().unwrap_err().reason, "invalid_timestamp");
}

#[test]
fn a_bad_start_time_is_dropped_and_does_not_lose_the_task() {
    // Arrange
    let body = r#"[{"id": "b1", "eventType": "CallComplete", "createdAt": "2025-08-01T05:00:00Z",
                    "data": {"phone": "61491570156", "startedTime": "yesterday", "requests": ["humanSupportRequest"]}}]"#;
    // Act
    let event = one(body);
    // Assert
    assert!(!event.attributes.contains_key("started_at"));
    assert!(event.callback.request().is_some());
}

#[test]
fn numbers_without_plus_are_read_as_international_when_the_default_region_cannot_hold_them() {
    // Arrange
    let region = PhoneRegion::INDIA;
    // Act, assert
    assert_eq!(phone("61491573087", region).unwrap().as_str(), "+61491573087");
    assert_eq!(phone("919876543210", region).unwrap().as_str(), "+919876543210");
    assert_eq!(phone("9876543210", region).unwrap().as_str(), "+919876543210");
    assert_eq!(phone("09876543210", region).unwrap().as_str(), "+919876543210");
    assert_eq!(phone("+61 491 573 087", region).unwrap().as_str(), "+61491573087");
    let au: PhoneRegion = "AU".parse().unwrap();
    assert_eq!(phone("0491 573 087", au).unwrap().as_str(), "+61491573087");
    assert_eq!(phone("not a number", region), None);
    assert_eq!(phone("14155550100", region).unwrap().as_str(), "+14155550100");
    assert_eq!(phone("+44 7911 123456", region).unwrap().as_str(), "+447911123456");
}

#[test]
fn bare_digits_valid_in_no_reading_are_no_number_rather_than_a_guess() {
    // Arrange: neither an Indian national number nor +61 000 000 000.
    let raw = "61000000000";
    // Act
    let parsed = phone(raw, PhoneRegion::INDIA);
    // Assert
    assert_eq!(parsed, None);
    assert!(PhoneNumber::parse(raw, PhoneRegion::INDIA).is_ok(), "the shared parser alone would accept it");
}

// --- decode errors -----------------------------------------------------------

#[test]
fn the_seed_typos_are_not_json_and_the_whole_delivery_is_refused() {
    // Arrange: a missing comma, then a trailing comma, as in the seed.
    let missing_comma = r#"[{"id": "a", "data": {"response": "Other" "transcript": "x"}}]"#;
    let trailing_comma = r#"[{"time": "2022-08-31T21:46:58.621Z", "campaignId": "c",}]"#;
    // Act, assert
    assert!(matches!(deliver(missing_comma), Err(DecodeError::NotJson(_))));
    assert!(matches!(deliver(trailing_comma), Err(DecodeError::NotJson(_))));
    assert!(matches!(deliver("[{\"id\": \"a\"}"), Err(DecodeError::NotJson(_))));
    assert!(matches!(deliver("{\"id\": \"a\"} trailing"), Err(DecodeError::NotJson(_))));
}

#[test]
fn a_body_that_is_neither_an_array_nor_an_object_has_the_wrong_shape() {
    // Arrange, act, assert
    for body in ["\"CallComplete\"", "42", "null", "true"] {
        assert!(matches!(deliver(body), Err(DecodeError::WrongShape(_))), "{body}");
    }
    assert!(matches!(deliver("hello"), Err(DecodeError::NotJson(_))));
    assert!(matches!(deliver("   "), Err(DecodeError::NotJson(_))));
}

#[test]
fn a_decode_error_does_not_echo_the_body() {
    // Arrange
    let body = "[{\"phone\": \"61491570156\" \"x\": 1}]";
    // Act
    let err = deliver(body).unwrap_err();
    // Assert
    assert!(!err.to_string().contains("491570156"), "{err}");
}

#[test]
fn only_json_posts_are_accepted() {
    // Arrange
    let get = Delivery {
        method: "GET",
        path: "/webhooks/curious-thing",
        trigger: None,
        query: &[],
        content_type: None,
        body: b"[]",
    };
    let form = Delivery { method: "POST", content_type: Some("application/x-www-form-urlencoded"), ..get };
    // Act, assert
    assert!(matches!(CuriousThing.parse(&get, &ctx()), Err(DecodeError::MethodNotAllowed(_))));
    assert!(matches!(CuriousThing.parse(&form, &ctx()), Err(DecodeError::UnsupportedContentType(_))));
    assert_eq!(CuriousThing.provider(), Provider::CuriousThing);
}

#[test]
fn a_body_that_is_not_utf8_is_refused() {
    // Arrange
    let delivery = Delivery {
        method: "POST",
        path: "/webhooks/curious-thing",
        trigger: None,
        query: &[],
        content_type: Some("application/json"),
        body: &[b'[', 0xff, b']'],
    };
    // Act, assert
    assert_eq!(CuriousThing.parse(&delivery, &ctx()), Err(DecodeError::NotUtf8));
}

// --- recorded events ---------------------------------------------------------
/// What one recorded request parses to: events, rejections, keys and tasks.
struct Recorded {
    events: Vec<ParsedEvent>,
}

impl Recorded {
    fn load(name: &str) -> Result<Self, DecodeError> {
        let path = format!("{}/../../events/curious-thing/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let request: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(request["rawPath"], "/webhooks/curious-thing");
        assert_eq!(request["isBase64Encoded"], false);
        let query: Vec<(String, String)> =
            form_urlencoded::parse(request["rawQueryString"].as_str().unwrap().as_bytes())
                .filter(|(k, _)| k != "key")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let delivery = Delivery {
            method: request["requestContext"]["http"]["method"].as_str().unwrap(),
            path: "/webhooks/curious-thing",
            trigger: None,
            query: &query,
            content_type: request["headers"]["content-type"].as_str(),
            body: request["body"].as_str().unwrap().as_bytes(),
        };
        let received_at = Utc.timestamp_millis_opt(request["requestContext"]["timeEpoch"].as_i64().unwrap()).unwrap();
        let ctx = ParseContext::new(received_at);
        CuriousThing.parse(&delivery, &ctx).map(|events| Self { events })
    }

    fn ok(&self) -> Vec<&NormalisedEvent> {
        self.events.iter().filter_map(|e| e.outcome.as_ref().ok()).collect()
    }

    fn keys(&self) -> Vec<&str> {
        self.ok().into_iter().map(|e| e.event_key.as_str()).collect()
    }

    fn types(&self) -> Vec<&str> {
        self.ok().into_iter().map(|e| e.event_type.as_str()).collect()
    }

    fn tasks(&self) -> usize {
        self.ok().into_iter().filter(|e| e.callback.request().is_some()).count()
    }
}

#[test]
fn each_recorded_single_type_event_parses_to_its_type_without_a_task() {
    // Arrange
    let cases = [
        ("call-complete", "CallComplete"),
        ("call-attempted", "CallAttempted"),
        ("call-received", "CallReceived"),
        ("sms-sent", "SMSSent"),
        ("sms-received", "SMSReceived"),
    ];
    for (name, event_type) in cases {
        // Act
        let recorded = Recorded::load(name).unwrap();
        // Assert
        assert_eq!(recorded.types(), [event_type], "{name}");
        assert_eq!(recorded.tasks(), 0, "{name}");
        assert!(recorded.ok()[0].occurred_at.is_some(), "{name}");
    }
}

#[test]
fn the_recorded_mixed_batch_has_all_five_types_in_order() {
    // Arrange, act
    let recorded = Recorded::load("mixed-batch").unwrap();
    // Assert
    assert_eq!(recorded.types(), ["CallAttempted", "CallComplete", "SMSSent", "SMSReceived", "CallReceived"]);
    assert_eq!(recorded.tasks(), 0);
}

#[test]
fn the_recorded_human_request_and_single_object_give_the_same_one_task() {
    // Arrange, act
    let batch = Recorded::load("call-complete-human-requested").unwrap();
    let single = Recorded::load("single-object").unwrap();
    // Assert
    for recorded in [&batch, &single] {
        assert_eq!(recorded.tasks(), 1);
        let request = recorded.ok()[0].callback.request().unwrap();
        assert_eq!(request.reason, CallbackReason::HumanRequested);
        assert_eq!(request.phone.as_str(), "+919876543210");
    }
    assert_eq!(batch.keys(), single.keys());
}

#[test]
fn the_recorded_id_less_elements_are_keyed_on_their_content() {
    // Arrange, act
    let recorded = Recorded::load("element-without-id").unwrap();
    // Assert
    assert_eq!(recorded.types(), ["CallAttempted", "CallAttempted"]);
    assert!(recorded.ok().iter().all(|e| is_hex_sha256(&e.event_key)));
}

#[test]
fn the_recorded_batch_with_one_invalid_element_rejects_only_that_element() {
    // Arrange, act
    let recorded = Recorded::load("batch-with-invalid-element").unwrap();
    // Assert
    let reasons: Vec<Option<&str>> =
        recorded.events.iter().map(|e| e.outcome.as_ref().err().map(|r| r.reason)).collect();
    assert_eq!(reasons, [None, Some("invalid_timestamp"), None]);
}

#[test]
fn the_recorded_partial_redelivery_repeats_earlier_keys_and_adds_new_ones() {
    // Arrange
    let earlier: Vec<String> = ["mixed-batch", "element-without-id"]
        .iter()
        .flat_map(|name| Recorded::load(name).unwrap().keys().into_iter().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    // Act
    let redelivery = Recorded::load("partial-redelivery").unwrap();
    // Assert
    let repeated: Vec<bool> = redelivery.keys().iter().map(|k| earlier.iter().any(|e| e == k)).collect();
    assert_eq!(repeated, [true, true, false, false]);
}

#[test]
fn the_recorded_malformed_body_is_not_json_and_token_cases_still_parse() {
    // Arrange, act, assert: tokens are the pipeline's concern, not the parser's.
    assert!(matches!(Recorded::load("malformed-body"), Err(DecodeError::NotJson(_))));
    assert_eq!(Recorded::load("missing-token").unwrap().types(), ["CallComplete"]);
    assert_eq!(Recorded::load("wrong-token").unwrap().types(), ["CallComplete"]);
}

#[test]
fn members_read_in_one_pass_are_found_as_in_the_objects_map_with_nulls_left_out() {
    for body in [
        r#"{"created_at": "b", "createdAt": "a"}"#,
        r#"{"createdAt": null, "created_at": "b"}"#,
        r#"{"CreatedAt": "x", "createdAt": "y", "created_at": null}"#,
        r#"{"id": 1, "id": null, "eventId": "e"}"#,
        r#"{"id": null, "id": 2, "event_id": 3}"#,
        r#"{"status": "s", "Status": "S", "STATUS": "T", "status": "last", "st\u0061tus": "escaped"}"#,
        r#"{"Ph\u00f6ne": "x", "phone": " 1 ", "requests": ["a"], "flow": [1, 2], "data": {"phone": 2}}"#,
    ] {
        let value: Value = serde_json::from_str(body).unwrap();
        let old = FoldedObject::new(value.as_object().unwrap());
        let Ok(Element::Object(new)) = read(body) else { panic!("{body} is an object") };
        for (slot, name) in NAMES.iter().enumerate() {
            let want = old.lookup(&[name]).and_then(scalar_text);
            let got = new.slot(slot).and_then(member_text);
            assert_eq!(got, want, "{body}: {name}");
            assert_eq!(new.slot(slot).is_some(), old.lookup(&[name]).is_some(), "{body}: {name}");
        }
    }
}

#[test]
fn folding_an_ascii_name_gives_what_the_unicode_fold_gives() {
    let unicode = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    for name in ["CallComplete", "call_complete", "CALL-COMPLETE", " SMS Sent 2 ", "", "-_-", "Human\u{00e9}Support"] {
        assert_eq!(fold(name), unicode(name), "{name}");
    }
    let all_ascii: String = (0u8..128).map(char::from).collect();
    assert_eq!(fold(&all_ascii), unicode(&all_ascii));
}
