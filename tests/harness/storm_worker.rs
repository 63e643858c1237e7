//! One "function instance" for the multi-process duplicate-storm tests: its
//! own process, clients and connection pool, delivering one recorded event
//! `count` times concurrently through the real pipeline, then printing the
//! statuses and outcomes as one JSON line.
//!
//! Usage: storm-worker <endpoint> <table> <queue-url> <provider> <fixture> <count>

use e2e::{Stack, deliver, fixture, sdk_config};
use futures::future::join_all;
use payloads::ProviderParser;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, endpoint, table, queue_url, provider, fixture_path, count] = args.as_slice() else {
        eprintln!("usage: storm-worker <endpoint> <table> <queue-url> <provider> <fixture> <count>");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("count");
    let sdk = sdk_config(endpoint).await;
    let stack = Stack {
        dynamo: aws_sdk_dynamodb::Client::new(&sdk),
        sqs: aws_sdk_sqs::Client::new(&sdk),
        sdk,
        table: table.clone(),
        queue_url: queue_url.clone(),
    };
    let answers = match provider.as_str() {
        "truecaller" => run(&stack, payloads::providers::Truecaller, fixture_path, count).await,
        "curious-thing" => run(&stack, payloads::providers::CuriousThing, fixture_path, count).await,
        "smartflo" => run(&stack, payloads::providers::Smartflo, fixture_path, count).await,
        "wavix" => run(&stack, payloads::providers::Wavix, fixture_path, count).await,
        other => panic!("unknown provider {other}"),
    };
    println!("{}", serde_json::Value::Array(answers));
}

async fn run<P: ProviderParser + 'static>(
    stack: &Stack,
    parser: P,
    path: &str,
    count: usize,
) -> Vec<serde_json::Value> {
    let pipeline = stack.pipeline(parser);
    let answers = join_all((0..count).map(|_| deliver(&pipeline, fixture(path)))).await;
    answers.into_iter().map(|a| serde_json::json!({"status": a.status, "outcomes": a.outcomes()})).collect()
}
