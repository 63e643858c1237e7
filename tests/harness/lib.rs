//! End-to-end test harness: moto's server started by the harness itself
//! (free port on 127.0.0.1, stopped when the test process exits), a fresh
//! table and queue per test, the real pipeline, and a fault-injecting TCP
//! proxy that tests switch between forwarding, refusing and hanging.

pub mod calls;
pub mod proxy;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use payloads::ProviderParser;
use pipeline::ApiGatewayRequest as Request;
use pipeline::config::{Config, TokenSource};
use pipeline::metrics::Metrics;
use pipeline::{DynamoEventStore, Pipeline, SqsTaskQueue, Tokens};
use serde_json::Value;

pub use calls::CallCounter;
pub use proxy::{FaultProxy, Mode};

/// The moto server shared by one test process.
struct Moto {
    endpoint: String,
    _child: Child,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local addr").port()
}

fn start_moto() -> Moto {
    let port = free_port();
    // moto's server through scripts/moto_atomic.py: the same server, one
    // request at a time, so a conditional write is atomic as in DynamoDB
    // (moto's own threads can let two conditional writers both win). Run
    // with `python3` rather than `moto_server`: a fresh pip install's
    // console script may not be on PATH yet (pyenv shims).
    // The shell keeps moto's lifetime tied to ours: when this process exits,
    // its end of the pipe closes, `cat` returns, and moto is killed.
    let launcher = repo_root().join("scripts/moto_atomic.py");
    let script = format!(
        "python3 '{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null",
        launcher.display()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start moto_server (install it with: pip install \"moto[server]\", or run scripts/test.sh)");
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start on port {port} within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto { endpoint, _child: child }
}

/// The endpoint of this process's moto server, started on first use.
pub fn moto_endpoint() -> &'static str {
    &MOTO.get_or_init(start_moto).endpoint
}

/// SDK configuration for a local endpoint, with the pipeline's timeouts.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let (timeouts, retries) = pipeline::bootstrap::timeouts();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("ap-south-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "tests"))
        .timeout_config(timeouts)
        .retry_config(retries)
        .load()
        .await
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    format!("{prefix}-{}-{n}-{nanos}", std::process::id())
}

/// A fresh table and FIFO queue on moto, and clients to inspect them.
pub struct Stack {
    pub sdk: SdkConfig,
    pub table: String,
    pub queue_url: String,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
}

/// Tokens every test pipeline accepts (two, as during a rotation).
pub const TOKENS: &str = "dev-token-truecaller,dev-token-curious-thing,dev-token-smartflo,dev-token-wavix";

impl Stack {
    pub async fn new() -> Self {
        let sdk = sdk_config(moto_endpoint()).await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let table = unique("events");
        create_table(&dynamo, &table).await;
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{}.fifo", unique("callbacks")))
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
            .send()
            .await
            .expect("create queue")
            .queue_url()
            .expect("queue url")
            .to_owned();
        Self { sdk, table, queue_url, dynamo, sqs }
    }

    pub fn config(&self) -> Config {
        Config::from_lookup(|name| match name {
            "EVENTS_TABLE" => Some(self.table.clone()),
            "CALLBACK_QUEUE_URL" => Some(self.queue_url.clone()),
            "WEBHOOK_TOKENS" => Some(TOKENS.to_owned()),
            "MAX_BODY_BYTES" => Some("262144".into()),
            _ => None,
        })
        .expect("valid test config")
    }

