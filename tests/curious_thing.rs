//! Curious Thing end to end: recorded batches through the real pipeline,
//! against moto's DynamoDB and SQS.

use e2e::{
    FaultProxy, Mode, Pk, Recorded, Stack, deliver, fixture, fixture_body, fixture_elements, fixture_with,
    replay_recorded, sdk_config, sha256_hex,
};
use futures::future::join_all;
use payloads::providers::CuriousThing;
use serde_json::{Value, json};

const HUMAN: &str = "curious-thing/call-complete-human-requested.json";
const HUMAN_PK: &str = "curious-thing#a4b5c6d7-e8f9-4a0b-8c1d-2e3f4a5b6c7d";
/// Content key of the first (id-less) element of `element-without-id.json`.
const IDLESS_KEY: &str = "e04405d6eebf8a7ccb7030f84d7fa4945a08dcc5df6dc9185f43f1fb57584c09";

const ATTEMPTED_PK: &str = "curious-thing#3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7";
const ATTEMPTED: Pk = Pk::Key(ATTEMPTED_PK);
const COMPLETE: Pk = Pk::Key("curious-thing#7f3c9a1e-2b4d-4e8f-9a6b-1c2d3e4f5a6b");
const SMS_SENT: Pk = Pk::Key("curious-thing#6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f");
const SMS_RECEIVED: Pk = Pk::Key("curious-thing#7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a");
const RECEIVED: Pk = Pk::Key("curious-thing#5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e");
const HUMAN_REQUEST: Pk = Pk::Key(HUMAN_PK);

const RECORDED: &[Recorded] = &[
    Recorded {
        name: "batch-with-invalid-element",
        status: 200,
        records: &[(ATTEMPTED, "stored"), (Pk::RejectedElement(1), "rejected"), (SMS_RECEIVED, "stored")],
        tasks: &[],
    },
    Recorded { name: "call-attempted", status: 200, records: &[(ATTEMPTED, "stored")], tasks: &[] },
    Recorded {
        name: "call-complete-human-requested",
        status: 200,
        records: &[(HUMAN_REQUEST, "task_enqueued")],
        tasks: &["+919876543210"],
    },
    Recorded { name: "call-complete", status: 200, records: &[(COMPLETE, "stored")], tasks: &[] },
    Recorded { name: "call-received", status: 200, records: &[(RECEIVED, "stored")], tasks: &[] },
    Recorded {
        name: "element-without-id",
        status: 200,
        records: &[
            (Pk::Key("curious-thing#e04405d6eebf8a7ccb7030f84d7fa4945a08dcc5df6dc9185f43f1fb57584c09"), "stored"),
            (Pk::Key("curious-thing#d868b65ac0b21a97aa8e982c57164711c0496d59ca5c52209bd514cf790098bf"), "stored"),
        ],
        tasks: &[],
    },
    Recorded { name: "malformed-body", status: 400, records: &[], tasks: &[] },
    Recorded { name: "missing-token", status: 401, records: &[], tasks: &[] },
    Recorded {
        name: "mixed-batch",
        status: 200,
        records: &[
            (ATTEMPTED, "stored"),
            (COMPLETE, "stored"),
            (SMS_SENT, "stored"),
            (SMS_RECEIVED, "stored"),
            (RECEIVED, "stored"),
        ],
        tasks: &[],
    },
    Recorded {
        name: "partial-redelivery",
        status: 200,
        records: &[
            (SMS_SENT, "stored"),
            (Pk::Key("curious-thing#e04405d6eebf8a7ccb7030f84d7fa4945a08dcc5df6dc9185f43f1fb57584c09"), "stored"),
            (Pk::Key("curious-thing#9f0a1b2c-3d4e-4f5a-8b6c-7d8e9f0a1b2c"), "stored"),
            (Pk::Key("curious-thing#0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d"), "stored"),
        ],
        tasks: &[],
    },
    Recorded {
        name: "single-object",
        status: 200,
        records: &[(HUMAN_REQUEST, "task_enqueued")],
        tasks: &["+919876543210"],
    },
    Recorded { name: "sms-received", status: 200, records: &[(SMS_RECEIVED, "stored")], tasks: &[] },
    Recorded { name: "sms-sent", status: 200, records: &[(SMS_SENT, "stored")], tasks: &[] },
    Recorded { name: "wrong-token", status: 401, records: &[], tasks: &[] },
];

