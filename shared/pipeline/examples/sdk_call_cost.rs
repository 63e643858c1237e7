//! CPU per SDK operation, with and without the network: a measuring aid for
//! issue 6 (docs/performance.md, "Session 4"), never used by the tests.
//!
//! Runs the three calls of a task delivery (a conditional `PutItem` of a
//! record-sized item, `SendMessage`, `UpdateItem`) N times on a
//! current-thread runtime, as the functions do, and prints the thread's CPU
//! per group of three from `/proc/thread-self/schedstat`:
//!
//!   canned  an in-process HTTP connector answers each request at once with
//!           a canned success: the SDK's own cost (orchestrator,
//!           interceptors, endpoint and identity resolution, SigV4,
//!           serialisation), no socket, no kernel;
//!   http    the functions' HTTPS client (hyper, pool) against
//!           `AWS_ENDPOINT_URL` (e.g. scripts/experiments/instant_aws.py):
//!           the same plus hyper, tokio's reactor and three round trips;
//!   http-no-timeouts  the same without the SDK's timeouts (no timer
//!           pending while a call waits);
//!   lean    one keep-alive connection driven by hyper's low-level `http1`
//!           API instead of the pooled client (plain HTTP only).
//!
//!   cargo run --release -p pipeline --example sdk_call_cost -- canned 3000
//!   AWS_ENDPOINT_URL=http://127.0.0.1:4599 taskset -c 1 \
//!     target/release/examples/sdk_call_cost http 3000

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// Answers every request at once, by its `X-Amz-Target` operation.
#[derive(Debug, Clone)]
struct Canned;

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let body: &'static str = if target.ends_with("SendMessage") {
            r#"{"MessageId":"5fea7756-0ea4-451a-a703-a558b933e274","SequenceNumber":"18888888888888888888"}"#
        } else {
            "{}"
        };
        let mut response = HttpResponse::new(200.try_into().expect("200"), SdkBody::from(body));
        response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

impl HttpClient for Canned {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

/// One plain-HTTP keep-alive connection driven by hyper's low-level
/// `http1` API, no pool: how much of the connector's cost is the pooled
/// client's (measurement only: no TLS, no reconnect).
#[derive(Debug, Clone)]
struct Lean {
    address: String,
    sender: std::sync::Arc<tokio::sync::Mutex<Option<hyper::client::conn::http1::SendRequest<SdkBody>>>>,
}

impl HttpConnector for Lean {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            use http_body_util::BodyExt;
            let mut guard = this.sender.lock().await;
            if guard.is_none() {
                let stream = tokio::net::TcpStream::connect(&this.address).await.expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let (sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
                tokio::spawn(connection);
                *guard = Some(sender);
            }
            let sender = guard.as_mut().expect("connected");
            let request = request.try_into_http1x().expect("http 1.x request");
            let response = sender.send_request(request).await.expect("send");
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.expect("body").to_bytes();
            let response = hyper::Response::from_parts(parts, SdkBody::from(bytes));
            Ok(HttpResponse::try_from(response).expect("response"))
        })
    }
}

impl HttpClient for Lean {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

fn cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat run time")
}

fn item(i: usize) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    HashMap::from([
        ("pk".to_owned(), s(&format!("truecaller#cmb#{i:08}"))),
        ("provider".to_owned(), s("truecaller")),
        ("event_key".to_owned(), s(&format!("cmb#{i:08}"))),
        ("event_type".to_owned(), s("call_me_back")),
        ("status".to_owned(), s("task_pending")),
        ("received_at".to_owned(), s("2026-11-21T18:00:00.000Z")),
        ("payload_sha256".to_owned(), s(&"ab".repeat(32))),
        ("raw_body".to_owned(), s(&"{\"requestId\":\"x\",\"phone\":\"+919876543210\"}".repeat(12))),
        ("event".to_owned(), s(&"{\"name\":\"value\"}".repeat(20))),
        ("task_id".to_owned(), s("6f1e2d3c-4b5a-5968-8776-655443322110")),
        ("task_body".to_owned(), s(&"{\"schema\":\"callback-request/v1\"}".repeat(8))),
        ("send_attempted_at".to_owned(), AttributeValue::N("1795370400000".to_owned())),
        ("expires_at".to_owned(), AttributeValue::N("1803146400".to_owned())),
        ("pending_shard".to_owned(), AttributeValue::N("3".to_owned())),
    ])
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "canned".to_owned());
    let groups: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(3000);

    // SAFETY: single-threaded here, before any other thread exists.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "ap-south-1");
    }
    let sdk = match mode.as_str() {
        "canned" => {
            let (timeouts, retries) = pipeline::bootstrap::timeouts();
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
                .http_client(SharedHttpClient::new(Canned))
                .timeout_config(timeouts)
                .retry_config(retries)
                .stalled_stream_protection(
                    aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled(),
                )
                .load()
                .await
        }
        "http" => pipeline::bootstrap::sdk_config().await,
        "lean" => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
            let address = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
            pipeline::bootstrap::sdk_config()
                .await
                .into_builder()
                .http_client(SharedHttpClient::new(Lean { address, sender: Default::default() }))
                .build()
        }
        // The same without any timeout: no timer is pending while a call
        // waits, so the runtime parks without arming a kernel timer.
        "http-no-timeouts" => pipeline::bootstrap::sdk_config()
            .await
            .into_builder()
            .timeout_config(aws_config::timeout::TimeoutConfig::disabled())
            .build(),
        other => panic!("mode is canned, http or http-no-timeouts, not {other}"),
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = "https://sqs.ap-south-1.amazonaws.com/123456789012/callbacks.fifo";

    let mut spent = 0u64;
    for i in 0..groups + 100 {
        let start = cpu_ns();
        dynamodb
            .put_item()
            .table_name("events")
            .set_item(Some(item(i)))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .expect("PutItem");
        sqs.send_message()
            .queue_url(queue_url)
            .message_group_id("+919876543210")
            .message_deduplication_id("6f1e2d3c-4b5a-5968-8776-655443322110")
            .message_body("{\"schema\":\"callback-request/v1\"}".repeat(8))
            .send()
            .await
            .expect("SendMessage");
        dynamodb
            .update_item()
            .table_name("events")
            .key("pk", AttributeValue::S(format!("truecaller#cmb#{i:08}")))
            .update_expression("SET #s = :enqueued, enqueued_at = :now REMOVE pending_shard")
            .condition_expression("#s = :pending")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":enqueued", AttributeValue::S("task_enqueued".to_owned()))
            .expression_attribute_values(":pending", AttributeValue::S("task_pending".to_owned()))
            .expression_attribute_values(":now", AttributeValue::N("1795370400123".to_owned()))
            .send()
            .await
            .expect("UpdateItem");
        if i >= 100 {
            spent += cpu_ns() - start;
        }
    }
    println!(
        "{mode}: {groups} groups of 3 calls: {:.1} us CPU per group, {:.1} us per call",
        spent as f64 / groups as f64 / 1e3,
        spent as f64 / (groups * 3) as f64 / 1e3
    );
}
