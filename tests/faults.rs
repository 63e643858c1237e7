//! Dependency faults, injected through a proxy the tests control: each
//! ends with the right status, within the SDK's timeouts, and the retry
//! completes the work exactly once.

use std::time::Instant;

use e2e::{FaultProxy, Mode, Stack, deliver, fixture, report, sdk_config};
use payloads::providers::Truecaller;
use pipeline::bootstrap::{StartupError, load_tokens};
use pipeline::config::TokenSource;

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
const REDELIVERY: &str = "truecaller/cmb-happy-flow-redelivery.json";
const HAPPY_PK: &str = "truecaller#860a7f4c-6545-40f1-85be-3655edde650f";

#[tokio::test(flavor = "multi_thread")]
async fn when_the_queue_times_out_the_answer_is_503_and_the_redelivery_leaves_exactly_one_task() {
    let stack = Stack::new().await;
    let sqs_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let pipeline = stack.pipeline_via(Truecaller, &stack.sdk, &sdk_config(&sqs_proxy.endpoint).await);

    sqs_proxy.set(Mode::Hang);
    let started = Instant::now();
    let failed = deliver(&pipeline, fixture(HAPPY)).await;
    let elapsed = started.elapsed();
    sqs_proxy.set(Mode::Forward);

    assert_eq!(failed.status, 503, "{}", failed.body);
    report(format_args!("503 with SQS hanging after {elapsed:?}"));
    assert!(elapsed.as_secs() < 10, "answered within the operation timeout, took {elapsed:?}");
    let item = stack.item(HAPPY_PK).await.unwrap();
    assert_eq!(item["status"], "task_pending");
    assert!(item.get("send_attempted_at").is_some(), "a timed-out send may have landed");

    let retried = deliver(&pipeline, fixture(REDELIVERY)).await;

    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(stack.item(HAPPY_PK).await.unwrap()["status"], "task_enqueued");
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_dynamodb_throttles_the_answer_is_503_after_the_sdk_retries_and_the_retry_succeeds() {
    let stack = Stack::new().await;
    let dynamo_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    let (pipeline, calls) = {
        let via = sdk_config(&dynamo_proxy.endpoint).await;
        let counter = e2e::CallCounter::default();
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&via).interceptor(counter.clone()).build();
        let store = pipeline::DynamoEventStore::new(aws_sdk_dynamodb::Client::from_conf(dynamo), &stack.table);
        let queue = pipeline::SqsTaskQueue::new(aws_sdk_sqs::Client::new(&stack.sdk), &stack.queue_url);
        let tokens = pipeline::Tokens::parse(e2e::TOKENS).unwrap();
        (pipeline::Pipeline::new(Truecaller, tokens, stack.config(), store, queue), counter)
    };

    dynamo_proxy.set(Mode::Throttle);
    let failed = deliver(&pipeline, fixture(HAPPY)).await;

    assert_eq!(failed.status, 503, "{}", failed.body);
    assert_eq!(calls.calls().get("PutItem"), Some(&3), "three attempts, then the provider retries");
    assert!(stack.items().await.is_empty());

    dynamo_proxy.set(Mode::Forward);
    let retried = deliver(&pipeline, fixture(REDELIVERY)).await;

    assert_eq!(retried.status, 200, "{}", retried.body);
    assert_eq!(retried.outcomes(), ["stored"]);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_read_from_an_ssm_securestring_parameter() {
    let stack = Stack::new().await;
    let ssm = aws_sdk_ssm::Client::new(&stack.sdk);
    let name = format!("/webhook-receivers/{}/webhook-tokens", stack.table);
    ssm.put_parameter()
        .name(&name)
        .value("old-token,new-token")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        // moto's first SSM call can outlast one attempt; the retry must not fail.
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let tokens = load_tokens(&stack.sdk, &TokenSource::SsmParameter(name)).await.unwrap();

    assert_eq!(tokens.len(), 2);
    assert!(tokens.verify("old-token") && tokens.verify("new-token"));
    assert!(!tokens.verify("dev-token-truecaller"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_ssm_unreachable_at_cold_start_the_function_refuses_to_start() {
    let ssm_proxy = FaultProxy::start(e2e::moto_endpoint()).await;
    ssm_proxy.set(Mode::Refuse);
    let sdk = sdk_config(&ssm_proxy.endpoint).await;

    let started = Instant::now();
    let result = load_tokens(&sdk, &TokenSource::SsmParameter("/webhook-receivers/x/webhook-tokens".into())).await;

    assert!(matches!(result, Err(StartupError::Ssm(_))), "{result:?}");
    report(format_args!("cold start with SSM unreachable fails after {:?}", started.elapsed()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_token_parameter_refuses_to_start() {
    let stack = Stack::new().await;
    let ssm = aws_sdk_ssm::Client::new(&stack.sdk);
    let name = format!("/webhook-receivers/{}/empty", stack.table);
    ssm.put_parameter()
        .name(&name)
        .value(" , ")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        // moto's first SSM call can outlast one attempt; the retry must not fail.
        .overwrite(true)
        .send()
        .await
        .unwrap();

    let result = load_tokens(&stack.sdk, &TokenSource::SsmParameter(name)).await;

    assert!(matches!(result, Err(StartupError::NoTokens)), "{result:?}");
}
