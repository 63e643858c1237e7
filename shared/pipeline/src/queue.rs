//! The callback task queue: SQS FIFO, group = the customer's number,
//! deduplication id = the task id.

use std::future::Future;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::future::join_all;

/// SQS takes at most ten messages per batch call.
pub const MAX_BATCH: usize = 10;

/// A task ready to send, as stored with its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingTask {
    pub task_id: String,
    pub group_id: String,
    /// The `callback-request/v1` JSON.
    pub body: String,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{cause}")]
pub struct QueueError {
    /// True when the queue certainly did not take the message (it answered
    /// with an error, or the request was never built); false when it may
    /// have (timeouts, dropped connections).
    pub certainly_not_sent: bool,
    pub cause: String,
}

pub trait TaskQueue: Send + Sync {
    /// Sends every task; one result per task, in order.
    fn send(&self, tasks: &[OutgoingTask]) -> impl Future<Output = Vec<Result<(), QueueError>>> + Send;
}

#[derive(Debug, Clone)]
pub struct SqsTaskQueue {
    client: Client,
    queue_url: String,
}

impl SqsTaskQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    async fn send_one(&self, task: &OutgoingTask) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(&task.group_id)
            .message_deduplication_id(&task.task_id)
            .message_body(&task.body)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    async fn send_batch(&self, tasks: &[OutgoingTask]) -> Vec<Result<(), QueueError>> {
        let entries = tasks
            .iter()
            .enumerate()
            .map(|(i, task)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_group_id(&task.group_id)
                    .message_deduplication_id(&task.task_id)
                    .message_body(&task.body)
                    .build()
                    .map_err(|e| QueueError { certainly_not_sent: true, cause: e.to_string() })
            })
            .collect::<Result<Vec<_>, _>>();
        let entries = match entries {
            Ok(entries) => entries,
            Err(err) => return vec![Err(err); tasks.len()],
        };
        match self.client.send_message_batch().queue_url(&self.queue_url).set_entries(Some(entries)).send().await {
            Err(err) => {
                let err = classify(err);
                vec![Err(err); tasks.len()]
            }
            Ok(output) => {
                let mut results: Vec<Result<(), QueueError>> = vec![Ok(()); tasks.len()];
                for failed in output.failed() {
                    if let Ok(i) = failed.id().parse::<usize>()
                        && let Some(slot) = results.get_mut(i)
                    {
                        *slot = Err(QueueError {
                            certainly_not_sent: true,
                            cause: format!("{}: {}", failed.code(), failed.message().unwrap_or_default()),
                        });
                    }
                }
                results
            }
        }
    }
}

fn classify<E: std::error::Error + 'static, R: std::fmt::Debug>(err: SdkError<E, R>) -> QueueError {
    let certainly_not_sent = matches!(err, SdkError::ServiceError(_) | SdkError::ConstructionFailure(_));
    QueueError { certainly_not_sent, cause: DisplayErrorContext(err).to_string() }
}

impl TaskQueue for SqsTaskQueue {
    async fn send(&self, tasks: &[OutgoingTask]) -> Vec<Result<(), QueueError>> {
        match tasks {
            [] => Vec::new(),
            [task] => vec![self.send_one(task).await],
            many => {
                let chunks = join_all(many.chunks(MAX_BATCH).map(|chunk| self.send_batch(chunk))).await;
                chunks.into_iter().flatten().collect()
            }
        }
    }
}
