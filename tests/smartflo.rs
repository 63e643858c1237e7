//! Smartflo end to end: recorded GET, JSON and form deliveries on every
//! trigger through the real pipeline, against moto's DynamoDB and SQS.

use e2e::{Pk, Recorded, Stack, deliver, fixture, fixture_body, fixture_with, replay_recorded, sha256_hex};
use futures::future::join_all;
use payloads::providers::Smartflo;
use payloads::providers::smartflo::TRIGGERS;
use serde_json::{Value, json};

const MISSED: &str = "smartflo/call-hangup-missed.json";
const MISSED_PK: &str = "smartflo#call-hangup-missed#1754036781.4471935";
const CUSTOMER: &str = "+919876543210";

const RECORDED: &[Recorded] = &[
    Recorded {
        name: "call-answered-by-agent-hangup",
        status: 200,
        records: &[(Pk::Key("smartflo#call-answered-by-agent-hangup#1754037125.4472310"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-answered-by-agent",
        status: 200,
        records: &[(Pk::Key("smartflo#call-answered-by-agent#1754037125.4472310"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-answered-by-customer-click-to-call",
        status: 200,
        records: &[(Pk::Key("smartflo#call-answered-by-customer-click-to-call#1754037574.4473102"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-answered-on-ivr",
        status: 200,
        records: &[(Pk::Key("smartflo#call-answered-on-ivr#1754036781.4471935"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-connected-to-agent-dialer",
        status: 200,
        records: &[(Pk::Key("smartflo#call-connected-to-agent-dialer#1754038012.4473820"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-hangup-answered",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-answered#1754037125.4472310"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-hangup-missed-camel-case-keys",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038752.4475080"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-dollar-keys",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038690.4474955"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-form-body",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038455.4474560"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-form-fields-in-query-on-post",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038510.4474671"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-get-query",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038377.4474415"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-iso-timestamps",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038901.4475330"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-json-without-content-type",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038601.4474802"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-redelivery",
        status: 200,
        records: &[(Pk::Key(MISSED_PK), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-status-noanswer",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup#1754038999.4475502"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed-unfilled-variables",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup-missed#1754038835.4475211"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-missed",
        status: 200,
        records: &[(Pk::Key(MISSED_PK), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-hangup-status-answered",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup#1754037125.4472310"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-hangup",
        status: 200,
        records: &[(Pk::Key("smartflo#call-hangup#1754036781.4471935"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-missed-by-agent-hangup-unreachable",
        status: 200,
        records: &[(Pk::Key("smartflo#call-missed-by-agent-hangup#1754039184.4475850"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-missed-by-agent-hangup",
        status: 200,
        records: &[(Pk::Key("smartflo#call-missed-by-agent-hangup#1754036781.4471935"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-missed-by-customer-click-to-call-relay-wrapper",
        status: 200,
        records: &[(Pk::Key("smartflo#call-missed-by-customer-click-to-call#1754039093.4475688"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-missed-by-customer-click-to-call",
        status: 200,
        records: &[(Pk::Key("smartflo#call-missed-by-customer-click-to-call#1754037754.4473391"), "task_enqueued")],
        tasks: &[CUSTOMER],
    },
    Recorded {
        name: "call-received-on-auto-attendant",
        status: 200,
        records: &[(Pk::Key("smartflo#call-received-on-auto-attendant#1754037251.4472544"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-received-on-department",
        status: 200,
        records: &[(Pk::Key("smartflo#call-received-on-department#1754036781.4471935"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "call-received-on-server",
        status: 200,
        records: &[(Pk::Key("smartflo#call-received-on-server#1754036781.4471935"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "dialed-on-agent",
        status: 200,
        records: &[(Pk::Key("smartflo#dialed-on-agent#1754036781.4471935"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "disposition-status-updated-dialer",
        status: 200,
        records: &[(Pk::Key("smartflo#disposition-status-updated-dialer#1754038012.4473820"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "dtmf-option-digits-array",
        status: 200,
        records: &[(Pk::Key("smartflo#dtmf-option#1754036781.4471935#1#2025-08-01T08:26:27Z"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "dtmf-option",
        status: 200,
        records: &[(Pk::Key("smartflo#dtmf-option#1754036781.4471935#2#2025-08-01T08:26:30Z"), "stored")],
        tasks: &[],
    },
    Recorded { name: "invalid-timestamp", status: 422, records: &[(Pk::RejectedBody, "rejected")], tasks: &[] },
    Recorded { name: "malformed-form", status: 400, records: &[], tasks: &[] },
    Recorded { name: "malformed-json", status: 400, records: &[], tasks: &[] },
    Recorded { name: "missing-call-id", status: 422, records: &[(Pk::RejectedBody, "rejected")], tasks: &[] },
    Recorded { name: "missing-token", status: 401, records: &[], tasks: &[] },
    Recorded { name: "unknown-trigger", status: 404, records: &[], tasks: &[] },
    Recorded { name: "unsupported-content-type", status: 415, records: &[], tasks: &[] },
    Recorded { name: "wrong-token", status: 401, records: &[], tasks: &[] },
];

#[tokio::test(flavor = "multi_thread")]
async fn every_recorded_event_is_answered_stored_and_queued_as_the_contract_says() {
    replay_recorded("smartflo", Smartflo, RECORDED).await;
}

/// A recorded POST delivery moved to another trigger's route.
fn on_trigger(relative: &str, trigger: &str, body: Option<String>) -> pipeline::ApiGatewayRequest {
    let trigger = trigger.to_owned();
    fixture_with(relative, move |event| {
        let path = format!("/webhooks/smartflo/{trigger}");
        event["rawPath"] = path.clone().into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"]["trigger"] = trigger.into();
        if let Some(body) = body {
            event["body"] = body.into();
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_trigger_is_stored_once_and_only_the_missed_ones_queue_a_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);
    let mut body: Value = serde_json::from_str(&fixture_body(MISSED)).unwrap();
    body["digit_pressed"] = "3".into();
    let body = body.to_string();
    let missed =
        ["call-hangup-missed", "call-hangup", "call-missed-by-agent-hangup", "call-missed-by-customer-click-to-call"];

    let mut first = Vec::new();
    for trigger in TRIGGERS {
        first.push(deliver(&pipeline, on_trigger(MISSED, trigger, Some(body.clone()))).await);
    }
    let mut again = Vec::new();
    for trigger in TRIGGERS {
        again.push(deliver(&pipeline, on_trigger(MISSED, trigger, Some(body.clone()))).await);
    }

    for (trigger, answer) in TRIGGERS.iter().zip(&first) {
        assert_eq!(answer.status, 200, "{trigger}: {}", answer.body);
        assert_eq!(answer.outcomes(), ["stored"], "{trigger}");
        assert_eq!(answer.body["events"][0]["event_type"], *trigger);
        assert_eq!(answer.body["events"][0].get("task_id").is_some(), missed.contains(trigger), "{trigger}");
    }
    for (trigger, answer) in TRIGGERS.iter().zip(&again) {
        assert_eq!(answer.status, 200, "{trigger}: {}", answer.body);
        assert_eq!(answer.outcomes(), ["duplicate"], "{trigger}");
    }
    let items = stack.items().await;
    assert_eq!(items.len(), 16);
    for trigger in TRIGGERS {
        let pk = if trigger == "dtmf-option" {
            "smartflo#dtmf-option#1754036781.4471935#3#2025-08-01T08:26:21Z".to_owned()
        } else {
            format!("smartflo#{trigger}#1754036781.4471935")
        };
        let item = items.iter().find(|i| i["pk"] == pk.as_str()).unwrap_or_else(|| panic!("{pk} stored"));
        assert_eq!(item["event_type"], trigger);
        let status = if missed.contains(&trigger) { "task_enqueued" } else { "stored" };
        assert_eq!(item["status"], status, "{trigger}");
    }
    let messages = stack.messages().await;
    let mut reasons: Vec<(&str, &str, &str)> = messages
        .iter()
        .map(|m| {
            (m["context"]["trigger"].as_str().unwrap(), m["reason"].as_str().unwrap(), m["phone"].as_str().unwrap())
        })
        .collect();
    reasons.sort_unstable();
    let mut expected: Vec<(&str, &str, &str)> = missed.iter().map(|t| (*t, "missed_call", CUSTOMER)).collect();
    expected.sort_unstable();
    assert_eq!(reasons, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_call_posted_as_json_queues_one_missed_call_task_for_the_customer() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let answer = deliver(&pipeline, fixture(MISSED)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    let item = stack.item(MISSED_PK).await.expect("record stored");
    assert_eq!(item["status"], "task_enqueued");
    assert_eq!(item["event_type"], "call-hangup-missed");
    assert_eq!(item["raw_body"].as_str(), Some(fixture_body(MISSED).as_str()));
    // Zone-less India times, stored as UTC; a hangup happened at its end.
    assert_eq!(item["occurred_at"], "2025-08-01T08:28:44Z");
    let attributes = &item["event"]["attributes"];
    assert_eq!(attributes["start_time"], "2025-08-01T08:26:21Z");
    assert_eq!(attributes["end_time"], "2025-08-01T08:28:44Z");
    assert_eq!(attributes["customer_number"], CUSTOMER);
    assert_eq!(attributes["business_number"], "+918069010148");
    assert_eq!(attributes["missed"], true);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let task = &messages[0];
    assert_eq!(task["schema"], "callback-request/v1");
    assert_eq!(task["provider"], "smartflo");
    assert_eq!(task["event_key"], "call-hangup-missed#1754036781.4471935");
    assert_eq!(task["reason"], "missed_call");
    assert_eq!(task["phone"], CUSTOMER);
    assert_eq!(task["business_phone"], "+918069010148");
    assert_eq!(task["window"], Value::Null);
    assert_eq!(task["requested_at"], "2025-08-01T08:26:21Z");
    assert_eq!(
        task["context"],
        json!({
            "trigger": "call-hangup-missed",
            "call_id": "1754036781.4471935",
            "direction": "inbound",
            "call_status": "missed",
            "agent_name": "Priya Sharma",
        })
    );
    assert_eq!(task["task_id"], item["task_id"]);
    assert_eq!(task["_group"], CUSTOMER);
    assert_eq!(task["_dedup"], task["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_missed_call_is_a_duplicate_with_one_record_and_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let first = deliver(&pipeline, fixture(MISSED)).await;
    let second = deliver(&pipeline, fixture("smartflo/call-hangup-missed-redelivery.json")).await;

    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.outcomes(), ["duplicate"]);
    assert_eq!(second.body["events"][0]["task_id"], first.body["events"][0]["task_id"]);
    assert_eq!(second.metrics.payload_conflicts, 0);
    assert_eq!(stack.items().await.len(), 1);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_missed_call_trigger_and_its_redelivery_give_exactly_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);
    let files = [
        "call-hangup-missed",
        "call-hangup",
        "call-hangup-missed-status-noanswer",
        "call-missed-by-agent-hangup",
        "call-missed-by-customer-click-to-call",
        "call-missed-by-customer-click-to-call-relay-wrapper",
    ];

    for file in files {
        let first = deliver(&pipeline, fixture(&format!("smartflo/{file}.json"))).await;
        let again = deliver(&pipeline, fixture(&format!("smartflo/{file}.json"))).await;
        assert_eq!(first.outcomes(), ["stored"], "{file}");
        assert_eq!(again.outcomes(), ["duplicate"], "{file}");
        assert_eq!(again.body["events"][0]["task_id"], first.body["events"][0]["task_id"], "{file}");
    }

    assert_eq!(stack.items().await.len(), files.len());
    let messages = stack.messages().await;
    assert_eq!(messages.len(), files.len(), "{messages:#?}");
    assert!(messages.iter().all(|m| m["phone"] == CUSTOMER && m["reason"] == "missed_call"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hangup_gives_a_task_only_when_its_status_says_missed() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let missed = deliver(&pipeline, fixture("smartflo/call-hangup.json")).await;
    let answered = deliver(&pipeline, fixture("smartflo/call-hangup-status-answered.json")).await;

    assert_eq!(missed.status, 200, "{}", missed.body);
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(answered.body["events"][0].get("task_id").is_none());
    let answered_item = stack.item("smartflo#call-hangup#1754037125.4472310").await.unwrap();
    assert_eq!(answered_item["status"], "stored");
    assert_eq!(answered_item["event"]["attributes"]["missed"], false);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["event_key"], "call-hangup#1754036781.4471935");
    assert_eq!(messages[0]["phone"], CUSTOMER);
    assert_eq!(messages[0]["context"]["call_status"], "Missed");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_get_delivery_is_read_from_the_query_and_stored_without_the_token() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);
    let relative = "smartflo/call-hangup-missed-get-query.json";

    let answer = deliver(&pipeline, fixture(relative)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = stack.item("smartflo#call-hangup-missed#1754038377.4474415").await.unwrap();
    let raw = item["raw_body"].as_str().unwrap();
    assert!(!raw.contains("dev-token"), "{raw}");
    assert!(raw.contains("call_id=1754038377.4474415"), "{raw}");
    assert!(raw.contains("call_status=missed"), "{raw}");
    assert_eq!(item["occurred_at"], "2025-08-01T08:53:31Z");
    assert_eq!(item["event"]["attributes"]["uuid"], "688c8069d2e55");
    assert_eq!(item["event"]["attributes"]["direction"], "inbound");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], CUSTOMER);
    assert_eq!(messages[0]["business_phone"], "+918069010148");
    assert_eq!(messages[0]["requested_at"], "2025-08-01T08:52:57Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_post_is_decoded_and_kept_verbatim() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);
    let relative = "smartflo/call-hangup-missed-form-body.json";

    let answer = deliver(&pipeline, fixture(relative)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = stack.item("smartflo#call-hangup-missed#1754038455.4474560").await.unwrap();
    assert_eq!(item["raw_body"].as_str(), Some(fixture_body(relative).as_str()));
    assert_eq!(item["payload_sha256"].as_str(), Some(sha256_hex(fixture_body(relative).as_bytes()).as_str()));
    let attributes = &item["event"]["attributes"];
    assert_eq!(attributes["caller_id_number"], CUSTOMER);
    assert_eq!(attributes["start_time"], "2025-08-01T08:54:15Z");
    assert_eq!(attributes["hangup_cause"], "ORIGINATOR_CANCEL");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], CUSTOMER);
}

#[tokio::test(flavor = "multi_thread")]
async fn unfilled_template_variables_count_as_absent() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let answer = deliver(&pipeline, fixture("smartflo/call-hangup-missed-unfilled-variables.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = stack.item("smartflo#call-hangup-missed#1754038835.4475211").await.unwrap();
    let attributes = item["event"]["attributes"].as_object().unwrap();
    for absent in ["answer_time", "recording_url", "agent_name", "agent_number", "telecom_operator", "telecom_circle"] {
        assert!(!attributes.contains_key(absent), "{absent}: {:?}", attributes.get(absent));
    }
    assert!(!item["event"].to_string().contains('$'), "{}", item["event"]);
    // `$customer_no_with_prefix` and "" are no number: the caller is the customer.
    assert_eq!(attributes["customer_number"], CUSTOMER);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], CUSTOMER);
}

#[tokio::test(flavor = "multi_thread")]
async fn timestamps_with_a_zone_or_as_epoch_seconds_are_stored_as_utc() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let answer = deliver(&pipeline, fixture("smartflo/call-hangup-missed-iso-timestamps.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = stack.item("smartflo#call-hangup-missed#1754038901.4475330").await.unwrap();
    assert_eq!(item["event"]["attributes"]["start_time"], "2025-08-01T09:01:41Z");
    assert_eq!(item["event"]["attributes"]["end_time"], "2025-08-01T09:02:10Z");
    assert_eq!(item["occurred_at"], "2025-08-01T09:02:10Z");
    let messages = stack.messages().await;
    assert_eq!(messages[0]["requested_at"], "2025-08-01T09:01:41Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_call_without_a_reachable_number_is_stored_and_counted_without_a_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let answer = deliver(&pipeline, fixture("smartflo/call-missed-by-agent-hangup-unreachable.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.metrics.unreachable_callbacks, 1);
    let item = stack.item("smartflo#call-missed-by-agent-hangup#1754039184.4475850").await.unwrap();
    assert_eq!(item["status"], "stored");
    assert_eq!(item["event"]["callback"], "missed_call:unreachable");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_trigger_is_404_and_an_unsupported_content_type_415_with_nothing_stored() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let unknown = deliver(&pipeline, fixture("smartflo/unknown-trigger.json")).await;
    let multipart = deliver(&pipeline, fixture("smartflo/unsupported-content-type.json")).await;

    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.body["error"], "not_found");
    assert_eq!(multipart.status, 415, "{}", multipart.body);
    assert_eq!(multipart.body["error"], "unsupported_media_type");
    assert!(stack.items().await.is_empty());
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_delivery_is_answered_422_and_kept_as_a_rejected_record() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Smartflo);

    let bad_time = deliver(&pipeline, fixture("smartflo/invalid-timestamp.json")).await;
    let no_id = deliver(&pipeline, fixture("smartflo/missing-call-id.json")).await;

    assert_eq!(bad_time.status, 422, "{}", bad_time.body);
    assert_eq!(no_id.status, 422, "{}", no_id.body);
    for (file, reason) in [("invalid-timestamp", "invalid_timestamp"), ("missing-call-id", "missing_call_id")] {
        let body = fixture_body(&format!("smartflo/{file}.json"));
        let item = stack.item(&format!("smartflo#rejected#{}", sha256_hex(body.as_bytes()))).await.expect(file);
        assert_eq!(item["reason"], reason);
        assert_eq!(item["event_type"], "call-hangup-missed");
        assert_eq!(item["raw_body"].as_str(), Some(body.as_str()));
    }
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_deliveries_of_one_missed_call_on_several_instances_give_one_record_and_one_task() {
    let stack = Stack::new().await;
    let pipelines: Vec<_> = (0..4).map(|_| stack.pipeline(Smartflo)).collect();

    let answers = join_all((0..20).map(|i| deliver(&pipelines[i % pipelines.len()], fixture(MISSED)))).await;

    assert!(answers.iter().all(|a| a.status == 200), "{:?}", answers.iter().map(|a| &a.body).collect::<Vec<_>>());
    let outcomes: Vec<String> = answers.iter().flat_map(|a| a.outcomes()).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "stored").count(), 1, "{outcomes:?}");
    let items = stack.items().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "task_enqueued");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["task_id"], items[0]["task_id"]);
}
