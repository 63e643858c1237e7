//! `webhook-ops` end to end against moto: the CLI's library entry point,
//! run in-process on the harness's table and queues, with every assertion
//! made on the real table and queue state afterwards.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{TimeDelta, Utc};
use e2e::{FaultProxy, Mode, Stack, deliver, fixture, fixture_body, fixture_with, sdk_config, sha256_hex};
use payloads::providers::{Smartflo, Truecaller};
use pipeline::reconcile::Reconciler;
use pipeline::{DynamoEventStore, SqsTaskQueue};
use serde_json::Value;

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
const REDELIVERY: &str = "truecaller/cmb-happy-flow-redelivery.json";
const HAPPY_PK: &str = "truecaller#860a7f4c-6545-40f1-85be-3655edde650f";
const FULL_PHONE: &str = "911234567890";

struct Run {
    code: i32,
    out: String,
    err: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.out).unwrap_or_else(|e| panic!("JSON output ({e}): {}", self.out))
    }
}

/// Runs `webhook-ops` with the stack's table and queues and an operator name.
async fn ops(stack: &Stack, dlq: Option<&str>, args: &[&str]) -> Run {
    let mut full = vec!["webhook-ops", "--table", &stack.table, "--queue-url", &stack.queue_url, "--by", "oncall@test"];
    if let Some(dlq) = dlq {
        full.extend(["--dlq-url", dlq]);
    }
    full.extend(args);
    run_raw(stack.sdk.clone(), &full).await
}

async fn run_raw(sdk: aws_config::SdkConfig, args: &[&str]) -> Run {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = ops::main_with(args.iter().copied(), sdk, &mut out, &mut err).await;
    let run = Run { code, out: String::from_utf8(out).unwrap(), err: String::from_utf8(err).unwrap() };
    assert!(
        !run.out.contains(FULL_PHONE) && !run.err.contains(FULL_PHONE),
        "a full phone number was printed:\n{}{}",
        run.out,
        run.err
    );
    run
}

fn reconciler(stack: &Stack) -> Reconciler<DynamoEventStore, SqsTaskQueue> {
    Reconciler::new(
        DynamoEventStore::new(stack.dynamo.clone(), &stack.table),
        SqsTaskQueue::new(stack.sqs.clone(), &stack.queue_url),
    )
}

async fn set_attribute(stack: &Stack, pk: &str, name: &str, value: AttributeValue) {
    stack
        .dynamo
        .update_item()
        .table_name(&stack.table)
        .key("pk", AttributeValue::S(pk.into()))
        .update_expression("SET #n = :v")
        .expression_attribute_names("#n", name)
        .expression_attribute_values(":v", value)
        .send()
        .await
        .expect("update item");
}

/// The happy-flow task left `task_pending` past the FIFO window: the queue
/// connection dropped (the send may have landed) ten minutes ago.
async fn leave_task_stuck(stack: &Stack) -> String {
    let proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let pipeline = stack.pipeline_via(Truecaller, &stack.sdk, &sdk_config(&proxy.endpoint).await);
    proxy.set(Mode::Refuse);
    let answer = deliver(&pipeline, fixture(HAPPY)).await;
    assert_eq!(answer.status, 503);
    let ten_minutes_ago = (Utc::now() - TimeDelta::minutes(10)).timestamp_millis();
    set_attribute(stack, HAPPY_PK, "send_attempted_at", AttributeValue::N(ten_minutes_ago.to_string())).await;
    stack.item(HAPPY_PK).await.unwrap()["task_id"].as_str().unwrap().to_owned()
}

