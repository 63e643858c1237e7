//! The idempotent event store: one conditional `PutItem` decides "new or
//! duplicate" (never read-then-write), and the record's status tracks the
//! callback task (`task_pending` until the queue confirms it).

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use payloads::Provider;
use payloads::event::rfc3339;
use serde_json::Value;

use crate::dynamo::to_attribute;
use crate::queue::OutgoingTask;

/// Number of partitions of the sparse `pending-tasks` index, so that task
/// writes at volume do not all land on one index partition.
pub const PENDING_SHARDS: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    Stored,
    TaskPending,
    TaskEnqueued,
    /// An operator cancelled a stuck task (`webhook-ops resolve --cancel`):
    /// never sent, left alone by redeliveries, the reconciler and the alarm.
    TaskCancelled,
    Rejected,
}

impl RecordStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Stored => "stored",
            RecordStatus::TaskPending => "task_pending",
            RecordStatus::TaskEnqueued => "task_enqueued",
            RecordStatus::TaskCancelled => "task_cancelled",
            RecordStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Stored, Self::TaskPending, Self::TaskEnqueued, Self::TaskCancelled, Self::Rejected]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A valid event to store.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub pk: String,
    pub provider: Provider,
    pub event_key: String,
    pub event_type: String,
    pub received_at: DateTime<Utc>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payload_sha256: String,
    pub raw_body: String,
    pub event: Value,
    /// The callback task, when one is due: stored with the record so a
    /// redelivery or the reconciler can send exactly this task again.
    pub task: Option<OutgoingTask>,
    pub expires_at: i64,
}

/// An authentic delivery (or batch element) that failed validation.
#[derive(Debug, Clone)]
pub struct RejectedRecord {
    pub pk: String,
    pub provider: Provider,
    pub event_type: Option<String>,
    pub received_at: DateTime<Utc>,
    pub payload_sha256: String,
    pub raw_body: String,
    pub reason: String,
    pub detail: String,
    pub expires_at: i64,
}

/// What the store already held under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingRecord {
    pub status: Option<RecordStatus>,
    pub payload_sha256: Option<String>,
    /// The stored body, to tell a reformatted redelivery from a different
    /// payload.
    pub raw_body: Option<String>,
    pub task: Option<OutgoingTask>,
    /// When a send of the task may last have happened (epoch ms); absent
    /// when it is certain no send happened.
    pub send_attempted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Duplicate(ExistingRecord),
}

/// A store call failed; the full cause chain is kept for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {cause}")]
pub struct StoreError {
    pub operation: &'static str,
    pub cause: String,
}

