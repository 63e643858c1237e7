//! Reliability end to end: the reconciler, FIFO deduplication, and
//! duplicate storms, against moto.

use chrono::{TimeDelta, Utc};
use e2e::{FaultProxy, Mode, Stack, deliver, fixture, report, sdk_config};
use futures::future::join_all;
use payloads::providers::Truecaller;
use pipeline::reconcile::Reconciler;
use pipeline::{DynamoEventStore, SqsTaskQueue};

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
const REDELIVERY: &str = "truecaller/cmb-happy-flow-redelivery.json";
const HAPPY_PK: &str = "truecaller#860a7f4c-6545-40f1-85be-3655edde650f";

fn reconciler(stack: &Stack) -> Reconciler<DynamoEventStore, SqsTaskQueue> {
    Reconciler::new(
        DynamoEventStore::new(stack.dynamo.clone(), &stack.table),
        SqsTaskQueue::new(stack.sqs.clone(), &stack.queue_url),
    )
}

/// Leaves the happy-flow record `task_pending` as a crash between the write
/// and the send would: the queue's connection drops, so whether the message
/// landed is unknown to the function.
async fn leave_task_pending(stack: &Stack) {
    let sqs_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let pipeline = stack.pipeline_via(Truecaller, &stack.sdk, &sdk_config(&sqs_proxy.endpoint).await);
    sqs_proxy.set(Mode::Refuse);
    let answer = deliver(&pipeline, fixture(HAPPY)).await;
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_sends_a_task_left_pending_without_waiting_for_a_redelivery() {
    let stack = Stack::new().await;
    leave_task_pending(&stack).await;

    let report = reconciler(&stack).run_once(Utc::now() + TimeDelta::seconds(60)).await;

    assert_eq!(report.found, 1);
    assert_eq!(report.enqueued, 1);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_enqueued");
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], "+911234567890");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_reconciled_and_then_redelivered_is_on_the_queue_once() {
    let stack = Stack::new().await;
    leave_task_pending(&stack).await;

    reconciler(&stack).run_once(Utc::now() + TimeDelta::seconds(60)).await;
    let redelivery = deliver(&stack.pipeline(Truecaller), fixture("truecaller/cmb-happy-flow-redelivery.json")).await;
    let second_sweep = reconciler(&stack).run_once(Utc::now() + TimeDelta::seconds(120)).await;

    assert_eq!(redelivery.outcomes(), ["duplicate"]);
    assert_eq!(second_sweep.found, 0, "an enqueued task leaves the pending index");
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reconciler_leaves_records_younger_than_its_minimum_age_to_their_delivery() {
    let stack = Stack::new().await;
    leave_task_pending(&stack).await;

    let report = reconciler(&stack).run_once(Utc::now()).await;

    assert_eq!(report.found, 0);
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_pending_past_the_deduplication_window_is_reported_stuck_and_not_sent_blind() {
    let stack = Stack::new().await;
    leave_task_pending(&stack).await;

    let report = reconciler(&stack).run_once(Utc::now() + TimeDelta::minutes(10)).await;

    assert_eq!(report.found, 1);
    assert_eq!(report.stuck, 1);
    assert_eq!(report.enqueued, 0);
    assert!(stack.messages().await.is_empty());
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_pending");
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_queue_certainly_refused_the_task_a_late_retry_may_still_send_it() {
    let stack = Stack::new().await;
    // A queue URL that SQS answers with an error: certainly not sent.
    let mut config_stack = Stack::new().await;
    config_stack.table = stack.table.clone();
    config_stack.queue_url = format!("{}-missing.fifo", stack.queue_url.trim_end_matches(".fifo"));
    let refusing = config_stack.pipeline(Truecaller);

    let failed = deliver(&refusing, fixture(HAPPY)).await;

    assert_eq!(failed.status, 503, "{}", failed.body);
    let item = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(item["status"], "task_pending");
    assert!(item.get("send_attempted_at").is_none(), "a refused send leaves no possible send behind");

    let report = reconciler(&stack).run_once(Utc::now() + TimeDelta::minutes(30)).await;

    assert_eq!(report.enqueued, 1, "{report:?}");
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn fifo_deduplication_on_the_emulator_drops_a_repeated_task_id() {
    let stack = Stack::new().await;
    let queue = SqsTaskQueue::new(stack.sqs.clone(), &stack.queue_url);
    let task =
        pipeline::queue::OutgoingTask { task_id: "t-1".into(), group_id: "+911234567890".into(), body: "{}".into() };
    use pipeline::TaskQueue;

    let first = queue.send(std::slice::from_ref(&task)).await;
    let second = queue.send(std::slice::from_ref(&task)).await;

    assert!(first[0].is_ok() && second[0].is_ok());
    assert_eq!(stack.messages().await.len(), 1, "the duplicate-storm tests rely on this");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_of_concurrent_deliveries_of_one_task_event_gives_one_record_and_one_task() {
    let stack = Stack::new().await;
    // Several pipelines: separate clients and connection pools, like
    // separate Lambda instances.
    let pipelines: Vec<_> = (0..8).map(|_| stack.pipeline(Truecaller)).collect();
    // 40 at once. moto runs one request at a time in these tests
    // (scripts/moto_atomic.py): its own threads can let two conditional
    // writers win on a loaded machine, which DynamoDB never does.
    let storm = 40;

    let answers = join_all((0..storm).map(|i| deliver(&pipelines[i % pipelines.len()], fixture(HAPPY)))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let completion = deliver(&pipelines[0], fixture(REDELIVERY)).await;

    assert_storm_outcome(&stack, &statuses, answers.iter().filter(|a| a.outcomes() == ["stored"]).count()).await;
    assert_eq!(completion.status, 200, "{}", completion.body);
    assert_eq!(stack.messages().await.len(), 1);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_enqueued");
    report(format_args!(
        "duplicate storm: {storm} concurrent deliveries over 8 pipelines -> 1 record, 1 task ({} answered 503 under emulator load, completed by the redelivery)",
        statuses.iter().filter(|s| **s == 503).count()
    ));
}

/// The storm's invariants, whatever the emulator's load: every answer is
/// 200 or a retryable 503, at most one delivery stored the event, exactly
/// one record exists, and at most one task is on the queue.
async fn assert_storm_outcome(stack: &Stack, statuses: &[u16], stored: usize) {
    assert!(statuses.iter().all(|s| *s == 200 || *s == 503), "{statuses:?}");
    assert!(stored <= 1, "{stored} deliveries won the conditional write");
    assert_eq!(stack.items().await.len(), 1);
}

/// Runs `processes` storm workers at once, each delivering `fixture`
/// `per_process` times concurrently; returns every answer.
fn storm_across_processes(
    stack: &Stack,
    provider: &str,
    fixture: &str,
    processes: usize,
    per_process: usize,
) -> Vec<serde_json::Value> {
    let children: Vec<_> = (0..processes)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_storm-worker"))
                .args([
                    e2e::moto_endpoint(),
                    &stack.table,
                    &stack.queue_url,
                    provider,
                    fixture,
                    &per_process.to_string(),
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start storm worker")
        })
        .collect();
    children
        .into_iter()
        .flat_map(|child| {
            let output = child.wait_with_output().expect("storm worker");
            assert!(output.status.success(), "storm worker failed");
            let answers: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("worker JSON");
            answers
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_across_four_processes_gives_one_record_and_one_task() {
    let stack = Stack::new().await;

    let answers = storm_across_processes(&stack, "truecaller", HAPPY, 4, 10);
    let statuses: Vec<u16> = answers.iter().map(|a| a["status"].as_u64().unwrap_or(0) as u16).collect();
    let completion = deliver(&stack.pipeline(Truecaller), fixture(REDELIVERY)).await;

    assert_eq!(answers.len(), 40);
    assert_storm_outcome(&stack, &statuses, answers.iter().filter(|a| a["outcomes"][0] == "stored").count()).await;
    assert_eq!(completion.status, 200, "{}", completion.body);
    assert_eq!(stack.messages().await.len(), 1);
    report(format_args!(
        "duplicate storm: 40 deliveries from 4 processes x 10 concurrent -> 1 record, 1 task ({} answered 503 under emulator load)",
        statuses.iter().filter(|s| **s == 503).count()
    ));
}

/// A batch of the recorded mixed batch plus two human-request calls, so
/// the storm has tasks to send; written beside the test binary.
fn batch_with_two_tasks() -> String {
    let mut event: serde_json::Value =
        serde_json::from_str(&e2e::fixture_text("curious-thing/mixed-batch.json")).unwrap();
    let mut elements: Vec<serde_json::Value> = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    let human: serde_json::Value =
        serde_json::from_str(&e2e::fixture_body("curious-thing/call-complete-human-requested.json")).unwrap();
    let human = if human.is_array() { human[0].clone() } else { human };
    for (id, phone) in [
        ("9b7e2c1a-0000-4000-8000-000000000001", "+61491570006"),
        ("9b7e2c1a-0000-4000-8000-000000000002", "+61491570157"),
    ] {
        let mut element = human.clone();
        element["id"] = id.into();
        let text = element.to_string().replace(human["data"]["phone"].as_str().unwrap_or("\u{0}"), phone);
        elements.push(serde_json::from_str(&text).unwrap());
    }
    event["body"] = serde_json::Value::String(serde_json::Value::Array(elements).to_string());
    let path = std::env::temp_dir().join(format!("batch-with-two-tasks-{}.json", std::process::id()));
    std::fs::write(&path, event.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_storm_of_one_batch_across_processes_stores_each_element_once_and_sends_each_task_once() {
    let batch = batch_with_two_tasks();
    let reference = Stack::new().await;
    let single = deliver(&reference.pipeline(payloads::providers::CuriousThing), fixture(&batch)).await;
    assert_eq!(single.status, 200, "{}", single.body);
    let elements = single.outcomes().len();
    let records = reference.items().await.len();
    assert_eq!(reference.messages().await.len(), 2, "the batch carries two human requests");
    let stack = Stack::new().await;

    let answers = storm_across_processes(&stack, "curious-thing", &batch, 3, 10);
    let completion = deliver(&stack.pipeline(payloads::providers::CuriousThing), fixture(&batch)).await;

    assert!(answers.iter().all(|a| a["status"] == 200 || a["status"] == 503), "{answers:?}");
    for element in 0..elements {
        let stored = answers.iter().filter(|a| a["outcomes"][element] == "stored").count();
        assert!(stored <= 1, "element {element} stored {stored} times");
    }
    assert_eq!(completion.status, 200, "{}", completion.body);
    assert_eq!(stack.items().await.len(), records);
    let tasks = stack.messages().await;
    assert_eq!(tasks.len(), 2);
    assert_ne!(tasks[0]["task_id"], tasks[1]["task_id"]);
    report(format_args!(
        "batch storm: 30 deliveries of a {elements}-element batch from 3 processes -> {records} records, 2 tasks"
    ));
}
