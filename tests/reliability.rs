//! Reliability end to end: the reconciler, FIFO deduplication, and
//! duplicate storms, against moto.

use chrono::{TimeDelta, Utc};
use e2e::{FaultProxy, Mode, Stack, deliver, fixture, report, sdk_config};
use futures::future::join_all;
use payloads::providers::Truecaller;
use pipeline::reconcile::Reconciler;
use pipeline::{DynamoEventStore, SqsTaskQueue};

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
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
    let storm = 64;

    let answers = join_all((0..storm).map(|i| deliver(&pipelines[i % pipelines.len()], fixture(HAPPY)))).await;

    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let stored = answers.iter().filter(|a| a.outcomes() == ["stored"]).count();
    assert_eq!(stored, 1, "exactly one delivery wins the conditional write");
    assert_eq!(stack.items().await.len(), 1);
    assert_eq!(stack.messages().await.len(), 1);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_enqueued");
    report(format_args!("duplicate storm: {storm} concurrent deliveries over 8 pipelines -> 1 record, 1 task"));
}