/// The narrow edge the handler depends on.
pub trait EventStore: Send + Sync {
    /// Writes `record` unless its key exists; returns what existed otherwise.
    fn put_event(&self, record: &EventRecord) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
    /// Writes a rejected record (a repeat of the same rejected body is a no-op).
    fn put_rejected(&self, record: &RejectedRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Keeps a different payload that arrived under an existing event key.
    fn put_conflict(&self, record: &EventRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records a send about to happen, if none may have happened before.
    /// `Ok(false)`: someone else claimed it (or the task is no longer pending).
    fn claim_send(&self, pk: &str, now: DateTime<Utc>) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The send attempted at `attempted_at` certainly did not happen.
    fn clear_send_attempt(
        &self,
        pk: &str,
        attempted_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The task is on the queue.
    fn mark_enqueued(&self, pk: &str, now: DateTime<Utc>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records still `task_pending` since before `older_than`, from one
    /// partition of the sparse `pending-tasks` index (no table scan).
    fn pending_tasks(
        &self,
        shard: u8,
        older_than: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<PendingRecord>, StoreError>> + Send;
}

/// A record found waiting for its task to be confirmed on the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRecord {
    pub pk: String,
    pub record: ExistingRecord,
}

/// Name of the sparse index over records whose task is not yet confirmed.
pub const PENDING_INDEX: &str = "pending-tasks";

/// The DynamoDB adapter.
#[derive(Debug, Clone)]
pub struct DynamoEventStore {
    client: Client,
    table: String,
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes `item` unless its key exists; an existing item is success
    /// (these records are write-once: the first one stands).
    async fn put_if_absent(
        &self,
        item: HashMap<String, AttributeValue>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {
                Ok(())
            }
            Err(err) => Err(store_error(operation, err)),
        }
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn millis(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Which `pending-tasks` index partition a record belongs to.
pub fn pending_shard(pk: &str) -> String {
    let hash = pk.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("{}", hash % u32::from(PENDING_SHARDS))
}

fn event_item(record: &EventRecord) -> HashMap<String, AttributeValue> {
    let status = if record.task.is_some() { RecordStatus::TaskPending } else { RecordStatus::Stored };
    let mut item = HashMap::from([
        ("pk".to_owned(), s(&record.pk)),
        ("provider".to_owned(), s(record.provider.name())),
        ("event_key".to_owned(), s(&record.event_key)),
        ("event_type".to_owned(), s(&record.event_type)),
        ("received_at".to_owned(), s(rfc3339(record.received_at))),
        ("status".to_owned(), s(status.as_str())),
        ("payload_sha256".to_owned(), s(&record.payload_sha256)),
        ("raw_body".to_owned(), s(&record.raw_body)),
        ("event".to_owned(), to_attribute(&record.event)),
        ("expires_at".to_owned(), n(record.expires_at)),
    ]);
    if let Some(at) = record.occurred_at {
        item.insert("occurred_at".into(), s(rfc3339(at)));
    }
    if let Some(task) = &record.task {
        item.insert("task_id".into(), s(&task.task_id));
        item.insert("task".into(), s(&task.body));
        item.insert("task_group".into(), s(&task.group_id));
        // The first send follows this write at once.
        item.insert("send_attempted_at".into(), n(record.received_at.timestamp_millis()));
        item.insert("pending_shard".into(), s(pending_shard(&record.pk)));
        item.insert("pending_since".into(), s(millis(record.received_at)));
    }
    item
}

fn existing_from(item: &HashMap<String, AttributeValue>) -> ExistingRecord {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let task = match (text("task_id"), text("task_group"), text("task")) {
        (Some(task_id), Some(group_id), Some(body)) => Some(OutgoingTask { task_id, group_id, body }),
        _ => None,
    };
    let send_attempted_at = item
        .get("send_attempted_at")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(DateTime::<Utc>::from_timestamp_millis);
    ExistingRecord {
        status: text("status").as_deref().and_then(RecordStatus::parse),
        payload_sha256: text("payload_sha256"),
        raw_body: text("raw_body"),
        task,
        send_attempted_at,
    }
}

/// Sends a conditional update: `Ok(true)` when applied, `Ok(false)` when
/// its condition did not hold (someone else got there first).
async fn conditional_update(
    request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    operation: &'static str,
) -> Result<bool, StoreError> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(err) => Err(store_error(operation, err)),
    }
}

fn store_error<E: std::error::Error + 'static>(operation: &'static str, err: E) -> StoreError {
    StoreError { operation, cause: DisplayErrorContext(err).to_string() }
}

impl EventStore for DynamoEventStore {
    async fn put_event(&self, record: &EventRecord) -> Result<PutOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(event_item(record)))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Created),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    Ok(PutOutcome::Duplicate(failed.item().map(existing_from).unwrap_or(ExistingRecord {
                        status: None,
                        payload_sha256: None,
                        raw_body: None,
                        task: None,
                        send_attempted_at: None,
                    })))
                }
                _ => Err(store_error("PutItem", err)),
            },
        }
    }

    async fn put_rejected(&self, record: &RejectedRecord) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            ("pk".to_owned(), s(&record.pk)),
            ("provider".to_owned(), s(record.provider.name())),
            ("received_at".to_owned(), s(rfc3339(record.received_at))),
            ("status".to_owned(), s(RecordStatus::Rejected.as_str())),
            ("payload_sha256".to_owned(), s(&record.payload_sha256)),
            ("raw_body".to_owned(), s(&record.raw_body)),
            ("reason".to_owned(), s(&record.reason)),
            ("reason_detail".to_owned(), s(&record.detail)),
            ("expires_at".to_owned(), n(record.expires_at)),
        ]);
        if let Some(event_type) = &record.event_type {
            item.insert("event_type".into(), s(event_type));
        }
        // The same rejected body again: the first record stands.
        self.put_if_absent(item, "PutItem(rejected)").await
    }

    async fn put_conflict(&self, record: &EventRecord) -> Result<(), StoreError> {
        let mut item = event_item(&EventRecord { task: None, ..record.clone() });
        let pk = format!("{}#conflict#{}", record.pk, record.payload_sha256);
        item.insert("pk".into(), s(&pk));
        item.insert("conflict_of".into(), s(&record.pk));
        self.put_if_absent(item, "PutItem(conflict)").await
    }

    async fn claim_send(&self, pk: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("SET send_attempted_at = :now")
            .condition_expression("attribute_not_exists(send_attempted_at) AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":pending", s(RecordStatus::TaskPending.as_str()));
        conditional_update(request, "UpdateItem(claim_send)").await
    }

    async fn clear_send_attempt(&self, pk: &str, attempted_at: DateTime<Utc>) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("REMOVE send_attempted_at")
            .condition_expression("send_attempted_at = :at AND #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", n(attempted_at.timestamp_millis()))
            .expression_attribute_values(":pending", s(RecordStatus::TaskPending.as_str()));
        // A changed attempt or status: nothing to clear.
        conditional_update(request, "UpdateItem(clear_send_attempt)").await.map(|_| ())
    }

    async fn pending_tasks(&self, shard: u8, older_than: DateTime<Utc>) -> Result<Vec<PendingRecord>, StoreError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(PENDING_INDEX)
                .key_condition_expression("pending_shard = :shard AND pending_since < :cutoff")
                .expression_attribute_values(":shard", s(shard.to_string()))
                .expression_attribute_values(":cutoff", s(millis(older_than)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| store_error("Query(pending-tasks)", e))?;
            for item in page.items() {
                if let Some(pk) = item.get("pk").and_then(|v| v.as_s().ok()) {
                    records.push(PendingRecord { pk: pk.clone(), record: existing_from(item) });
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(records);
            }
        }
    }

    async fn mark_enqueued(&self, pk: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("SET #status = :enqueued, enqueued_at = :now REMOVE pending_shard, pending_since")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":enqueued", s(RecordStatus::TaskEnqueued.as_str()))
            .expression_attribute_values(":pending", s(RecordStatus::TaskPending.as_str()))
            .expression_attribute_values(":now", s(rfc3339(now)));
        // Already marked by a concurrent delivery: the task is on the queue.
        conditional_update(request, "UpdateItem(mark_enqueued)").await.map(|_| ())
    }
}