    /// The real pipeline against this stack.
    pub fn pipeline<P: ProviderParser + 'static>(&self, parser: P) -> Pipeline<DynamoEventStore, SqsTaskQueue> {
        self.pipeline_via(parser, &self.sdk, &self.sdk)
    }

    /// The real pipeline with its DynamoDB and SQS clients built from the
    /// given configurations (for example through a [`FaultProxy`]).
    pub fn pipeline_via<P: ProviderParser + 'static>(
        &self,
        parser: P,
        dynamo_sdk: &SdkConfig,
        sqs_sdk: &SdkConfig,
    ) -> Pipeline<DynamoEventStore, SqsTaskQueue> {
        let config = self.config();
        let TokenSource::Inline(list) = &config.tokens else { unreachable!("tests use inline tokens") };
        let tokens = Tokens::parse(list).expect("tokens");
        let store = DynamoEventStore::new(aws_sdk_dynamodb::Client::new(dynamo_sdk), &self.table);
        let queue = SqsTaskQueue::new(aws_sdk_sqs::Client::new(sqs_sdk), &self.queue_url);
        Pipeline::new(parser, tokens, config, store, queue)
    }

    /// The real pipeline with every AWS operation it makes counted.
    pub fn counted_pipeline<P: ProviderParser + 'static>(
        &self,
        parser: P,
    ) -> (Pipeline<DynamoEventStore, SqsTaskQueue>, CallCounter) {
        let counter = CallCounter::default();
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&self.sdk).interceptor(counter.clone()).build();
        let sqs = aws_sdk_sqs::config::Builder::from(&self.sdk).interceptor(counter.clone()).build();
        let config = self.config();
        let store = DynamoEventStore::new(aws_sdk_dynamodb::Client::from_conf(dynamo), &self.table);
        let queue = SqsTaskQueue::new(aws_sdk_sqs::Client::from_conf(sqs), &self.queue_url);
        let tokens = Tokens::parse(TOKENS).expect("tokens");
        (Pipeline::new(parser, tokens, config, store, queue), counter)
    }

    /// Every item in the table, as JSON.
    pub async fn items(&self) -> Vec<Value> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamo
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan table");
            items.extend(page.items().iter().map(pipeline::dynamo::item_to_json));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        items.sort_by(|a, b| a["pk"].as_str().cmp(&b["pk"].as_str()));
        items
    }

    pub async fn item(&self, pk: &str) -> Option<Value> {
        self.items().await.into_iter().find(|item| item["pk"] == pk)
    }

    /// Drains the queue: every message's body (JSON) with its FIFO
    /// attributes under `_group` and `_dedup`.
    pub async fn messages(&self) -> Vec<Value> {
        let mut messages = Vec::new();
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive messages");
            if output.messages().is_empty() {
                empty_polls += 1;
                continue;
            }
            // Delete what was read: FIFO hides a group's next message while
            // one of its messages is in flight, so reading alone undercounts.
            let entries: Vec<_> = output
                .messages()
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .set_receipt_handle(m.receipt_handle().map(str::to_owned))
                        .build()
                        .ok()
                })
                .collect();
            self.sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("delete received messages");
            for message in output.messages() {
                let mut body: Value = serde_json::from_str(message.body().unwrap_or("null")).expect("JSON task");
                let attrs: HashMap<String, String> = message
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect())
                    .unwrap_or_default();
                body["_group"] = attrs.get("MessageGroupId").cloned().into();
                body["_dedup"] = attrs.get("MessageDeduplicationId").cloned().into();
                messages.push(body);
            }
        }
        messages
    }
}