#[tokio::test(flavor = "multi_thread")]
async fn every_recorded_event_is_answered_stored_and_queued_as_the_contract_says() {
    replay_recorded("curious-thing", CuriousThing, RECORDED).await;
}

/// The human-request element of the recorded event, with its own id and the
/// contact's number changed.
fn human_request(id: &str, phone: &str) -> Value {
    let mut element = serde_json::from_str::<Value>(&fixture_body(HUMAN)).unwrap()[0].clone();
    element["id"] = id.into();
    element["data"]["phone"] = phone.into();
    element
}

/// The recorded human-request delivery with `elements` as its body.
fn batch(elements: &[Value]) -> pipeline::ApiGatewayRequest {
    let body = Value::Array(elements.to_vec()).to_string();
    fixture_with(HUMAN, move |event| event["body"] = body.into())
}

fn sms_sent() -> Value {
    serde_json::from_str::<Value>(&fixture_body("curious-thing/sms-sent.json")).unwrap()[0].clone()
}

fn human_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn human_phone(n: usize) -> String {
    format!("9198765432{:02}", 10 + n)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_type_of_a_batch_is_stored_once_under_its_own_key_and_type() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);
    let elements = fixture_elements("curious-thing/mixed-batch.json");

    let first = deliver(&pipeline, fixture("curious-thing/mixed-batch.json")).await;
    let again = deliver(&pipeline, fixture("curious-thing/mixed-batch.json")).await;

    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.outcomes(), ["stored"; 5]);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.outcomes(), ["duplicate"; 5]);
    assert_eq!(again.metrics.payload_conflicts, 0);
    let items = stack.items().await;
    assert_eq!(items.len(), 5);
    let expected = [
        ("3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7", "CallAttempted", "2025-08-01T05:08:58Z"),
        ("7f3c9a1e-2b4d-4e8f-9a6b-1c2d3e4f5a6b", "CallComplete", "2025-08-01T05:12:41Z"),
        ("6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f", "SMSSent", "2025-08-01T05:13:02Z"),
        ("7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", "SMSReceived", "2025-08-01T05:14:30Z"),
        ("5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", "CallReceived", "2025-08-01T05:30:15Z"),
    ];
    for (i, (id, event_type, occurred_at)) in expected.into_iter().enumerate() {
        let item = stack.item(&format!("curious-thing#{id}")).await.unwrap_or_else(|| panic!("{event_type} stored"));
        assert_eq!(item["event_type"], event_type);
        assert_eq!(item["status"], "stored", "{event_type}");
        assert_eq!(item["occurred_at"], occurred_at, "{event_type}");
        assert_eq!(item["raw_body"].as_str(), Some(elements[i].as_str()), "{event_type}: raw is the element");
        assert_eq!(item["payload_sha256"].as_str(), Some(sha256_hex(elements[i].as_bytes()).as_str()));
        assert_eq!(first.body["events"][i]["event_key"], id, "outcomes in batch order");
    }
    let sms_received = stack.item("curious-thing#7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a").await.unwrap();
    assert_eq!(sms_received["event"]["attributes"]["customer_phone"], "+61491570156");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_human_request_queues_one_human_requested_task_for_the_contacts_number() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    let answer = deliver(&pipeline, fixture(HUMAN)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    let item = stack.item(HUMAN_PK).await.expect("record stored");
    assert_eq!(item["status"], "task_enqueued");
    assert_eq!(item["event_type"], "CallComplete");
    assert_eq!(item["event"]["attributes"]["human_support_requested"], true);
    assert_eq!(item["event"]["callback"], "human_requested");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let task = &messages[0];
    assert_eq!(task["schema"], "callback-request/v1");
    assert_eq!(task["provider"], "curious-thing");
    assert_eq!(task["event_key"], "a4b5c6d7-e8f9-4a0b-8c1d-2e3f4a5b6c7d");
    assert_eq!(task["reason"], "human_requested");
    assert_eq!(task["phone"], "+919876543210");
    assert_eq!(task["alternate_phone"], Value::Null);
    assert_eq!(task["business_phone"], Value::Null);
    assert_eq!(task["window"], Value::Null);
    assert_eq!(task["requested_at"], "2025-08-01T05:20:07Z");
    assert_eq!(
        task["context"],
        json!({
            "campaign_id": "5dd7681b-2188-49fc-8fc0-87b57056f436",
            "call_result_id": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "session_id": "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e0f",
            "correlation_id": "1d9f7b3a-6e2c-4f8a-b0d4-3c5e7a9b1f20",
            "contact_name": "Arjun Mehta",
            "status": "Partial",
            "last_step_name": "Renewal amount?",
        })
    );
    assert_eq!(task["task_id"], item["task_id"]);
    assert_eq!(task["task_id"], answer.body["events"][0]["task_id"]);
    assert_eq!(task["_group"], "+919876543210");
    assert_eq!(task["_dedup"], task["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_human_request_is_a_duplicate_with_one_record_and_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    let first = deliver(&pipeline, fixture(HUMAN)).await;
    let second = deliver(&pipeline, fixture(HUMAN)).await;

    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.outcomes(), ["duplicate"]);
    assert_eq!(second.body["events"][0]["task_id"], first.body["events"][0]["task_id"]);
    assert_eq!(second.metrics.duplicates, 1);
    assert_eq!(stack.items().await.len(), 1);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tasks_of_one_batch_are_sent_together_and_all_land() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);
    // More than one SQS batch (10) of tasks, between events that give none.
    let mut elements: Vec<Value> = (0..12).map(|n| human_request(&human_id(n), &human_phone(n))).collect();
    elements.insert(5, sms_sent());
    elements.push(serde_json::from_str::<Value>(&fixture_body("curious-thing/call-complete.json")).unwrap()[0].clone());

    let answer = deliver(&pipeline, batch(&elements)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"; 14]);
    assert_eq!(answer.metrics.tasks_enqueued, 12);
    let messages = stack.messages().await;
    let mut phones: Vec<String> = messages.iter().map(|m| m["phone"].as_str().unwrap().to_owned()).collect();
    phones.sort();
    let mut expected: Vec<String> = (0..12).map(|n| format!("+{}", human_phone(n))).collect();
    expected.sort();
    assert_eq!(phones, expected);
    for n in 0..12 {
        let item = stack.item(&format!("curious-thing#{}", human_id(n))).await.unwrap();
        assert_eq!(item["status"], "task_enqueued");
        let message = messages.iter().find(|m| m["task_id"] == item["task_id"]).expect("its task");
        assert_eq!(message["_group"], format!("+{}", human_phone(n)));
        assert_eq!(message["_dedup"], item["task_id"]);
    }
    let items = stack.items().await;
    assert_eq!(items.iter().filter(|i| i["status"] == "stored").count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_redelivery_stores_only_the_new_elements() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    deliver(&pipeline, fixture("curious-thing/sms-sent.json")).await;
    deliver(&pipeline, fixture("curious-thing/element-without-id.json")).await;
    let answer = deliver(&pipeline, fixture("curious-thing/partial-redelivery.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["duplicate", "duplicate", "stored", "stored"]);
    assert_eq!(answer.body["events"][1]["event_key"], IDLESS_KEY, "re-serialised content, same key");
    assert_eq!(answer.metrics.events_stored, 2);
    assert_eq!(answer.metrics.duplicates, 2);
    let items = stack.items().await;
    let events: Vec<&Value> = items.iter().filter(|i| i.get("conflict_of").is_none()).collect();
    assert_eq!(events.len(), 5, "{items:#?}");
    let idless = stack.item(&format!("curious-thing#{IDLESS_KEY}")).await.unwrap();
    assert_eq!(
        idless["raw_body"].as_str(),
        Some(fixture_elements("curious-thing/element-without-id.json")[0].as_str()),
        "the first delivery's record stands"
    );
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_redelivery_of_human_requests_leaves_exactly_one_task_per_request() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);
    let (a, b, c) =
        (human_request(&human_id(1), &human_phone(1)), human_request(&human_id(2), &human_phone(2)), sms_sent());

    let first = deliver(&pipeline, batch(&[a.clone(), c.clone()])).await;
    let second = deliver(&pipeline, batch(&[c, a, b])).await;

    assert_eq!(first.outcomes(), ["stored", "stored"]);
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.outcomes(), ["duplicate", "duplicate", "stored"]);
    assert_eq!(second.body["events"][1]["task_id"], first.body["events"][0]["task_id"]);
    assert_eq!(stack.items().await.len(), 3);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let mut phones: Vec<&str> = messages.iter().map(|m| m["phone"].as_str().unwrap()).collect();
    phones.sort_unstable();
    assert_eq!(phones, [format!("+{}", human_phone(1)), format!("+{}", human_phone(2))]);
    for pk in [format!("curious-thing#{}", human_id(1)), format!("curious-thing#{}", human_id(2))] {
        assert_eq!(stack.item(&pk).await.unwrap()["status"], "task_enqueued");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_element_is_rejected_alone_and_the_rest_of_the_batch_is_stored() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);
    let elements = fixture_elements("curious-thing/batch-with-invalid-element.json");

    let answer = deliver(&pipeline, fixture("curious-thing/batch-with-invalid-element.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored", "rejected", "stored"]);
    assert_eq!(answer.metrics.rejected.get("invalid_timestamp"), Some(&1));
    let rejected = stack
        .item(&format!("curious-thing#rejected#{}", sha256_hex(elements[1].as_bytes())))
        .await
        .expect("rejected record keyed on the element's text");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "invalid_timestamp");
    assert_eq!(rejected["event_type"], "CallComplete");
    assert_eq!(rejected["raw_body"].as_str(), Some(elements[1].as_str()));
    assert!(!rejected["reason_detail"].as_str().unwrap().contains("01/08/2025"), "no value echoed");
    assert_eq!(stack.items().await.len(), 3);
    assert_eq!(stack.item(ATTEMPTED_PK).await.unwrap()["status"], "stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_whose_every_element_is_invalid_is_answered_422() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);
    let elements = fixture_elements("curious-thing/batch-with-invalid-element.json");
    let body = format!("[{}, 42]", elements[1]);

    let answer = deliver(&pipeline, fixture_with(HUMAN, |event| event["body"] = body.into())).await;

    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["rejected", "rejected"]);
    assert_eq!(stack.items().await.len(), 2);
    assert!(stack.item(&format!("curious-thing#rejected#{}", sha256_hex(b"42"))).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_queue_fails_mid_batch_the_answer_is_503_and_the_redelivery_sends_each_task_once() {
    let stack = Stack::new().await;
    let sqs_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let sqs_via_proxy = sdk_config(&sqs_proxy.endpoint).await;
    let pipeline = stack.pipeline_via(CuriousThing, &stack.sdk, &sqs_via_proxy);
    let elements =
        [human_request(&human_id(1), &human_phone(1)), sms_sent(), human_request(&human_id(2), &human_phone(2))];
    let pks = [format!("curious-thing#{}", human_id(1)), format!("curious-thing#{}", human_id(2))];

    sqs_proxy.set(Mode::Refuse);
    let failed = deliver(&pipeline, batch(&elements)).await;

    assert_eq!(failed.status, 503, "{}", failed.body);
    assert_eq!(failed.outcomes(), ["failed", "stored", "failed"]);
    for pk in &pks {
        assert_eq!(stack.item(pk).await.unwrap()["status"], "task_pending", "{pk}");
    }
    assert!(stack.messages().await.is_empty());

    sqs_proxy.set(Mode::Forward);
    let retried = deliver(&pipeline, batch(&elements)).await;

    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.outcomes(), ["duplicate"; 3]);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    for pk in &pks {
        let item = stack.item(pk).await.unwrap();
        assert_eq!(item["status"], "task_enqueued", "{pk}");
        assert_eq!(messages.iter().filter(|m| m["task_id"] == item["task_id"]).count(), 1, "{pk}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_deliveries_of_one_human_request_store_one_record_and_queue_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    let answers = join_all((0..20).map(|_| deliver(&pipeline, fixture(HUMAN)))).await;

    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let outcomes: Vec<String> = answers.iter().flat_map(|a| a.outcomes()).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "stored").count(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().filter(|o| *o == "duplicate").count(), 19, "{outcomes:?}");
    let items = stack.items().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "task_enqueued");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["task_id"], items[0]["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_batch_is_accepted_and_stores_nothing() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    let answer = deliver(&pipeline, fixture_with(HUMAN, |event| event["body"] = "[]".into())).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.outcomes().is_empty());
    assert!(stack.items().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_or_a_malformed_body_stores_nothing() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(CuriousThing);

    let wrong = deliver(&pipeline, fixture("curious-thing/wrong-token.json")).await;
    let malformed = deliver(&pipeline, fixture("curious-thing/malformed-body.json")).await;
    let scalar = deliver(&pipeline, fixture_with(HUMAN, |event| event["body"] = "\"CallComplete\"".into())).await;

    assert_eq!(wrong.status, 401);
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["error"], "bad_request");
    assert_eq!(scalar.status, 400);
    assert!(stack.items().await.is_empty());
    assert!(stack.messages().await.is_empty());
}
