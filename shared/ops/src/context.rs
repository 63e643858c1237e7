//! The AWS clients (built once, standard credential chain, `AWS_ENDPOINT_URL`)
//! and the resources a command works on, checked before anything changes.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::error::OpsError;

/// The SDK configuration from the standard chain: environment, profile,
/// SSO, container and instance credentials; `AWS_ENDPOINT_URL` and
/// `AWS_REGION` as usual. Longer timeouts than the functions' (a scan page
/// can take seconds), still bounded so a hung endpoint ends in an error.
pub async fn sdk_from_env() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(20))
        .operation_timeout(Duration::from_secs(60))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .load()
        .await
}

/// Table and queues, from flags or the functions' environment variables.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub table: Option<String>,
    pub queue_url: Option<String>,
    pub dlq_url: Option<String>,
    pub campaign_dlq_url: Option<String>,
}

pub struct Ops {
    pub sdk: SdkConfig,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub resources: Resources,
    /// `--by`, for the who of what a command records.
    pub by: Option<String>,
}

impl Ops {
    pub fn new(sdk: SdkConfig, resources: Resources, by: Option<String>) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        Self { sdk, dynamo, sqs, resources, by }
    }

    /// Region and credentials present: checked first, so a missing one is
    /// one clear line instead of a retried request failing later.
    pub async fn check_credentials(&self) -> Result<(), OpsError> {
        use aws_credential_types::provider::ProvideCredentials as _;
        if self.sdk.region().is_none() {
            return Err(OpsError::NoRegion);
        }
        let Some(provider) = self.sdk.credentials_provider() else {
            return Err(OpsError::NoCredentials("no credentials provider configured".into()));
        };
        provider.provide_credentials().await.map(|_| ()).map_err(|e| match e {
            aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_) => {
                OpsError::NoCredentials(
                    "none found in the standard chain (environment, profile/SSO, web identity, container, instance \
                 metadata): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                        .into(),
                )
            }
            other => OpsError::NoCredentials(other.to_string()),
        })
    }

    /// The events table, which must exist.
    pub async fn table(&self) -> Result<String, OpsError> {
        let table =
            self.resources.table.clone().ok_or(OpsError::MissingSetting { flag: "--table", env: "EVENTS_TABLE" })?;
        self.check_credentials().await?;
        match self.dynamo.describe_table().table_name(&table).send().await {
            Ok(_) => Ok(table),
            Err(err) if matches!(err.as_service_error(), Some(DescribeTableError::ResourceNotFoundException(_))) => {
                Err(OpsError::NoSuchTable(table))
            }
            Err(err) => Err(OpsError::aws(format!("DescribeTable({table})"), err)),
        }
    }

    /// A queue URL that must exist.
    pub async fn queue(&self, url: Option<&String>, flag: &'static str, env: &'static str) -> Result<String, OpsError> {
        let url = url.cloned().ok_or(OpsError::MissingSetting { flag, env })?;
        self.check_credentials().await?;
        self.queue_exists(&url).await?;
        Ok(url)
    }

    async fn queue_exists(&self, url: &str) -> Result<(), OpsError> {
        let result =
            self.sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if err.as_service_error().is_some_and(queue_missing) => Err(OpsError::NoSuchQueue(url.to_owned())),
            Err(err) => Err(OpsError::aws(format!("GetQueueAttributes({url})"), err)),
        }
    }

    /// An optional queue: `None` when not configured; an error when it is
    /// configured but does not exist.
    pub async fn optional_queue(&self, url: Option<&String>) -> Result<Option<String>, OpsError> {
        match url {
            None => Ok(None),
            Some(url) => {
                self.queue_exists(url).await?;
                Ok(Some(url.clone()))
            }
        }
    }

    /// Who runs a mutating command, recorded on what it changes: `--by`
    /// (or `WEBHOOK_OPS_BY`), else the caller's AWS identity (STS
    /// `GetCallerIdentity` needs no permission) with the local user name.
    pub async fn operator(&self) -> Result<String, OpsError> {
        if let Some(by) = self.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            return Ok(by.to_owned());
        }
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let arn = sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| OpsError::aws("sts:GetCallerIdentity", e))?
            .arn()
            .unwrap_or("unknown-principal")
            .to_owned();
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
        Ok(if user.is_empty() { arn } else { format!("{arn} ({user})") })
    }
}

/// SQS names a missing queue `QueueDoesNotExist` (JSON protocol) or
/// `AWS.SimpleQueueService.NonExistentQueue` (query protocol, emulators).
fn queue_missing(err: &GetQueueAttributesError) -> bool {
    use aws_sdk_sqs::error::ProvideErrorMetadata as _;
    matches!(err, GetQueueAttributesError::QueueDoesNotExist(_))
        || err.code().is_some_and(|code| code.contains("NonExistentQueue") || code.contains("QueueDoesNotExist"))
}
