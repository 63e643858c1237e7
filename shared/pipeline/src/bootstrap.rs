//! Cold start: typed config, AWS clients built once, tokens read once, and
//! the once-only costs paid before the first request.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use lambda_http::{Error, LambdaEvent, service_fn};
use payloads::{PhoneNumber, ProviderParser};
use tracing::info;

use crate::auth::Tokens;
use crate::config::{Config, TokenSource};
use crate::queue::SqsTaskQueue;
use crate::request::ApiGatewayRequest;
use crate::store::DynamoEventStore;
use crate::{Pipeline, telemetry};

/// Timeouts and retries chosen so a delivery is answered well within the
/// providers' timeouts and API Gateway's 30 s, even when a dependency hangs:
/// at most 3 attempts of 2 s each, 6 s in all.
pub fn timeouts() -> (TimeoutConfig, RetryConfig) {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(1_000))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(6))
        .build();
    let retries = RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(50));
    (timeouts, retries)
}

/// The SDK configuration from the environment (`AWS_ENDPOINT_URL` points
/// every client at a local emulator), with our timeouts.
///
/// Stalled-stream protection is off: it watches the throughput of every
/// request and response body with timers, which costs CPU on each call and
/// adds nothing here: the bodies are a few KiB and the attempt timeout
/// (2 s) already ends a stalled call.
///
/// Credentials come from the environment, where Lambda puts the function
/// role's: the SDK's default chain would also build an STS client for web
/// identity and look for profiles, costing init time for nothing.
pub async fn sdk_config() -> SdkConfig {
    let (timeouts, retries) = timeouts();
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new())
        .http_client(https_client(TrustedRoots::from_env()))
        .timeout_config(timeouts)
        .retry_config(retries)
        .stalled_stream_protection(aws_config::stalled_stream_protection::StalledStreamProtectionConfig::disabled())
        .load()
        .await
}

/// Amazon Trust Services' root CAs (Amazon Root CA 1-4, Starfield Services
/// Root G2): every AWS service endpoint's certificate chains to one of them.
const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Which root certificates the AWS clients trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustedRoots {
    /// Only Amazon Trust Services' roots (default): the clients only talk to
    /// AWS, a CA outside Amazon's cannot impersonate an endpoint, and init
    /// parses 5 certificates instead of the system's ~150 (about 17 M
    /// instructions, two thirds of init's CPU, measured with callgrind).
    AmazonTrustServices,
    /// The system's store (`AWS_TRUST_STORE=native`): the way out if an
    /// endpoint is ever reached through a CA outside Amazon's.
    Native,
}

impl TrustedRoots {
    pub fn from_env() -> Self {
        Self::from_setting(std::env::var("AWS_TRUST_STORE").ok().as_deref())
    }

    fn from_setting(setting: Option<&str>) -> Self {
        match setting.map(str::trim) {
            Some(value) if value.eq_ignore_ascii_case("native") => TrustedRoots::Native,
            _ => TrustedRoots::AmazonTrustServices,
        }
    }
}

/// The HTTPS client every AWS client of the function shares (one
/// connection pool): rustls with aws-lc, as the SDK's default client.
pub fn https_client(roots: TrustedRoots) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};

    let trust_store = match roots {
        TrustedRoots::AmazonTrustServices => TrustStore::empty().with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS),
        TrustedRoots::Native => TrustStore::empty().with_native_roots(true),
    };
    let tls_context = TlsContext::builder().with_trust_store(trust_store).build().expect("a trust store always builds");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::rustls(CryptoMode::AwsLc))
        .tls_context(tls_context)
        .build_https()
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("reading the token parameter failed: {0}")]
    Ssm(String),
    #[error("no webhook token configured")]
    NoTokens,
}

/// Reads the valid tokens: the SSM SecureString parameter, or the inline
/// list. None means refuse to start (fail closed).
pub async fn load_tokens(sdk: &SdkConfig, source: &TokenSource) -> Result<Tokens, StartupError> {
    let list = match source {
        TokenSource::Inline(list) => list.clone(),
        TokenSource::SsmParameter(name) => read_secure_parameter(sdk, name).await.map_err(StartupError::Ssm)?,
    };
    Tokens::parse(&list).map_err(|_| StartupError::NoTokens)
}

/// Reads an SSM SecureString parameter, decrypted, once at cold start.
/// An absent value reads as empty; the error carries the full cause chain.
pub async fn read_secure_parameter(sdk: &SdkConfig, name: &str) -> Result<String, String> {
    let output = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| aws_sdk_ssm::error::DisplayErrorContext(e).to_string())?;
    Ok(output.parameter().and_then(|p| p.value()).unwrap_or_default().to_owned())
}

