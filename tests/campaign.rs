//! The truecaller-campaign function end to end: records the real receiver
//! pipeline wrote to moto, turned into DynamoDB stream events, pushed to a
//! local stand-in for Truecaller's Verified Campaign endpoint that records
//! what it receives and fails on demand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use campaign::config::{CampaignConfig, ConfigError};
use campaign::ledger::{ClaimRequest, Ledger};
use campaign::metrics::CampaignMetrics;
use campaign::stream::{DynamoDbEventResponse, Event, Selection, select};
use campaign::{CampaignPusher, bootstrap};
use chrono::{TimeDelta, Utc};
use e2e::audit::{Capture, assert_clean};
use e2e::{Stack, deliver, fixture_with};
use payloads::providers::Truecaller;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::instrument::WithSubscriber;

const HAPPY: &str = "truecaller/cmb-happy-flow.json";
const HAPPY_PK: &str = "truecaller#860a7f4c-6545-40f1-85be-3655edde650f";
const ORG_ID: &str = "org-5f0c1d2e3a4b5c6d";
const ORG_TOKEN: &str = "tc-org-token-do-not-log-7c9e";
const PHONE: &str = "+911234567890";
const BUSINESS_DIGITS: &str = "919876543210";

// ---------------------------------------------------------------------------
// A stand-in for Truecaller's Verified Campaign webhook endpoint
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    /// Answer `status` this many times, then 200.
    Fail {
        status: u16,
        times: u32,
    },
    /// Always answer `status`.
    Always(u16),
    /// Read the request, never answer.
    Hang,
}

#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
    answered: Option<u16>,
}

