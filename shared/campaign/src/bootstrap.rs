//! Cold start: typed config (templates checked, refusing to start on a bad
//! one), AWS clients and the HTTP client built once, the org token read
//! once from SSM, the phone library's metadata loaded before the first
//! record.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::Error;
use lambda_http::lambda_runtime::{self, LambdaEvent};
use payloads::PhoneNumber;
use tracing::info;

use crate::config::{CampaignConfig, ConfigError, OrgToken, OrgTokenSource};
use crate::dlq::DeadLetterQueue;
use crate::handler::CampaignPusher;
use crate::http::{ClientError, TruecallerClient};
use crate::ledger::Ledger;
use crate::stream::{DynamoDbEventResponse, Event};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("reading the org token parameter failed: {0}")]
    Ssm(String),
    #[error("the org token parameter is empty")]
    EmptyToken,
    #[error("HTTP client: {0}")]
    Client(#[from] ClientError),
}

/// The org token: the SSM SecureString parameter, or the inline value.
pub async fn load_token(sdk: &SdkConfig, source: &OrgTokenSource) -> Result<OrgToken, StartupError> {
    match source {
        OrgTokenSource::Inline(token) => Ok(token.clone()),
        OrgTokenSource::SsmParameter(name) => {
            let value = pipeline::bootstrap::read_secure_parameter(sdk, name).await.map_err(StartupError::Ssm)?;
            OrgToken::new(value).ok_or(StartupError::EmptyToken)
        }
    }
}

/// Builds the pusher from a checked configuration and SDK configuration.
pub async fn build_with(config: &CampaignConfig, sdk: &SdkConfig) -> Result<CampaignPusher, StartupError> {
    let ledger =
        Ledger::new(aws_sdk_dynamodb::Client::new(sdk), &config.events_table, config.lease, config.retention_days);
    let dlq = DeadLetterQueue::new(aws_sdk_sqs::Client::new(sdk), &config.dlq_url);
    // Once-only costs, concurrently: the token read, the DynamoDB
    // connection, and the phone library's metadata (stored tasks are
    // re-read through it).
    let warm_phone = tokio::task::spawn_blocking(PhoneNumber::warm_up);
    let warm_table = ledger.client().describe_table().table_name(ledger.table()).send();
    let (token, table) = tokio::join!(load_token(sdk, &config.token), warm_table);
    if let Err(err) = table {
        tracing::warn!(outcome = "warm_up_failed", dependency = "dynamodb", cause = %aws_sdk_dynamodb::error::DisplayErrorContext(err));
    }
    let token = token?;
    let _ = warm_phone.await;
    let client = TruecallerClient::new(config.endpoint.clone(), &config.org_id, &token, config.http_timeout)?;
    info!(
        outcome = "initialised",
        templates = config.templates.len(),
        endpoint_host = config.endpoint.host().unwrap_or_default(),
        http_attempts = config.http_attempts,
        lease_s = config.lease.as_secs()
    );
    Ok(CampaignPusher::new(config, ledger, dlq, client))
}

/// The function's `main`: build once, then handle stream batches,
/// reporting failed records (`ReportBatchItemFailures`).
pub async fn run() -> Result<(), Error> {
    pipeline::telemetry::init();
    let built = async {
        let config = CampaignConfig::from_env()?;
        let sdk = pipeline::bootstrap::sdk_config().await;
        build_with(&config, &sdk).await
    };
    let pusher = match built.await {
        Ok(pusher) => Arc::new(pusher),
        Err(err) => {
            tracing::error!(outcome = "startup_failed", cause = %err);
            return Err(err.into());
        }
    };
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<Event>| {
        let pusher = Arc::clone(&pusher);
        async move {
            let deadline = i64::try_from(event.context.deadline).ok().and_then(chrono::DateTime::from_timestamp_millis);
            let (response, metrics): (DynamoDbEventResponse, _) = pusher.handle(&event.payload, deadline).await;
            metrics.emit();
            Ok::<_, Error>(response)
        }
    }))
    .await
}