async fn create_table(dynamo: &aws_sdk_dynamodb::Client, table: &str) {
    let attr = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
    };
    let key = |name: &str, kind| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap();
    dynamo
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("pending_shard"))
        .attribute_definitions(attr("pending_since"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("pending-tasks")
                .key_schema(key("pending_shard", KeyType::Hash))
                .key_schema(key("pending_since", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
}

/// The repository's root (the `events/` fixtures live there).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// A recorded event, `events/<relative>`, as raw JSON text.
pub fn fixture_text(relative: &str) -> String {
    let path = repo_root().join("events").join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A recorded event as the request the function receives.
pub fn fixture(relative: &str) -> Request {
    serde_json::from_str(&fixture_text(relative)).unwrap_or_else(|e| panic!("parse {relative}: {e}"))
}

/// A recorded event with its JSON edited first (body, headers, ...).
pub fn fixture_with(relative: &str, edit: impl FnOnce(&mut Value)) -> Request {
    let mut event: Value = serde_json::from_str(&fixture_text(relative)).expect("fixture JSON");
    edit(&mut event);
    serde_json::from_value(event).expect("edited fixture")
}

/// The body of a recorded event (base64-decoded when needed).
pub fn fixture_body(relative: &str) -> String {
    let event: Value = serde_json::from_str(&fixture_text(relative)).expect("fixture JSON");
    event["body"].as_str().unwrap_or_default().to_owned()
}

/// A response's status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub metrics: Metrics,
}

impl Answer {
    pub fn outcomes(&self) -> Vec<String> {
        self.body["events"]
            .as_array()
            .map(|events| events.iter().map(|e| e["outcome"].as_str().unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// Sends one request through the pipeline.
///
/// The pipeline's logs for the delivery are captured in the production
/// format and audited: no token and no full phone number of the request
/// may appear in them.
pub async fn deliver(pipeline: &Pipeline<DynamoEventStore, SqsTaskQueue>, request: Request) -> Answer {
    use tracing::instrument::WithSubscriber;

    let mut secrets: Vec<String> = TOKENS.split(',').map(str::to_owned).collect();
    let query = &request.raw_query_string;
    secrets.extend(audit::phone_numbers(query));
    secrets.extend(query.split('&').filter_map(|kv| kv.strip_prefix("key=")).map(str::to_owned));
    if let Some(token) = request.header("x-webhook-token") {
        secrets.push(token.to_owned());
    }
    let body_text = String::from_utf8_lossy(&request.body_bytes().unwrap_or_default()).into_owned();
    secrets.extend(audit::phone_numbers(&body_text));
    let capture = audit::Capture::default();
    let subscriber = pipeline::telemetry::subscriber(capture.clone(), pipeline::telemetry::filter_from(Some("debug")));
    let (response, metrics) = pipeline.handle_with_metrics(request).with_subscriber(subscriber).await;
    let logs = capture.text();
    if std::env::var_os("E2E_PRINT_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(!logs.is_empty(), "every delivery logs its outcome");
    audit::assert_clean(&logs, &secrets);
    let status = response.status_code.as_u16();
    // No CORS: webhooks come from providers' servers, never from browsers.
    assert!(
        !response.headers.keys().any(|name| name.starts_with("access-control-")),
        "a response carries CORS headers"
    );
    let body = serde_json::from_str(&response.body).unwrap_or(Value::String(response.body.clone()));
    Answer { status, body, metrics }
}

/// Prints a figure for the test log (read with `--nocapture`).
pub fn report(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "[figure] {line}");
}

pub mod audit {
    //! The log audit every delivery in the tests goes through: the logs the
    //! pipeline writes (in the production format) must hold no token and no
    //! full phone number from the request.

    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use payloads::{PhoneNumber, PhoneRegion};

    /// Deliveries audited in this test process.
    pub static AUDITED: AtomicU64 = AtomicU64::new(0);

    #[derive(Clone, Default)]
    pub struct Capture(Arc<Mutex<Vec<u8>>>);

    impl Capture {
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
        }
    }

    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("capture lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// Phone numbers in `text`: runs of 10 to 15 digits (optionally after
    /// `+`, allowing spaces and dashes inside) that parse as numbers. Each
    /// is returned as written (digits only) and in E.164.
    pub fn phone_numbers(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_ascii_digit() && (i == 0 || !(chars[i - 1].is_ascii_digit() || chars[i - 1] == '.')) {
                let mut digits = String::new();
                let mut j = i;
                while j < chars.len()
                    && (chars[j].is_ascii_digit()
                        || ((chars[j] == ' ' || chars[j] == '-')
                            && j + 1 < chars.len()
                            && chars[j + 1].is_ascii_digit()
                            && digits.len() < 15))
                {
                    if chars[j].is_ascii_digit() {
                        digits.push(chars[j]);
                    }
                    j += 1;
                }
                let followed_by_dot = j < chars.len() && chars[j] == '.';
                if (10..=15).contains(&digits.len())
                    && !followed_by_dot
                    && let Ok(phone) = PhoneNumber::parse(&digits, PhoneRegion::INDIA)
                {
                    found.push(phone.as_str().to_owned());
                    found.push(digits.clone());
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
        found
    }

    /// Panics, naming what leaked, if `logs` contain any of `secrets`.
    pub fn assert_clean(logs: &str, secrets: &[String]) {
        AUDITED.fetch_add(1, Ordering::Relaxed);
        for secret in secrets.iter().filter(|s| s.len() >= 8) {
            assert!(
                !logs.contains(secret.as_str()),
                "a log line contains a secret or full phone number ({} chars): {logs}",
                secret.len()
            );
        }
    }
}

/// SHA-256 of `bytes`, lower-case hex (how rejected records are keyed).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The names (without `.json`) of the recorded events in `events/<dir>/`, sorted.
pub fn recorded_names(dir: &str) -> Vec<String> {
    let path = repo_root().join("events").join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// The exact text of each element of a recorded JSON-array body, as the
/// parsers cut it out (`raw` of a batch element).
pub fn fixture_elements(relative: &str) -> Vec<String> {
    let body = fixture_body(relative);
    let elements: Vec<&serde_json::value::RawValue> = serde_json::from_str(&body).expect("a JSON array body");
    elements.into_iter().map(|e| e.get().to_owned()).collect()
}

/// Where a record expected from a recorded event is stored.
#[derive(Debug, Clone, Copy)]
pub enum Pk {
    /// `{provider}#{event_key}`, given in full.
    Key(&'static str),
    /// `{provider}#rejected#{sha256 of the whole body}`.
    RejectedBody,
    /// `{provider}#rejected#{sha256 of the n-th batch element's text}`.
    RejectedElement(usize),
}

/// What replaying one recorded event must leave behind.
#[derive(Debug, Clone, Copy)]
pub struct Recorded {
    /// File name in `events/<provider>/`, without `.json`.
    pub name: &'static str,
    pub status: u16,
    /// Every record the delivery stores, with its `status`; nothing else.
    pub records: &'static [(Pk, &'static str)],
    /// The phone (E.164) of every callback task it queues; nothing else.
    pub tasks: &'static [&'static str],
}

/// Replays every recorded event of `dir` (each against a fresh table and
/// queue) and checks status, records and tasks against `table`, which must
/// name every file in the directory. Collects every mismatch, then fails.
pub async fn replay_recorded<P: ProviderParser + Copy + 'static>(dir: &str, parser: P, table: &[Recorded]) {
    let mut listed: Vec<String> = table.iter().map(|r| r.name.to_owned()).collect();
    listed.sort();
    assert_eq!(recorded_names(dir), listed, "every recorded event of {dir} needs an expectation");

    let provider = parser.provider().name();
    let mut failures = Vec::new();
    for expect in table {
        let relative = format!("{dir}/{}.json", expect.name);
        let stack = Stack::new().await;
        let pipeline = stack.pipeline(parser);

        let answer = deliver(&pipeline, fixture(&relative)).await;

        let name = expect.name;
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{name}: {what}"));
            }
        };
        check(
            answer.status == expect.status,
            format!("status {} != {}: {}", answer.status, expect.status, answer.body),
        );
        let mut want: Vec<(String, String)> = expect
            .records
            .iter()
            .map(|(pk, status)| {
                let pk = match pk {
                    Pk::Key(pk) => (*pk).to_owned(),
                    Pk::RejectedBody => {
                        format!("{provider}#rejected#{}", sha256_hex(fixture_body(&relative).as_bytes()))
                    }
                    Pk::RejectedElement(i) => {
                        format!("{provider}#rejected#{}", sha256_hex(fixture_elements(&relative)[*i].as_bytes()))
                    }
                };
                (pk, (*status).to_owned())
            })
            .collect();
        want.sort();
        let items = stack.items().await;
        let mut got: Vec<(String, String)> = items
            .iter()
            .map(|i| {
                (i["pk"].as_str().unwrap_or_default().to_owned(), i["status"].as_str().unwrap_or_default().to_owned())
            })
            .collect();
        got.sort();
        check(got == want, format!("records {got:?} != {want:?}"));
        if matches!(answer.status, 200 | 422) {
            let outcomes = answer.outcomes();
            check(outcomes.len() == want.len(), format!("{} outcomes for {} records", outcomes.len(), want.len()));
            let rejected = outcomes.iter().filter(|o| *o == "rejected").count();
            let rejected_records = want.iter().filter(|(_, s)| s == "rejected").count();
            check(rejected == rejected_records, format!("outcomes {outcomes:?}"));
        }
        for item in &items {
            let prefix = format!("{provider}#");
            let pk = item["pk"].as_str().unwrap_or_default();
            if item["status"] != "rejected" {
                check(
                    item["event_key"].as_str().map(|k| format!("{prefix}{k}")).as_deref() == Some(pk),
                    format!("{pk}: event_key {}", item["event_key"]),
                );
                check(item["provider"] == provider, format!("{pk}: provider {}", item["provider"]));
            }
        }

        let messages = stack.messages().await;
        let mut phones: Vec<&str> = messages.iter().map(|m| m["phone"].as_str().unwrap_or_default()).collect();
        phones.sort_unstable();
        let mut want_phones = expect.tasks.to_vec();
        want_phones.sort_unstable();
        check(phones == want_phones, format!("task phones {phones:?} != {want_phones:?}"));
        for message in &messages {
            let event_key = message["event_key"].as_str().unwrap_or_default();
            let item = items.iter().find(|i| i["event_key"] == event_key);
            check(message["provider"] == provider, format!("task provider {}", message["provider"]));
            check(message["_group"] == message["phone"], format!("task group {}", message["_group"]));
            check(message["_dedup"] == message["task_id"], format!("task dedup {}", message["_dedup"]));
            check(
                item.is_some_and(|i| i["status"] == "task_enqueued" && i["task_id"] == message["task_id"]),
                format!("task {event_key} has no enqueued record with its task_id"),
            );
        }
        let enqueued = items.iter().filter(|i| i["status"] == "task_enqueued").count();
        check(enqueued == messages.len(), format!("{enqueued} records enqueued, {} messages", messages.len()));
    }
    assert!(failures.is_empty(), "recorded events of {dir}:\n{}", failures.join("\n"));
}