#[derive(Clone)]
struct Standin {
    url: String,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Standin {
    async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stand-in");
        let url = format!("http://{}/v1/verified-campaign/webhook", listener.local_addr().unwrap());
        let standin = Self { url, mode: Arc::new(Mutex::new(mode)), received: Arc::default() };
        let server = standin.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(conn));
            }
        });
        standin
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Requests answered 2xx: campaigns Truecaller would have taken.
    fn pushes(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s))).collect()
    }

    async fn serve(self, mut conn: TcpStream) {
        loop {
            let Some(mut request) = read_request(&mut conn).await else { return };
            let status = {
                let mut mode = self.mode.lock().unwrap();
                match *mode {
                    Mode::Ok => Some(200),
                    Mode::Fail { status, times } if times > 0 => {
                        *mode = Mode::Fail { status, times: times - 1 };
                        Some(status)
                    }
                    Mode::Fail { .. } => Some(200),
                    Mode::Always(status) => Some(status),
                    Mode::Hang => None,
                }
            };
            request.answered = status;
            self.received.lock().unwrap().push(request);
            let Some(status) = status else {
                // Hold the connection open and silent until the client gives up.
                let mut sink = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(30), conn.read(&mut sink)).await;
                return;
            };
            let body = if status < 300 {
                r#"{"status":"accepted"}"#.to_owned()
            } else {
                format!(r#"{{"error":"stand-in answered {status}","detail":"receiver_number is not allowed"}}"#)
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if conn.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// One HTTP/1.1 request (headers and a `content-length` body).
async fn read_request(conn: &mut TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.lines();
    let mut start = lines.next()?.split(' ');
    let (method, path) = (start.next()?.to_owned(), start.next()?.to_owned());
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while data.len() < header_end + length {
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let body = String::from_utf8_lossy(&data[header_end..header_end + length]).into_owned();
    Some(Received { method, path, headers, body, answered: None })
}

// ---------------------------------------------------------------------------
// The function against moto
// ---------------------------------------------------------------------------

fn template() -> Value {
    json!({
        "profile": {"campaign_name": "Callback {cmb_config_name}", "campaign_id": "cb-{task_id}",
                    "campaign_type": "lifecycle"},
        "content": {"display_unit": "acs_missed", "template_style": 3, "ttl": 86400,
                    "theme_color": "#0A84FF", "text_color": "white",
                    "title": "We will call you back", "sub_title": "About {feature_set}, {requested_slot}",
                    "call_to_action": "Reschedule",
                    "deeplink": "https://example.com/cb?fs={feature_set}&from={business_phone}",
                    "image_url": "https://cdn.example.com/{provider}/logo.png"}
    })
}

struct Fixture {
    stack: Stack,
    dlq_url: String,
    standin: Standin,
}

impl Fixture {
    async fn new(mode: Mode) -> Self {
        let stack = Stack::new().await;
        let dlq_url = stack
            .sqs
            .create_queue()
            .queue_name(format!("campaign-dlq-{}", uuid_like()))
            .send()
            .await
            .expect("create DLQ")
            .queue_url()
            .expect("DLQ url")
            .to_owned();
        Self { stack, dlq_url, standin: Standin::start(mode).await }
    }

    fn env(&self, templates: &Value) -> impl Fn(&str) -> Option<String> + use<> {
        let vars: HashMap<&'static str, String> = HashMap::from([
            ("EVENTS_TABLE", self.stack.table.clone()),
            ("CAMPAIGN_DLQ_URL", self.dlq_url.clone()),
            ("TRUECALLER_CAMPAIGN_URL", self.standin.url.clone()),
            ("TRUECALLER_ORG_ID", ORG_ID.to_owned()),
            ("TRUECALLER_ORG_TOKEN", ORG_TOKEN.to_owned()),
            ("CAMPAIGN_TEMPLATES", templates.to_string()),
            ("CAMPAIGN_HTTP_TIMEOUT_MS", "400".to_owned()),
            ("CAMPAIGN_BACKOFF_MS", "20".to_owned()),
        ]);
        move |name| vars.get(name).cloned()
    }

    async fn pusher_with(&self, templates: &Value) -> CampaignPusher {
        let config = CampaignConfig::from_lookup(self.env(templates)).expect("valid campaign config");
        bootstrap::build_with(&config, &self.stack.sdk).await.expect("cold start")
    }

    async fn pusher(&self) -> CampaignPusher {
        self.pusher_with(&json!({"truecaller:callback_requested": template()})).await
    }

    /// Delivers the happy-flow `cmb` through the real receiver pipeline and
    /// returns the stream event its `task_pending` → `task_enqueued`
    /// transition produces.
    async fn enqueued_cmb(&self) -> Event {
        // The recorded business number (910987654321) is not a valid Indian
        // number, so its task has none; a real one lets the template use it.
        let request = fixture_with(HAPPY, |event| {
            let body = event["body"].as_str().unwrap().replace("910987654321", BUSINESS_DIGITS);
            event["body"] = Value::from(body);
        });
        let answer = deliver(&self.stack.pipeline(Truecaller), request).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let item = self.raw_item(HAPPY_PK).await.expect("event record");
        assert_eq!(item["status"].as_s().unwrap(), "task_enqueued");
        let mut old = item.clone();
        old.insert("status".into(), AttributeValue::S("task_pending".into()));
        stream_event("MODIFY", &item, Some(&old), "4421584500000000017450439091")
    }

    async fn raw_item(&self, pk: &str) -> Option<HashMap<String, AttributeValue>> {
        let output = self
            .stack
            .dynamo
            .get_item()
            .table_name(&self.stack.table)
            .key("pk", AttributeValue::S(pk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get item");
        output.item().cloned()
    }

    async fn task_id(&self) -> String {
        self.raw_item(HAPPY_PK).await.unwrap()["task_id"].as_s().unwrap().clone()
    }

    async fn campaign_record(&self) -> Option<Value> {
        let task_id = self.task_id().await;
        self.stack.item(&campaign::ledger::pk(&task_id)).await
    }

    async fn dead_letters(&self) -> Vec<Value> {
        let mut letters = Vec::new();
        for _ in 0..2 {
            let output = self
                .stack
                .sqs
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(600)
                .send()
                .await
                .expect("receive dead letters");
            letters.extend(output.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()));
        }
        letters
    }
}

fn uuid_like() -> String {
    format!("{}-{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or_default())
}

/// A DynamoDB attribute as DynamoDB JSON, as a stream record carries it.
fn ddb_json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::L(items) => json!({"L": items.iter().map(ddb_json).collect::<Vec<_>>()}),
        AttributeValue::M(map) => {
            json!({"M": map.iter().map(|(k, v)| (k.clone(), ddb_json(v))).collect::<serde_json::Map<_, _>>()})
        }
        other => panic!("unexpected attribute {other:?}"),
    }
}

fn image(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), ddb_json(v))).collect())
}