/// Builds the pipeline for `parser` from the environment.
pub async fn build(
    parser: impl ProviderParser + 'static,
) -> Result<Pipeline<DynamoEventStore, SqsTaskQueue>, StartupError> {
    let config = Config::from_env()?;
    let sdk = sdk_config().await;
    let store = DynamoEventStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.events_table.clone());
    let queue = SqsTaskQueue::new(aws_sdk_sqs::Client::new(&sdk), config.callback_queue_url.clone());
    // Once-only costs, concurrently: the token read, the TLS handshakes to
    // DynamoDB and SQS (so the first delivery pays none), and the phone
    // library's metadata load (~100 ms of CPU, on a blocking thread).
    let warm_phone = tokio::task::spawn_blocking(PhoneNumber::warm_up);
    let (tokens, ()) = tokio::join!(load_tokens(&sdk, &config.tokens), warm_connections(&store, &queue));
    let tokens = tokens?;
    let _ = warm_phone.await;
    info!(provider = parser.provider().name(), tokens = tokens.len(), "initialised");
    Ok(Pipeline::new(parser, tokens, config, store, queue))
}

/// Opens the connections the first delivery will use, with two metadata
/// reads (`DescribeTable`, `GetQueueAttributes`). A failure here is logged,
/// not fatal: the delivery's own calls will retry and report.
pub async fn warm_connections(store: &DynamoEventStore, queue: &SqsTaskQueue) {
    let table = store.client().describe_table().table_name(store.table()).send();
    let queue_attributes = queue
        .client()
        .get_queue_attributes()
        .queue_url(queue.queue_url())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send();
    let (table, queue_attributes) = tokio::join!(table, queue_attributes);
    if let Err(err) = table {
        tracing::warn!(outcome = "warm_up_failed", dependency = "dynamodb", cause = %aws_sdk_dynamodb::error::DisplayErrorContext(err));
    }
    if let Err(err) = queue_attributes {
        tracing::warn!(outcome = "warm_up_failed", dependency = "sqs", cause = %aws_sdk_sqs::error::DisplayErrorContext(err));
    }
}

/// The whole of a function's `main`: build once, then serve.
pub async fn run(parser: impl ProviderParser + 'static) -> Result<(), Error> {
    telemetry::init();
    let pipeline = match build(parser).await {
        Ok(pipeline) => Arc::new(pipeline),
        Err(err) => {
            tracing::error!(outcome = "startup_failed", cause = %err);
            return Err(err.into());
        }
    };
    // lambda_runtime with our own event type rather than lambda_http::run:
    // see crate::request for why the http::Request conversion is skipped.
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayRequest>| {
        let pipeline = Arc::clone(&pipeline);
        async move { Ok::<_, Error>(pipeline.handle(event.payload).await) }
    }))
    .await
}

/// The reconciler's `main`: a scheduled (EventBridge) invocation runs one
/// sweep and emits its metrics. Needs only `EVENTS_TABLE` and
/// `CALLBACK_QUEUE_URL`.
pub async fn run_reconciler() -> Result<(), Error> {
    use lambda_http::lambda_runtime::{self, LambdaEvent};

    telemetry::init();
    let table = std::env::var("EVENTS_TABLE").map_err(|_| crate::config::ConfigError::Missing("EVENTS_TABLE"))?;
    let queue_url =
        std::env::var("CALLBACK_QUEUE_URL").map_err(|_| crate::config::ConfigError::Missing("CALLBACK_QUEUE_URL"))?;
    let sdk = sdk_config().await;
    let reconciler = Arc::new(crate::reconcile::Reconciler::new(
        DynamoEventStore::new(aws_sdk_dynamodb::Client::new(&sdk), table),
        SqsTaskQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url),
    ));
    lambda_runtime::run(lambda_runtime::service_fn(move |_event: LambdaEvent<serde_json::Value>| {
        let reconciler = Arc::clone(&reconciler);
        async move {
            let now = chrono::Utc::now();
            let report = reconciler.run_once(now).await;
            println!("{}", report.to_emf(now.timestamp_millis()));
            info!(
                outcome = "reconciled",
                found = report.found,
                enqueued = report.enqueued,
                stuck = report.stuck,
                failed = report.failed
            );
            Ok::<_, Error>(serde_json::to_value(&report)?)
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amazon_trust_services_bundle_holds_the_five_roots_and_nothing_else() {
        let pem = std::str::from_utf8(AMAZON_TRUST_SERVICES_ROOTS).expect("ASCII PEM");
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(pem.matches("-----END CERTIFICATE-----").count(), 5);
        assert!(!pem.contains("PRIVATE KEY"));
    }

    #[tokio::test]
    async fn clients_build_on_either_trust_store_without_panicking() {
        // Client::new validates the HTTP client, which parses the roots:
        // a malformed bundle would panic here, not on the first request.
        for roots in [TrustedRoots::AmazonTrustServices, TrustedRoots::Native] {
            let sdk = SdkConfig::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(aws_config::Region::new("ap-south-1"))
                .http_client(https_client(roots))
                .build();
            let _ = aws_sdk_dynamodb::Client::new(&sdk);
        }
    }

    #[test]
    fn the_trust_store_is_amazons_unless_native_is_asked_for() {
        assert_eq!(TrustedRoots::from_setting(None), TrustedRoots::AmazonTrustServices);
        assert_eq!(TrustedRoots::from_setting(Some("native")), TrustedRoots::Native);
        assert_eq!(TrustedRoots::from_setting(Some(" NATIVE ")), TrustedRoots::Native);
        assert_eq!(TrustedRoots::from_setting(Some("amazon")), TrustedRoots::AmazonTrustServices);
    }
}
