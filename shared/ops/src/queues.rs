//! Looking into SQS queues without taking anything off them.
//!
//! SQS has no peek: a message is read by receiving it, which hides it for
//! the visibility timeout. [`peek`] receives with a short timeout until the
//! queue has nothing more to show, then makes every message it saw visible
//! again at once. Only ever used on dead-letter queues: on the callback
//! queue each receive would count towards its redrive policy's
//! `maxReceiveCount` and could push a task into the DLQ.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::OpsError;

/// Seconds a message stays hidden while the tool looks at it.
pub const LOOK_VISIBILITY: i32 = 60;
/// At most this many messages are read per command (SQS hands out at most
/// ten per receive).
pub const MAX_MESSAGES: usize = 2_000;

#[derive(Debug, Clone)]
pub struct QueuedMessage {
    pub receipt_handle: String,
    pub body: String,
    pub group_id: Option<String>,
    pub dedup_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub receive_count: Option<u32>,
}

impl QueuedMessage {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The task id: the deduplication id (FIFO), else the body's `task_id`.
    pub fn task_id(&self) -> Option<String> {
        self.dedup_id.clone().or_else(|| self.json()?.get("task_id")?.as_str().map(str::to_owned))
    }
}

/// Receives every message the queue shows (up to [`MAX_MESSAGES`]), each
/// hidden for `visibility` seconds. The caller releases or deletes them.
pub async fn receive_all(sqs: &Client, url: &str, visibility: i32) -> Result<Vec<QueuedMessage>, OpsError> {
    let mut messages = Vec::new();
    let mut empty = 0;
    while empty < 2 && messages.len() < MAX_MESSAGES {
        let output = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .wait_time_seconds(if empty == 0 { 0 } else { 1 })
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| OpsError::aws(format!("ReceiveMessage({url})"), e))?;
        if output.messages().is_empty() {
            empty += 1;
            continue;
        }
        for m in output.messages() {
            let attr = |name: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&name)).cloned();
            messages.push(QueuedMessage {
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
                group_id: attr(MessageSystemAttributeName::MessageGroupId),
                dedup_id: attr(MessageSystemAttributeName::MessageDeduplicationId),
                sent_at: attr(MessageSystemAttributeName::SentTimestamp)
                    .and_then(|v| v.parse::<i64>().ok())
                    .and_then(DateTime::<Utc>::from_timestamp_millis),
                receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount).and_then(|v| v.parse().ok()),
            });
        }
    }
    Ok(messages)
}

/// Makes messages visible again at once (best effort: otherwise they
/// reappear when their visibility timeout ends).
pub async fn release(sqs: &Client, url: &str, messages: &[&QueuedMessage]) {
    for chunk in messages.chunks(10) {
        let entries: Vec<_> = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt_handle)
                    .visibility_timeout(0)
                    .build()
                    .ok()
            })
            .collect();
        let _ = sqs.change_message_visibility_batch().queue_url(url).set_entries(Some(entries)).send().await;
    }
}

/// Every message of a dead-letter queue, left where it was.
pub async fn peek(sqs: &Client, url: &str) -> Result<Vec<QueuedMessage>, OpsError> {
    let messages = receive_all(sqs, url, LOOK_VISIBILITY).await?;
    release(sqs, url, &messages.iter().collect::<Vec<_>>()).await;
    Ok(messages)
}

/// Approximate counts (visible, in flight) of a queue.
pub async fn depth(sqs: &Client, url: &str) -> Result<(u64, u64), OpsError> {
    let output = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| OpsError::aws(format!("GetQueueAttributes({url})"), e))?;
    let get = |name: QueueAttributeName| {
        output.attributes().and_then(|a| a.get(&name)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    };
    Ok((
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    ))
}