fn stream_event(
    name: &str,
    new: &HashMap<String, AttributeValue>,
    old: Option<&HashMap<String, AttributeValue>>,
    sequence: &str,
) -> Event {
    let mut change = json!({
        "ApproximateCreationDateTime": 1753945761.0,
        "Keys": {"pk": new.get("pk").map(ddb_json).unwrap()},
        "NewImage": image(new),
        "SequenceNumber": sequence,
        "SizeBytes": 1500,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(old) = old {
        change["OldImage"] = image(old);
    }
    serde_json::from_value(json!({"Records": [{
        "awsRegion": "ap-south-1",
        "eventID": format!("ev-{sequence}"),
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "eventVersion": "1.1",
        "eventSourceARN": "arn:aws:dynamodb:ap-south-1:123456789012:table/events/stream/2025-07-31T00:00:00.000",
        "dynamodb": change,
    }]}))
    .expect("stream event")
}

/// Runs one batch with the function's logs captured in the production
/// format and audited: neither the org token nor the customer's full number
/// may appear.
async fn run(pusher: &CampaignPusher, event: &Event) -> (DynamoDbEventResponse, CampaignMetrics) {
    let capture = Capture::default();
    let subscriber = pipeline::telemetry::subscriber(capture.clone(), pipeline::telemetry::filter_from(Some("debug")));
    let deadline = Some(Utc::now() + TimeDelta::seconds(60));
    let result = pusher.handle(event, deadline).with_subscriber(subscriber).await;
    let logs = capture.text();
    if std::env::var_os("E2E_PRINT_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(logs.contains("batch_done"), "every batch logs its outcome");
    let secrets = [ORG_TOKEN, PHONE, "911234567890", "+919876543210", BUSINESS_DIGITS].map(str::to_owned);
    assert_clean(&logs, &secrets);
    result
}

fn failures(response: &DynamoDbEventResponse) -> Vec<String> {
    response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn an_enqueued_cmb_task_is_pushed_once_with_the_org_headers_and_a_valid_campaign() {
    let f = Fixture::new(Mode::Ok).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;
    let task_id = f.task_id().await;

    let (response, metrics) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty());
    assert_eq!(metrics.pushed, 1);
    let pushes = f.standin.pushes();
    assert_eq!(pushes.len(), 1);
    let push = &pushes[0];
    assert_eq!(push.method, "POST");
    assert_eq!(push.path, "/v1/verified-campaign/webhook");
    assert_eq!(push.headers["x-org-id"], ORG_ID);
    assert_eq!(push.headers["x-org-token"], ORG_TOKEN);
    assert_eq!(push.headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&push.body).expect("JSON body");
    assert_eq!(
        body,
        json!({
            "profile": {"campaign_name": "Callback CMBName", "campaign_id": format!("cb-{task_id}"),
                        "campaign_type": "lifecycle", "receiver_number": PHONE},
            "content": {"template_style": 3, "display_unit": "acs_missed", "ttl": 86400,
                        "theme_color": "#0A84FF", "text_color": "white", "title": "We will call you back",
                        "sub_title": "About Fresh Flower Delivery, Saturday", "call_to_action": "Reschedule",
                        "deeplink": "https://example.com/cb?fs=Fresh%20Flower%20Delivery&from=%2B919876543210",
                        "image_url": "https://cdn.example.com/truecaller/logo.png"}
        })
    );
    // The body is exactly what the rules validated for this task.
    let task = payloads::CallbackTask::from_json(f.raw_item(HAPPY_PK).await.unwrap()["task"].as_s().unwrap()).unwrap();
    let template = payloads::campaign::CampaignTemplate::from_json(&template().to_string()).unwrap();
    assert_eq!(push.body, template.render(&task).expect("valid per the rules").to_json());
    let record = f.campaign_record().await.expect("campaign record");
    assert_eq!(record["status"], "sent");
    assert_eq!(record["http_status"], 200);
    assert_eq!(record["deliveries"], 1);
    assert_eq!(record["source_pk"], HAPPY_PK);
    assert!(record["expires_at"].as_i64().unwrap() > Utc::now().timestamp() + 80 * 86_400);
    assert!(f.dead_letters().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_stream_record_pushes_nothing_more() {
    let f = Fixture::new(Mode::Ok).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;

    run(&pusher, &event).await;
    let (again, metrics) = run(&pusher, &event).await;
    // Another instance of the function (own clients) gets it too.
    let (third, _) = run(&f.pusher().await, &event).await;

    assert!(failures(&again).is_empty() && failures(&third).is_empty());
    assert_eq!(metrics.duplicates, 1);
    assert_eq!(metrics.pushed, 0);
    assert_eq!(f.standin.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundreds_then_ok_give_one_push_after_retries_within_the_invocation() {
    let f = Fixture::new(Mode::Fail { status: 503, times: 2 }).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;

    let (response, metrics) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty());
    assert_eq!(f.standin.received().len(), 3);
    assert_eq!(f.standin.pushes().len(), 1);
    assert_eq!(metrics.retries, 2);
    assert_eq!(metrics.pushed, 1);
    let record = f.campaign_record().await.unwrap();
    assert_eq!(record["status"], "sent");
    assert_eq!(record["http_attempts"], 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundreds_past_the_attempts_fail_the_record_and_lambdas_retry_pushes_once() {
    let f = Fixture::new(Mode::Always(500)).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;

    let (response, metrics) = run(&pusher, &event).await;

    assert_eq!(failures(&response), ["4421584500000000017450439091"]);
    assert_eq!(metrics.failures, 1);
    assert_eq!(f.campaign_record().await.unwrap()["status"], "retry");
    assert!(f.standin.pushes().is_empty());

    // Truecaller recovers; Lambda retries the failed record.
    f.standin.set(Mode::Ok);
    let (retried, metrics) = run(&pusher, &event).await;

    assert!(failures(&retried).is_empty());
    assert_eq!(metrics.pushed, 1);
    assert_eq!(f.standin.pushes().len(), 1);
    let record = f.campaign_record().await.unwrap();
    assert_eq!(record["status"], "sent");
    assert_eq!(record["deliveries"], 2);
    assert_eq!(record["http_attempts"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_endpoint_times_out_is_retried_and_the_record_fails_for_a_later_try() {
    let f = Fixture::new(Mode::Hang).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;

    let started = std::time::Instant::now();
    let (response, metrics) = run(&pusher, &event).await;

    assert_eq!(failures(&response).len(), 1);
    assert_eq!(f.standin.received().len(), 3, "three attempts");
    assert_eq!(metrics.retries, 2);
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the timeouts: {:?}", started.elapsed());
    let record = f.campaign_record().await.unwrap();
    assert_eq!(record["status"], "retry");
    assert_eq!(record["last_error"], "timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_4xx_is_dead_lettered_with_its_reason_and_the_record_failed_once() {
    let f = Fixture::new(Mode::Always(400)).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;
    let task_id = f.task_id().await;

    let (response, metrics) = run(&pusher, &event).await;
    let (again, _) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty() && failures(&again).is_empty(), "a 4xx is not retried");
    assert_eq!(f.standin.received().len(), 1, "no retry of a 4xx, no second push on redelivery");
    assert_eq!(metrics.rejected.get("rejected_by_truecaller"), Some(&1));
    let letters = f.dead_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let letter = &letters[0];
    assert_eq!(letter["schema"], "truecaller-campaign-dead-letter/v1");
    assert_eq!(letter["task_id"], task_id);
    assert_eq!(letter["source_pk"], HAPPY_PK);
    assert_eq!(letter["reason"], "rejected_by_truecaller");
    assert_eq!(letter["http_status"], 400);
    assert!(letter["body_snippet"].as_str().unwrap().contains("receiver_number is not allowed"));
    assert_eq!(letter["template"], "truecaller:callback_requested");
    let record = f.campaign_record().await.unwrap();
    assert_eq!(record["status"], "failed");
    assert_eq!(record["failure_reason"], "rejected_by_truecaller");
    assert!(record.get("dead_lettered_at").is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_that_breaks_the_rules_for_this_task_is_dead_lettered_and_never_sent() {
    let f = Fixture::new(Mode::Ok).await;
    let mut long_title = template();
    // "Fresh Flower Delivery" three times is 65 characters: over 40.
    long_title["content"]["title"] = json!("{feature_set} {feature_set} {feature_set}");
    let pusher = f.pusher_with(&json!({"*:callback_requested": long_title})).await;
    let event = f.enqueued_cmb().await;

    let (response, metrics) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty());
    assert!(f.standin.received().is_empty());
    assert_eq!(metrics.rejected.get("invalid_campaign"), Some(&1));
    let letters = f.dead_letters().await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["reason"], "invalid_campaign");
    assert_eq!(
        letters[0]["problems"],
        json!([{"field": "content.title", "problem": "has 65 characters; at most 40 allowed"}])
    );
    assert_eq!(f.campaign_record().await.unwrap()["status"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_template_refuses_to_start_naming_its_fields() {
    let f = Fixture::new(Mode::Ok).await;
    let mut bad = template();
    bad["content"]["theme_color"] = json!("blue");
    bad["content"]["subtitle"] = json!("misspelt");
    let mut wrong_unit = template();
    wrong_unit["content"]["display_unit"] = json!("caller_id");

    let err =
        CampaignConfig::from_lookup(f.env(&json!({"truecaller:callback_requested": bad, "*:missed_call": wrong_unit})))
            .unwrap_err();

    let ConfigError::Templates(problems) = &err else { panic!("{err}") };
    let text = err.to_string();
    assert!(text.contains("\"truecaller:callback_requested\": unknown field `subtitle`"), "{text}");
    assert!(
        text.contains("\"*:missed_call\": content.call_to_action: is not used by display unit caller_id"),
        "{text}"
    );
    assert!(text.contains("\"*:missed_call\": content.deeplink"), "{text}");
    assert!(problems.len() >= 3, "{problems:?}");

    bad["content"].as_object_mut().unwrap().remove("subtitle");
    let err = CampaignConfig::from_lookup(f.env(&json!({"truecaller:callback_requested": bad}))).unwrap_err();
    assert!(err.to_string().contains("content.theme_color: \"blue\" is not a colour"), "{err}");
    assert!(f.standin.received().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_without_a_template_is_skipped_and_counted() {
    let f = Fixture::new(Mode::Ok).await;
    let pusher = f.pusher_with(&json!({"*:missed_call": template()})).await;
    let event = f.enqueued_cmb().await;

    let (response, metrics) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty());
    assert_eq!(metrics.skipped, 1);
    assert!(f.standin.received().is_empty());
    assert!(f.campaign_record().await.is_none());
    assert!(f.dead_letters().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn records_that_are_not_a_transition_to_enqueued_do_nothing() {
    let f = Fixture::new(Mode::Ok).await;
    let pusher = f.pusher().await;
    f.enqueued_cmb().await;
    let item = f.raw_item(HAPPY_PK).await.unwrap();
    let mut pending = item.clone();
    pending.insert("status".into(), AttributeValue::S("task_pending".into()));

    for event in [stream_event("MODIFY", &item, Some(&item), "1"), stream_event("INSERT", &pending, None, "2"), {
        let mut removed = stream_event("REMOVE", &item, Some(&item), "3");
        removed.records[0].change.new_image = Default::default();
        removed
    }] {
        let (response, metrics) = run(&pusher, &event).await;
        assert!(failures(&response).is_empty());
        assert_eq!(metrics.pushed + metrics.skipped + metrics.rejected_total(), 0);
    }
    assert!(f.standin.received().is_empty());
    // An INSERT straight to task_enqueued counts as a transition.
    let (_, metrics) = run(&pusher, &stream_event("INSERT", &item, None, "4")).await;
    assert_eq!(metrics.pushed, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_held_by_a_live_invocation_is_left_to_it_and_one_whose_lease_ran_out_is_taken_over() {
    let f = Fixture::new(Mode::Ok).await;
    let pusher = f.pusher().await;
    let event = f.enqueued_cmb().await;
    let task_id = f.task_id().await;
    let request =
        ClaimRequest { task_id: &task_id, source_pk: HAPPY_PK, provider: "truecaller", reason: "callback_requested" };
    let other = Ledger::new(f.stack.dynamo.clone(), &f.stack.table, Duration::from_secs(120), 90);

    // Another invocation is pushing it now: not pushed twice.
    other.claim(&request, Utc::now()).await.unwrap();
    let no_deadline = pusher.handle(&event, None).await;
    assert_eq!(failures(&no_deadline.0).len(), 1, "retried later, not pushed alongside");
    assert!(f.standin.received().is_empty());

    // That invocation died mid-push long ago: its lease ran out.
    let stale = Ledger::new(f.stack.dynamo.clone(), &f.stack.table, Duration::from_secs(120), 90);
    f.stack
        .dynamo
        .delete_item()
        .table_name(&f.stack.table)
        .key("pk", AttributeValue::S(campaign::ledger::pk(&task_id)))
        .send()
        .await
        .unwrap();
    stale.claim(&request, Utc::now() - TimeDelta::minutes(10)).await.unwrap();
    let (response, metrics) = run(&pusher, &event).await;

    assert!(failures(&response).is_empty());
    assert_eq!(metrics.pushed, 1);
    assert_eq!(metrics.retries, 1, "a push repeated after a lost holder counts as a retry");
    assert_eq!(f.standin.pushes().len(), 1);
    assert_eq!(f.campaign_record().await.unwrap()["deliveries"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_stream_events_parse_and_select_as_their_names_say() {
    let dir = e2e::repo_root().join("events/truecaller-campaign");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("events/truecaller-campaign") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("templates") {
            continue; // scripts/run.sh's CAMPAIGN_TEMPLATES, tested below
        }
        let event: Event =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let selected = select(&event.records[0]);
        let expect_work = name.starts_with("insert-enqueued") || name.starts_with("modify-to-enqueued");
        assert_eq!(matches!(selected, Selection::Enqueued(_)), expect_work, "{name}: {selected:?}");
        if let Selection::Enqueued(task) = selected {
            payloads::CallbackTask::from_json(task.task_json.as_deref().unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        seen += 1;
    }
    assert!(seen >= 4, "{seen} recorded events");
}

/// `scripts/run.sh` configures the function with
/// `events/truecaller-campaign/templates.json`: it must load, and render a
/// valid campaign for the recorded work events; `templates-invalid.json`
/// (its invalid-template demonstration) must be refused, naming each field.
#[test]
fn the_local_run_templates_load_and_the_invalid_ones_are_refused_by_field() {
    let dir = e2e::repo_root().join("events/truecaller-campaign");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let templates = campaign::templates::Templates::from_json(&read("templates.json")).expect("templates.json loads");
    for reason in campaign::templates::REASONS {
        for provider in payloads::Provider::ALL {
            assert!(templates.find(provider, reason).is_some(), "no template for {provider:?}:{reason:?}");
        }
    }
    for name in ["modify-to-enqueued-cmb.json", "insert-enqueued-cmb.json"] {
        let event: Event = serde_json::from_str(&read(name)).unwrap();
        let Selection::Enqueued(selected) = select(&event.records[0]) else { panic!("{name} is work") };
        let task = payloads::CallbackTask::from_json(selected.task_json.as_deref().unwrap()).unwrap();
        let (_, template) = templates.find(task.provider, task.reason).unwrap();
        let campaign = template.render(&task).unwrap_or_else(|p| panic!("{name}: {p:?}"));
        assert!(campaign.to_json().contains(&format!("cb-{}", task.task_id)), "campaign_id names the task");
    }

    let problems = campaign::templates::Templates::from_json(&read("templates-invalid.json")).unwrap_err().join("\n");
    assert!(problems.contains("content.title: has 56 characters; at most 40 allowed"), "{problems}");
    assert!(problems.contains("content.call_to_action: is mandatory"), "{problems}");
}