async fn create_dlq(stack: &Stack) -> String {
    stack
        .sqs
        .create_queue()
        .queue_name(format!(
            "ops-dlq-{}-{}.fifo",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .send()
        .await
        .expect("create DLQ")
        .queue_url()
        .unwrap()
        .to_owned()
}

/// Moves the happy-flow task from the callback queue to the DLQ, as SQS
/// does after maxReceiveCount failed receives.
async fn dead_letter_happy_task(stack: &Stack, dlq: &str) -> Value {
    let mut messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let message = messages.remove(0);
    let mut body = message.clone();
    let object = body.as_object_mut().unwrap();
    object.remove("_group");
    object.remove("_dedup");
    stack
        .sqs
        .send_message()
        .queue_url(dlq)
        .message_body(serde_json::to_string(&body).unwrap())
        .message_group_id(message["_group"].as_str().unwrap())
        .message_deduplication_id(message["_dedup"].as_str().unwrap())
        .send()
        .await
        .expect("dead-letter");
    message
}

/// A stack whose happy-flow task was enqueued 20 minutes ago (past SQS's
/// 5-minute deduplication window) and then dead-lettered; the task as queued.
async fn happy_task_dead_lettered_past_the_fifo_window() -> (Stack, String, Value) {
    let stack = Stack::new().await;
    let dlq = create_dlq(&stack).await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    let original = dead_letter_happy_task(&stack, &dlq).await;
    set_attribute(
        &stack,
        HAPPY_PK,
        "enqueued_at",
        AttributeValue::S((Utc::now() - TimeDelta::minutes(20)).to_rfc3339()),
    )
    .await;
    (stack, dlq, original)
}

async fn dlq_count(stack: &Stack, dlq: &str) -> usize {
    let output = stack
        .sqs
        .get_queue_attributes()
        .queue_url(dlq)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    output.attributes().unwrap().values().map(|v| v.parse::<usize>().unwrap()).sum()
}

/// A rejected record as an older parser would have written it, whose raw
/// body the current parser accepts.
async fn put_rejected_as_by_an_older_parser(stack: &Stack, body: &str) -> String {
    let sha = sha256_hex(body.as_bytes());
    let pk = format!("truecaller#rejected#{sha}");
    let received = (Utc::now() - TimeDelta::minutes(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let item = [
        ("pk", pk.as_str()),
        ("provider", "truecaller"),
        ("received_at", received.as_str()),
        ("status", "rejected"),
        ("payload_sha256", sha.as_str()),
        ("raw_body", body),
        ("reason", "invalid_payload"),
        ("reason_detail", "wrong type (line 1 column 40)"),
    ];
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(item.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect()))
        .send()
        .await
        .unwrap();
    pk
}

// --------------------------------------------------------------------- trace

#[tokio::test(flavor = "multi_thread")]
async fn trace_of_a_stored_event_without_a_task_shows_its_record_and_the_filled_in_log_query() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture("truecaller/user-feedback.json")).await;
    let pk = stack.items().await[0]["pk"].as_str().unwrap().to_owned();
    let key = pk.split_once('#').unwrap().1.to_owned();

    let run = ops(&stack, None, &["--output", "json", "trace", &key]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let report = run.json();
    assert_eq!(report["record"]["pk"], pk.as_str());
    assert_eq!(report["record"]["status"], "stored");
    assert_eq!(report["record"]["event_type"], "user_feedback");
    assert!(report["task"].is_null());
    assert!(report["logs_insights_query"].as_str().unwrap().contains(&format!("event_key = \"{key}\"")));
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_of_a_task_by_its_id_shows_the_task_enqueued_with_the_phone_masked() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    let task_id = stack.item(HAPPY_PK).await.unwrap()["task_id"].as_str().unwrap().to_owned();

    let json = ops(&stack, None, &["--output", "json", "trace", &task_id]).await;
    let human = ops(&stack, None, &["trace", &task_id]).await;

    assert_eq!(json.code, 0, "{}", json.err);
    let report = json.json();
    assert_eq!(report["record"]["pk"], HAPPY_PK);
    assert_eq!(report["task"]["task_id"], task_id.as_str());
    assert_eq!(report["task"]["state"], "enqueued");
    assert_eq!(report["record"]["phone"], "+91*******890");
    assert_eq!(report["queue"]["visible"], 1);
    assert!(report["task"]["enqueued_at"].is_string());
    assert_eq!(human.code, 0);
    assert!(human.out.contains("+91*******890") && human.out.contains(&task_id), "{}", human.out);
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_of_a_duplicate_with_a_different_payload_lists_the_conflict_kept_under_it() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    deliver(&pipeline, fixture(HAPPY)).await;
    let altered = fixture_body(HAPPY).replace("Fresh Flower Delivery", "Wilted Flower Delivery");
    deliver(&pipeline, fixture_with(HAPPY, |event| event["body"] = altered.clone().into())).await;

    let run = ops(&stack, None, &["--output", "json", "trace", HAPPY_PK]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let conflicts = run.json()["conflicts"].as_array().unwrap().clone();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0]["payload_sha256"], sha256_hex(altered.as_bytes()).as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_of_a_rejected_record_shows_its_reason_and_never_its_body() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture("truecaller/invalid-event-id.json")).await;
    let pk = stack.items().await[0]["pk"].as_str().unwrap().to_owned();

    let run = ops(&stack, None, &["trace", &pk]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("rejected") && run.out.contains("invalid_event_id"), "{}", run.out);
    assert!(!run.out.contains("raw_body"));
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_shows_attributes_it_does_not_know_masked() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    set_attribute(&stack, HAPPY_PK, "callback_identity", AttributeValue::S("truecaller:+911234567890".into())).await;

    let run = ops(&stack, None, &["--output", "json", "trace", HAPPY_PK]).await;

    assert_eq!(run.json()["record"]["other_attributes"]["callback_identity"], "truecaller:+91*******890");
}

// -------------------------------------------------------------------- replay

#[tokio::test(flavor = "multi_thread")]
async fn replay_of_a_rejected_record_the_parser_now_accepts_stores_it_once_and_queues_one_task_even_run_twice() {
    let stack = Stack::new().await;
    let rejected = put_rejected_as_by_an_older_parser(&stack, &fixture_body(HAPPY)).await;
    let before = stack.items().await;

    let dry =
        ops(&stack, None, &["replay", "--provider", "truecaller", "--since", "2h", "--state", "rejected", "--dry-run"])
            .await;
    assert_eq!(dry.code, 0, "{}", dry.err);
    assert!(dry.out.contains("would store") && dry.out.contains(HAPPY_PK), "{}", dry.out);
    assert_eq!(stack.items().await, before, "a dry run changes nothing");

    let first = ops(
        &stack,
        None,
        &["--output", "json", "replay", "--provider", "truecaller", "--since", "2h", "--state", "rejected"],
    )
    .await;
    let second = ops(
        &stack,
        None,
        &["--output", "json", "replay", "--provider", "truecaller", "--since", "2h", "--state", "rejected"],
    )
    .await;

    assert_eq!(first.code, 0, "{}", first.err);
    assert_eq!(first.json()["replayed"][0]["outcome"], "stored");
    assert_eq!(first.json()["replayed"][0]["new_key"], HAPPY_PK);
    assert_eq!(second.code, 0, "{}", second.err);
    assert_eq!(second.json()["replayed"][0]["outcome"], "already replayed");
    let items = stack.items().await;
    assert_eq!(items.len(), 2, "the rejected record and one event record");
    let old = items.iter().find(|i| i["pk"] == rejected.as_str()).unwrap();
    assert_eq!(old["replayed_to"], HAPPY_PK);
    assert_eq!(old["replayed_by"], "oncall@test");
    let new = items.iter().find(|i| i["pk"] == HAPPY_PK).unwrap();
    assert_eq!(new["status"], "task_enqueued");
    assert_eq!(new["replay_of"], rejected.as_str());
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1, "one task");
    assert_eq!(messages[0]["_dedup"], new["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_interrupted_after_the_store_finishes_on_rerun_without_a_second_task() {
    let stack = Stack::new().await;
    let rejected = put_rejected_as_by_an_older_parser(&stack, &fixture_body(HAPPY)).await;
    // The first run stored the event and sent its task, then died before
    // marking the rejected record.
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;

    let rerun = ops(&stack, None, &["--output", "json", "replay", "--key", &rejected]).await;

    assert_eq!(rerun.code, 0, "{}", rerun.err);
    assert_eq!(rerun.json()["replayed"][0]["outcome"], "duplicate");
    assert_eq!(stack.item(&rejected).await.unwrap()["replayed_to"], HAPPY_PK);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_of_a_record_the_parser_still_rejects_leaves_it_rejected_and_unmarked() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture("truecaller/invalid-event-id.json")).await;
    let pk = stack.items().await[0]["pk"].as_str().unwrap().to_owned();

    let run = ops(&stack, None, &["--output", "json", "replay", "--key", &pk]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(run.json()["replayed"][0]["outcome"], "still rejected");
    let items = stack.items().await;
    assert_eq!(items.len(), 1);
    assert!(items[0].get("replayed_to").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_of_a_rejected_smartflo_record_uses_its_trigger() {
    let stack = Stack::new().await;
    // A missed call rejected by an older parser, its body stored as received.
    let body = r#"{"uuid":"ops-replay-1","call_id":"1628364541.6274658","caller_id_number":"+919876543210","call_to_number":"+911204567890","start_stamp":"2021-08-08 00:59:01","direction":"inbound","call_status":"missed"}"#;
    let sha = sha256_hex(body.as_bytes());
    let pk = format!("smartflo#rejected#{sha}");
    let item = [
        ("pk", pk.as_str()),
        ("provider", "smartflo"),
        ("received_at", "2026-01-01T00:00:00Z"),
        ("status", "rejected"),
        ("payload_sha256", sha.as_str()),
        ("raw_body", body),
        ("reason", "invalid_timestamp"),
        ("event_type", "call-hangup-missed"),
    ];
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .set_item(Some(item.iter().map(|(k, v)| (k.to_string(), AttributeValue::S(v.to_string()))).collect()))
        .send()
        .await
        .unwrap();

    let run = ops(&stack, None, &["--output", "json", "replay", "--key", &pk]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let replayed = &run.json()["replayed"][0];
    assert_eq!(replayed["outcome"], "stored", "{replayed}");
    assert!(replayed["new_key"].as_str().unwrap().starts_with("smartflo#call-hangup-missed#"), "{replayed}");
    assert_eq!(stack.messages().await.len(), 1, "a missed call queues one task");
    let _ = Smartflo;
}

// ------------------------------------------------------------------- redrive

#[tokio::test(flavor = "multi_thread")]
async fn redrive_moves_a_dead_lettered_task_back_with_its_group_and_deduplication_id() {
    let (stack, dlq, original) = happy_task_dead_lettered_past_the_fifo_window().await;

    let run = ops(&stack, Some(&dlq), &["--output", "json", "redrive"]).await;

    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert_eq!(run.json()["moved"], 1);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["_dedup"], original["_dedup"]);
    assert_eq!(messages[0]["_group"], original["_group"]);
    assert_eq!(messages[0]["task_id"], original["task_id"]);
    assert_eq!(dlq_count(&stack, &dlq).await, 0);
    let record = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(record["redrive_count"], 1);
    assert_eq!(record["redriven_by"], "oncall@test");
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_of_a_task_already_redriven_past_the_fifo_window_needs_force() {
    let stack = Stack::new().await;
    let dlq = create_dlq(&stack).await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    dead_letter_happy_task(&stack, &dlq).await;
    set_attribute(&stack, HAPPY_PK, "enqueued_at", AttributeValue::S((Utc::now() - TimeDelta::hours(2)).to_rfc3339()))
        .await;
    set_attribute(&stack, HAPPY_PK, "redriven_at", AttributeValue::S((Utc::now() - TimeDelta::hours(1)).to_rfc3339()))
        .await;

    let refused = ops(&stack, Some(&dlq), &["redrive"]).await;
    let dlq_after_refusal = dlq_count(&stack, &dlq).await;
    let queue_after_refusal = stack.messages().await.len();
    let forced = ops(&stack, Some(&dlq), &["redrive", "--force"]).await;

    assert_eq!(refused.code, 3, "{}{}", refused.out, refused.err);
    assert!(refused.out.contains("possible second call"), "{}", refused.out);
    assert!(refused.err.contains("--force"), "{}", refused.err);
    assert_eq!(dlq_after_refusal, 1, "refused: the message stays in the DLQ");
    assert_eq!(queue_after_refusal, 0);
    assert_eq!(forced.code, 0, "{}{}", forced.out, forced.err);
    assert_eq!(stack.messages().await.len(), 1);
    assert_eq!(dlq_count(&stack, &dlq).await, 0);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["redrive_count"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn redrive_holds_a_task_first_sent_inside_the_fifo_window_where_sqs_would_drop_the_copy() {
    let stack = Stack::new().await;
    let dlq = create_dlq(&stack).await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    dead_letter_happy_task(&stack, &dlq).await;

    let run = ops(&stack, Some(&dlq), &["redrive", "--force"]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("held"), "{}", run.out);
    assert_eq!(dlq_count(&stack, &dlq).await, 1);
    assert!(stack.item(HAPPY_PK).await.unwrap().get("redriven_at").is_none());
}

// ------------------------------------------------------------------- resolve

#[tokio::test(flavor = "multi_thread")]
async fn resolve_send_sends_a_stuck_task_once_records_the_decision_and_the_reconciler_then_ignores_it() {
    let stack = Stack::new().await;
    let task_id = leave_task_stuck(&stack).await;
    assert_eq!(reconciler(&stack).run_once(Utc::now() + TimeDelta::minutes(1)).await.stuck, 1, "stuck before");

    let run = ops(&stack, None, &["resolve", &task_id, "--send", "--reason", "dialer has no such task"]).await;
    let again = ops(&stack, None, &["resolve", &task_id, "--send"]).await;
    let sweep = reconciler(&stack).run_once(Utc::now() + TimeDelta::minutes(10)).await;

    assert_eq!(run.code, 0, "{}", run.err);
    assert_eq!(again.code, 0, "{}", again.err);
    assert!(again.out.contains("already on the queue"), "{}", again.out);
    let record = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(record["status"], "task_enqueued");
    assert_eq!(record["resolution"], "send");
    assert_eq!(record["resolved_by"], "oncall@test");
    assert_eq!(record["resolution_reason"], "dialer has no such task");
    assert!(record["resolved_at"].is_string());
    assert_eq!((sweep.found, sweep.stuck), (0, 0));
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["_dedup"], task_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_cancel_settles_a_stuck_task_and_neither_the_reconciler_nor_a_redelivery_sends_it() {
    let stack = Stack::new().await;
    let task_id = leave_task_stuck(&stack).await;

    let run = ops(&stack, None, &["resolve", &task_id, "--cancel", "--reason", "customer already called back"]).await;
    let sweep = reconciler(&stack).run_once(Utc::now() + TimeDelta::minutes(10)).await;
    let redelivery = deliver(&stack.pipeline(Truecaller), fixture(REDELIVERY)).await;
    let send_after = ops(&stack, None, &["resolve", &task_id, "--send"]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let record = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(record["status"], "task_cancelled");
    assert_eq!(record["resolution"], "cancelled");
    assert_eq!(record["resolution_reason"], "customer already called back");
    assert!(record.get("pending_shard").is_none(), "out of the pending index");
    assert_eq!((sweep.found, sweep.stuck), (0, 0));
    assert_eq!(redelivery.outcomes(), ["duplicate"]);
    assert_eq!(redelivery.metrics.tasks_stuck, 0);
    assert_eq!(send_after.code, 3, "a cancelled task is not sent: {}", send_after.err);
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn resolve_refuses_a_task_that_is_not_stuck_and_changes_nothing() {
    let stack = Stack::new().await;
    let proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let pipeline = stack.pipeline_via(Truecaller, &stack.sdk, &sdk_config(&proxy.endpoint).await);
    proxy.set(Mode::Refuse);
    deliver(&pipeline, fixture(HAPPY)).await;
    let before = stack.items().await;
    let task_id = before[0]["task_id"].as_str().unwrap().to_owned();

    let cancel_without_reason = ops(&stack, None, &["resolve", &task_id, "--cancel"]).await;
    let run = ops(&stack, None, &["resolve", &task_id, "--cancel", "--reason", "x"]).await;

    assert_eq!(cancel_without_reason.code, 2);
    assert!(cancel_without_reason.err.contains("--reason"), "{}", cancel_without_reason.err);
    assert_eq!(run.code, 3);
    assert!(run.err.contains("not stuck"), "{}", run.err);
    assert_eq!(stack.items().await, before);
}

// --------------------------------------------------------------------- stats

#[tokio::test(flavor = "multi_thread")]
async fn stats_counts_per_provider_and_state() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Truecaller);
    deliver(&pipeline, fixture(HAPPY)).await;
    deliver(&pipeline, fixture("truecaller/user-feedback.json")).await;
    deliver(&pipeline, fixture("truecaller/invalid-event-id.json")).await;

    let run = ops(&stack, None, &["--output", "json", "stats", "--since", "1h"]).await;
    let human = ops(&stack, None, &["stats"]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let row = &run.json()["providers"]["truecaller"];
    assert_eq!(
        (row["task_enqueued"].as_u64(), row["stored"].as_u64(), row["rejected"].as_u64()),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(run.json()["rejected_by_reason"][0]["reason"], "invalid_event_id");
    assert!(human.out.contains("truecaller"), "{}", human.out);
}

// ----------------------------------------------------------------- bad input

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_gets_a_one_line_error_a_non_zero_exit_and_changes_nothing() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    let rejected =
        put_rejected_as_by_an_older_parser(&stack, &fixture_body(HAPPY).replace("860a7f4c", "960a7f4c")).await;
    let before = stack.items().await;
    assert_eq!(stack.messages().await.len(), 1, "the delivery's task, drained");
    let no_credentials = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("ap-south-1"))
        .endpoint_url(e2e::moto_endpoint())
        .build();
    let no_region = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest()).build();

    let cases: Vec<(Run, &str)> = vec![
        (ops(&stack, None, &["trace", "no-such-event"]).await, "no-such-event: no record has this key or task id"),
        (
            ops(
                &stack,
                None,
                &["replay", "--provider", "truecaller", "--since", "yesterdayish", "--state", "rejected"],
            )
            .await,
            "--since: \"yesterdayish\" is not a time",
        ),
        (
            ops(&stack, None, &["replay", "--provider", "acme", "--since", "1h"]).await,
            "--provider: \"acme\" is not a provider",
        ),
        (
            ops(&stack, None, &["replay", "--key", "truecaller#rejected#nope"]).await,
            "truecaller#rejected#nope: no record",
        ),
        (ops(&stack, None, &["stats", "--since", "2026-02-30"]).await, "--since: \"2026-02-30\" is not a time"),
        (
            ops(&stack, None, &["resolve", "no-such-task", "--send"]).await,
            "no-such-task: no record carries this task id",
        ),
        (
            run_raw(stack.sdk.clone(), &["webhook-ops", "--queue-url", &stack.queue_url, "stats"]).await,
            "--table is required: pass --table or set EVENTS_TABLE",
        ),
        (
            run_raw(stack.sdk.clone(), &["webhook-ops", "--table", "no-such-table", "stats"]).await,
            "table no-such-table does not exist",
        ),
        (
            ops(&stack, Some("https://sqs.ap-south-1.amazonaws.com/123456789012/nope.fifo"), &["redrive"]).await,
            "queue https://sqs.ap-south-1.amazonaws.com/123456789012/nope.fifo does not exist",
        ),
        (
            run_raw(
                stack.sdk.clone(),
                &[
                    "webhook-ops",
                    "--table",
                    &stack.table,
                    "--queue-url",
                    &format!("{}-missing", stack.queue_url),
                    "replay",
                    "--key",
                    &rejected,
                ],
            )
            .await,
            "-missing does not exist",
        ),
        (run_raw(no_credentials, &["webhook-ops", "--table", &stack.table, "stats"]).await, "no AWS credentials"),
        (run_raw(no_region, &["webhook-ops", "--table", &stack.table, "stats"]).await, "no AWS region"),
        (ops(&stack, None, &["resolve", "x"]).await, "--send"),
    ];

    for (run, expected) in &cases {
        assert_ne!(run.code, 0, "{expected}: {}", run.out);
        assert!(run.err.contains(expected), "expected {expected:?} in {:?}", run.err);
        if run.err.starts_with("webhook-ops: error:") {
            assert_eq!(run.err.trim_end().lines().count(), 1, "one line: {:?}", run.err);
        }
    }
    assert_eq!(stack.items().await, before, "nothing changed in the table");
    assert!(stack.messages().await.is_empty(), "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_by_the_operator_is_the_callers_aws_identity() {
    let stack = Stack::new().await;
    let task_id = leave_task_stuck(&stack).await;

    let run = run_raw(
        stack.sdk.clone(),
        &["webhook-ops", "--table", &stack.table, "resolve", &task_id, "--cancel", "--reason", "duplicate lead"],
    )
    .await;

    assert_eq!(run.code, 0, "{}", run.err);
    assert!(stack.item(HAPPY_PK).await.unwrap()["resolved_by"].as_str().unwrap().starts_with("arn:aws:"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redrive_interrupted_between_the_send_and_the_delete_finishes_on_rerun_with_the_task_queued_once() {
    let (stack, dlq, original) = happy_task_dead_lettered_past_the_fifo_window().await;
    // The interrupted run: stamped the record and sent the copy a minute
    // ago, then died before deleting it from the DLQ.
    set_attribute(
        &stack,
        HAPPY_PK,
        "redriven_at",
        AttributeValue::S((Utc::now() - TimeDelta::minutes(1)).to_rfc3339()),
    )
    .await;
    set_attribute(&stack, HAPPY_PK, "redrive_count", AttributeValue::N("1".into())).await;
    let mut body = original.clone();
    body.as_object_mut().unwrap().retain(|k, _| !k.starts_with('_'));
    stack
        .sqs
        .send_message()
        .queue_url(&stack.queue_url)
        .message_body(serde_json::to_string(&body).unwrap())
        .message_group_id(original["_group"].as_str().unwrap())
        .message_deduplication_id(original["_dedup"].as_str().unwrap())
        .send()
        .await
        .unwrap();

    let rerun = ops(&stack, Some(&dlq), &["--output", "json", "redrive"]).await;

    assert_eq!(rerun.code, 0, "{}{}", rerun.out, rerun.err);
    assert_eq!(rerun.json()["messages"][0]["verdict"], "resume");
    assert_eq!(dlq_count(&stack, &dlq).await, 0);
    assert_eq!(stack.messages().await.len(), 1, "SQS dropped the repeat inside its window");
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["redrive_count"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_of_a_record_pointing_at_another_records_task_shows_the_owners_task_state() {
    let stack = Stack::new().await;
    deliver(&stack.pipeline(Truecaller), fixture(HAPPY)).await;
    let task_id = stack.item(HAPPY_PK).await.unwrap()["task_id"].as_str().unwrap().to_owned();
    // A record that joined the happy-flow event's task (as a later version
    // may write them): the task id, none of the task's state.
    let joined = "truecaller#joined-example";
    stack
        .dynamo
        .put_item()
        .table_name(&stack.table)
        .item("pk", AttributeValue::S(joined.into()))
        .item("provider", AttributeValue::S("truecaller".into()))
        .item("status", AttributeValue::S("stored".into()))
        .item("task_id", AttributeValue::S(task_id.clone()))
        .send()
        .await
        .unwrap();

    let run = ops(&stack, None, &["--output", "json", "trace", joined]).await;

    assert_eq!(run.code, 0, "{}", run.err);
    let task = &run.json()["task"];
    assert_eq!(task["owner"], HAPPY_PK);
    assert_eq!(task["state"], "enqueued");
    assert_eq!(run.json()["record"]["phone"], "+91*******890");
}
