//! Truecaller end to end: recorded requests through the real pipeline,
//! against moto's DynamoDB and SQS.

use std::time::Instant;

use e2e::{FaultProxy, Mode, Stack, deliver, fixture, fixture_body, fixture_with, report, sdk_config};
use payloads::providers::Truecaller;
use serde_json::{Value, json};

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
const HAPPY_PK: &str = "truecaller#860a7f4c-6545-40f1-85be-3655edde650f";

#[tokio::test(flavor = "multi_thread")]
async fn a_call_me_back_request_is_stored_once_and_queues_one_callback_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture(HAPPY)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    let item = stack.item(HAPPY_PK).await.expect("record stored");
    assert_eq!(item["status"], "task_enqueued");
    assert_eq!(item["event_type"], "cmb");
    assert_eq!(item["occurred_at"], "2025-07-31T07:09:20Z");
    assert_eq!(item["raw_body"].as_str(), Some(fixture_body(HAPPY).as_str()));
    assert_eq!(item["event"]["attributes"]["client_number"], "+911234567890");
    assert!(item.get("pending_shard").is_none(), "an enqueued task leaves the pending index");
    let received = chrono::DateTime::parse_from_rfc3339(item["received_at"].as_str().unwrap()).unwrap();
    assert_eq!(item["expires_at"].as_i64().unwrap(), received.timestamp() + 90 * 86_400);

    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let task = &messages[0];
    assert_eq!(task["schema"], "callback-request/v1");
    assert_eq!(task["task_id"], answer.body["events"][0]["task_id"]);
    assert_eq!(task["task_id"], item["task_id"]);
    assert_eq!(task["provider"], "truecaller");
    assert_eq!(task["event_key"], "860a7f4c-6545-40f1-85be-3655edde650f");
    assert_eq!(task["reason"], "callback_requested");
    assert_eq!(task["phone"], "+911234567890");
    assert_eq!(task["alternate_phone"], Value::Null);
    assert_eq!(task["window"], json!({"from": "2025-08-02T06:30:00Z", "to": "2025-08-02T07:00:00Z"}));
    assert_eq!(task["requested_at"], "2025-07-31T07:09:20Z");
    assert_eq!(task["context"]["feature_set"], "Fresh Flower Delivery");
    assert_eq!(task["context"]["cmb_config_name"], "CMBName");
    assert_eq!(task["_group"], "+911234567890");
    assert_eq!(task["_dedup"], task["task_id"]);
    assert_eq!(answer.metrics.tasks_enqueued, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_without_a_number_is_called_back_on_the_alternate_number() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/cmb-no-client-number.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], "+911234567898");
    assert_eq!(messages[0]["window"], json!({"from": "2025-08-01T07:00:00Z", "to": "2025-08-01T07:30:00Z"}));
    let item = stack.item("truecaller#119be0c3-d23f-4728-8e42-d936c2e8dad6").await.unwrap();
    assert_eq!(item["status"], "task_enqueued");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_who_is_not_interested_is_stored_without_a_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/cmb-not-interested.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    assert_eq!(answer.body["events"][0].get("task_id"), None);
    let item = stack.item("truecaller#17c023e6-444c-4938-b09f-69b31aa2e55a").await.unwrap();
    assert_eq!(item["status"], "stored");
    assert_eq!(item["event"]["attributes"]["is_interested"], false);
    assert!(item["event"]["attributes"].get("requested_date").is_none(), "NA is no date");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn user_feedback_is_stored_without_a_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/user-feedback.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = stack.item("truecaller#7719f451-5436-470a-98ba-422b997582f8").await.unwrap();
    assert_eq!(item["status"], "stored");
    assert_eq!(item["event_type"], "user_feedback");
    assert_eq!(item["event"]["attributes"]["user_responses"][1]["response"], "Good");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivery_is_acknowledged_as_a_duplicate_with_one_record_and_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let first = deliver(&pipeline, fixture(HAPPY)).await;
    let second = deliver(&pipeline, fixture("truecaller/cmb-happy-flow-redelivery.json")).await;

    assert_eq!(second.status, 200);
    assert_eq!(second.outcomes(), ["duplicate"]);
    assert_eq!(second.body["events"][0]["task_id"], first.body["events"][0]["task_id"]);
    assert_eq!(second.metrics.duplicates, 1);
    assert_eq!(second.metrics.payload_conflicts, 0);
    assert_eq!(stack.items().await.len(), 1);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_token_is_refused_and_nothing_is_stored() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let wrong = deliver(&pipeline, fixture("truecaller/wrong-token.json")).await;
    let missing = deliver(&pipeline, fixture("truecaller/missing-token.json")).await;

    assert_eq!(wrong.status, 401);
    assert_eq!(missing.status, 401);
    assert_eq!(wrong.body["error"], "unauthorized");
    assert_eq!(wrong.metrics.auth_failures, 1);
    assert!(stack.items().await.is_empty());
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_in_the_header_is_accepted_and_every_listed_token_is_valid() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    let with_header = |token: &'static str| {
        fixture_with(HAPPY, move |event| {
            event["rawQueryString"] = "".into();
            event.as_object_mut().unwrap().remove("queryStringParameters");
            event["headers"]["x-webhook-token"] = token.into();
        })
    };

    let old = deliver(&pipeline, with_header("dev-token-truecaller")).await;
    let new = deliver(&pipeline, with_header("dev-token-wavix")).await;

    assert_eq!(old.status, 200, "{}", old.body);
    assert_eq!(new.status, 200, "{}", new.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_body_is_refused_with_400_and_nothing_is_stored() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/malformed-body.json")).await;

    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "bad_request");
    assert!(stack.items().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_event_is_answered_422_and_kept_as_a_rejected_record() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/invalid-event-id.json")).await;

    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["rejected"]);
    let items = stack.items().await;
    assert_eq!(items.len(), 1);
    let body = fixture_body("truecaller/invalid-event-id.json");
    let sha = sha256_hex(body.as_bytes());
    assert_eq!(items[0]["pk"], format!("truecaller#rejected#{sha}"));
    assert_eq!(items[0]["status"], "rejected");
    assert_eq!(items[0]["reason"], "invalid_event_id");
    assert_eq!(items[0]["raw_body"].as_str(), Some(body.as_str()));
    assert_eq!(answer.metrics.rejected.get("invalid_event_id"), Some(&1));
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base64_encoded_body_is_decoded_like_a_plain_one() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);

    let answer = deliver(&pipeline, fixture("truecaller/cmb-happy-flow-base64.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_size_limit_is_refused_with_413() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    let huge = format!("{{\"event_id\":\"{}\"}}", "x".repeat(262_145));

    let answer = deliver(&pipeline, fixture_with(HAPPY, |event| event["body"] = huge.into())).await;

    assert_eq!(answer.status, 413);
    assert!(stack.items().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_different_payload_under_an_existing_event_id_is_kept_and_counted() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    let altered = fixture_body(HAPPY).replace("Fresh Flower Delivery", "Wilted Flower Delivery");

    deliver(&pipeline, fixture(HAPPY)).await;
    let answer = deliver(&pipeline, fixture_with(HAPPY, |event| event["body"] = altered.clone().into())).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.outcomes(), ["duplicate"]);
    assert_eq!(answer.metrics.payload_conflicts, 1);
    let items = stack.items().await;
    assert_eq!(items.len(), 2);
    let conflict = items.iter().find(|i| i["conflict_of"] == HAPPY_PK).expect("conflict record");
    assert_eq!(conflict["raw_body"].as_str(), Some(altered.as_str()));
    assert_eq!(stack.messages().await.len(), 1, "a conflicting payload sends no second task");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interested_customer_with_no_number_at_all_is_stored_and_counted_unreachable() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    let body = fixture_body("truecaller/cmb-no-client-number.json").replace("911234567898", "NA");

    let answer = deliver(&pipeline, fixture_with(HAPPY, |event| event["body"] = body.into())).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.metrics.unreachable_callbacks, 1);
    let item = stack.item("truecaller#119be0c3-d23f-4728-8e42-d936c2e8dad6").await.unwrap();
    assert_eq!(item["status"], "stored");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_queue_fails_the_answer_is_503_and_the_redelivery_leaves_exactly_one_task() {
    let stack = Stack::new().await;
    let sqs_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let sqs_via_proxy = sdk_config(&sqs_proxy.endpoint).await;
    let pipeline = stack.pipeline_via(Truecaller, &stack.sdk, &sqs_via_proxy);

    sqs_proxy.set(Mode::Refuse);
    let failed = deliver(&pipeline, fixture(HAPPY)).await;

    assert_eq!(failed.status, 503, "{}", failed.body);
    assert_eq!(failed.outcomes(), ["failed"]);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_pending");
    assert!(stack.messages().await.is_empty());

    sqs_proxy.set(Mode::Forward);
    let retried = deliver(&pipeline, fixture("truecaller/cmb-happy-flow-redelivery.json")).await;

    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.outcomes(), ["duplicate"]);
    let item = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(item["status"], "task_enqueued");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["task_id"], item["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_dynamodb_is_unreachable_the_answer_is_a_quick_503_and_the_function_keeps_serving() {
    let stack = Stack::new().await;
    let dynamo_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let dynamo_via_proxy = sdk_config(&dynamo_proxy.endpoint).await;
    let pipeline = stack.pipeline_via(Truecaller, &dynamo_via_proxy, &stack.sdk);

    dynamo_proxy.set(Mode::Refuse);
    let started = Instant::now();
    let failed = deliver(&pipeline, fixture(HAPPY)).await;
    let elapsed = started.elapsed();

    assert_eq!(failed.status, 503, "{}", failed.body);
    assert_eq!(failed.body["events"][0]["outcome"], "failed");
    assert!(stack.items().await.is_empty());
    assert!(stack.messages().await.is_empty());
    report(format_args!("503 with DynamoDB refusing connections after {elapsed:?}"));
    // Bounded by the SDK's operation timeout (6 s), far inside API Gateway's 30 s.
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");

    dynamo_proxy.set(Mode::Forward);
    let served = deliver(&pipeline, fixture(HAPPY)).await;

    assert_eq!(served.status, 200, "{}", served.body);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_dynamodb_hangs_the_answer_is_503_within_the_operation_timeout() {
    let stack = Stack::new().await;
    let dynamo_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let dynamo_via_proxy = sdk_config(&dynamo_proxy.endpoint).await;
    let pipeline = stack.pipeline_via(Truecaller, &dynamo_via_proxy, &stack.sdk);

    dynamo_proxy.set(Mode::Hang);
    let started = Instant::now();
    let failed = deliver(&pipeline, fixture(HAPPY)).await;
    let elapsed = started.elapsed();
    dynamo_proxy.set(Mode::Forward);

    assert_eq!(failed.status, 503, "{}", failed.body);
    report(format_args!("503 with DynamoDB hanging after {elapsed:?}"));
    assert!(elapsed.as_secs() < 10, "took {elapsed:?}");
    let retried = deliver(&pipeline, fixture(HAPPY)).await;
    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(stack.messages().await.len(), 1);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_calls_per_delivery_are_one_for_a_new_event_one_for_a_duplicate_and_three_for_a_task_event() {
    let stack = Stack::new().await;
    let (pipeline, calls) = stack.counted_pipeline(Truecaller);

    deliver(&pipeline, fixture("truecaller/user-feedback.json")).await;
    let new_event = calls.calls();
    calls.reset();
    deliver(&pipeline, fixture("truecaller/user-feedback.json")).await;
    let duplicate = calls.calls();
    calls.reset();
    deliver(&pipeline, fixture(HAPPY)).await;
    let task_event = calls.calls();
    calls.reset();
    deliver(&pipeline, fixture("truecaller/cmb-happy-flow-redelivery.json")).await;
    let task_duplicate = calls.calls();

    report(format_args!(
        "AWS calls: new {new_event:?}; duplicate {duplicate:?}; task event {task_event:?}; task duplicate {task_duplicate:?}"
    ));
    assert_eq!(new_event, [("PutItem".to_owned(), 1)].into());
    assert_eq!(duplicate, [("PutItem".to_owned(), 1)].into());
    assert_eq!(
        task_event,
        [("PutItem".to_owned(), 1), ("SendMessage".to_owned(), 1), ("UpdateItem".to_owned(), 1)].into()
    );
    assert_eq!(task_duplicate, [("PutItem".to_owned(), 1)].into());
}

#[test]
fn the_log_audit_finds_every_number_of_a_recorded_body() {
    let phones = e2e::audit::phone_numbers(&fixture_body("truecaller/cmb-no-client-number.json"));

    assert!(phones.contains(&"+911234567898".to_owned()), "{phones:?}");
    assert!(phones.contains(&"911234567898".to_owned()), "{phones:?}");
}

#[test]
#[should_panic(expected = "contains a secret or full phone number")]
fn the_log_audit_fails_on_a_full_number_in_a_log_line() {
    e2e::audit::assert_clean(r#"{"phone":"+911234567890"}"#, &["+911234567890".to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_rotation_accepts_old_and_new_together_then_refuses_the_old_one() {
    let stack = Stack::new().await;
    let with_tokens = |list: &str| {
        pipeline::Pipeline::new(
            Truecaller,
            pipeline::Tokens::parse(list).unwrap(),
            stack.config(),
            pipeline::DynamoEventStore::new(stack.dynamo.clone(), &stack.table),
            pipeline::SqsTaskQueue::new(stack.sqs.clone(), &stack.queue_url),
        )
    };
    let rotated = |token: &'static str| {
        fixture_with("truecaller/user-feedback.json", move |event| {
            event["headers"]["x-webhook-token"] = token.into();
        })
    };
    let during = with_tokens("dev-token-truecaller,rotated-token-2026");
    let after = with_tokens("rotated-token-2026");

    let old_during = deliver(&during, rotated("dev-token-truecaller")).await;
    let new_during = deliver(&during, rotated("rotated-token-2026")).await;
    let old_after = deliver(&after, rotated("dev-token-truecaller")).await;
    let new_after = deliver(&after, rotated("rotated-token-2026")).await;

    assert_eq!(old_during.status, 200, "{}", old_during.body);
    assert_eq!(new_during.status, 200, "{}", new_during.body);
    assert_eq!(old_after.status, 401);
    assert_eq!(new_after.status, 200, "{}", new_after.body);
}
