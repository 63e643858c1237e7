//! The campaign record: `pk = campaign#{task_id}` in the events table,
//! written only with conditional updates, so each task is pushed by one
//! invocation at a time and never again once `sent` or `failed`.
//!
//! | status    | meaning                                                       |
//! |-----------|---------------------------------------------------------------|
//! | `sending` | claimed by an invocation until `lease_until` (epoch ms)        |
//! | `retry`   | the last push certainly failed (5xx, timeout, 429…); claimable |
//! | `sent`    | Truecaller answered 2xx; never pushed again                    |
//! | `failed`  | dead-lettered (`dead_letter` holds the message; `dead_lettered_at` once on the queue) |

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

use crate::stream::CAMPAIGN_PK_PREFIX;

pub const SENDING: &str = "sending";
pub const RETRY: &str = "retry";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// A store call failed; the cause chain is kept for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {cause}")]
pub struct LedgerError {
    pub operation: &'static str,
    pub cause: String,
}

fn ledger_error<E: std::error::Error + 'static>(operation: &'static str, err: E) -> LedgerError {
    LedgerError { operation, cause: DisplayErrorContext(err).to_string() }
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation holds the task until the lease ends.
    Acquired {
        claim_id: String,
        /// Invocations that have claimed it, this one included.
        deliveries: u32,
        /// A previous holder's lease ran out mid-push: whether Truecaller
        /// got that push is unknown.
        took_over: bool,
    },
    /// Already pushed.
    Sent,
    /// Already dead-lettered.
    Failed,
    /// Dead-letter decided but not confirmed on the queue: send this again.
    DeadLetterPending { body: String },
    /// Another invocation holds it until `lease_until`.
    Held { lease_until: DateTime<Utc> },
}

/// Who else to record on the campaign record.
#[derive(Debug, Clone)]
pub struct ClaimRequest<'a> {
    pub task_id: &'a str,
    pub source_pk: &'a str,
    pub provider: &'a str,
    pub reason: &'a str,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    client: Client,
    table: String,
    lease: Duration,
    retention_days: i64,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn pk(task_id: &str) -> String {
    format!("{CAMPAIGN_PK_PREFIX}{task_id}")
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn is_condition_failure(err: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>) -> bool {
    matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_)))
}

impl Ledger {
    pub fn new(client: Client, table: impl Into<String>, lease: Duration, retention_days: i64) -> Self {
        Self { client, table: table.into(), lease, retention_days }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Claims the task for this invocation: creates the record, or takes it
    /// over when its last push certainly failed (`retry`) or its holder's
    /// lease ran out. One conditional update; what blocked it comes back
    /// with the failure.
    pub async fn claim(&self, request: &ClaimRequest<'_>, now: DateTime<Utc>) -> Result<Claim, LedgerError> {
        let claim_id = uuid::Uuid::new_v4().to_string();
        let now_ms = now.timestamp_millis();
        let lease_until = now_ms + i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let expires_at = now.timestamp() + self.retention_days * 86_400;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(request.task_id)))
            .update_expression(
                "SET #status = :sending, claim_id = :claim, claimed_at = :now, lease_until = :lease, \
                 deliveries = if_not_exists(deliveries, :zero) + :one, task_id = :task_id, source_pk = :source, \
                 #provider = :provider, #reason = :reason, expires_at = if_not_exists(expires_at, :expires)",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #status = :retry OR (#status = :sending AND lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#provider", "provider")
            .expression_attribute_names("#reason", "reason")
            .expression_attribute_values(":sending", s(SENDING))
            .expression_attribute_values(":retry", s(RETRY))
            .expression_attribute_values(":claim", s(&claim_id))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(":lease", n(lease_until))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":task_id", s(request.task_id))
            .expression_attribute_values(":source", s(request.source_pk))
            .expression_attribute_values(":provider", s(request.provider))
            .expression_attribute_values(":reason", s(request.reason))
            .expression_attribute_values(":expires", n(expires_at))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let old = output.attributes().cloned().unwrap_or_default();
                let deliveries = number(&old, "deliveries").unwrap_or(0) + 1;
                let took_over = text(&old, "status").as_deref() == Some(SENDING);
                Ok(Claim::Acquired { claim_id, deliveries: u32::try_from(deliveries).unwrap_or(u32::MAX), took_over })
            }
            Err(err) if is_condition_failure(&err) => {
                let item = match err.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned(),
                    _ => None,
                };
                let item = match item {
                    Some(item) => item,
                    // An emulator or API version that does not return the
                    // item: read it (strongly consistent).
                    None => self.get(request.task_id).await?.unwrap_or_default(),
                };
                Ok(blocked_by(&item))
            }
            Err(err) => Err(ledger_error("UpdateItem(claim)", err)),
        }
    }

    async fn get(&self, task_id: &str) -> Result<Option<HashMap<String, AttributeValue>>, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk(task_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ledger_error("GetItem(campaign)", e))?;
        Ok(output.item().cloned())
    }

    /// Truecaller accepted the push.
    pub async fn mark_sent(
        &self,
        task_id: &str,
        claim_id: &str,
        http_status: u16,
        http_attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, LedgerError> {
        self.finish(
            "UpdateItem(mark_sent)",
            task_id,
            claim_id,
            "SET #status = :sent, sent_at = :at, http_status = :code, \
             http_attempts = if_not_exists(http_attempts, :zero) + :attempts REMOVE lease_until, last_error",
            &[
                (":sent", s(SENT)),
                (":at", s(crate::rfc3339_ms(now))),
                (":code", n(i64::from(http_status))),
                (":zero", n(0)),
                (":attempts", n(i64::from(http_attempts))),
            ],
        )
        .await
    }

    /// Every attempt of this invocation failed in a way a retry may fix:
    /// the next delivery may claim it at once.
    pub async fn release_for_retry(
        &self,
        task_id: &str,
        claim_id: &str,
        last_error: &str,
        http_attempts: u32,
    ) -> Result<bool, LedgerError> {
        self.finish(
            "UpdateItem(release_for_retry)",
            task_id,
            claim_id,
            "SET #status = :retry, last_error = :error, \
             http_attempts = if_not_exists(http_attempts, :zero) + :attempts REMOVE lease_until",
            &[
                (":retry", s(RETRY)),
                (":error", s(last_error)),
                (":zero", n(0)),
                (":attempts", n(i64::from(http_attempts))),
            ],
        )
        .await
    }

    /// Dead-letter decided: the message is kept on the record so a retry
    /// sends exactly it if the queue did not take it.
    pub async fn mark_failed(
        &self,
        task_id: &str,
        claim_id: &str,
        reason: &str,
        dead_letter: &str,
        http_attempts: u32,
    ) -> Result<bool, LedgerError> {
        self.finish(
            "UpdateItem(mark_failed)",
            task_id,
            claim_id,
            "SET #status = :failed, failure_reason = :reason, dead_letter = :dl, \
             http_attempts = if_not_exists(http_attempts, :zero) + :attempts REMOVE lease_until",
            &[
                (":failed", s(FAILED)),
                (":reason", s(reason)),
                (":dl", s(dead_letter)),
                (":zero", n(0)),
                (":attempts", n(i64::from(http_attempts))),
            ],
        )
        .await
    }

    /// The dead letter is on the queue.
    pub async fn mark_dead_lettered(&self, task_id: &str, now: DateTime<Utc>) -> Result<(), LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(task_id)))
            .update_expression("SET dead_lettered_at = :at")
            .condition_expression("#status = :failed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":at", s(crate::rfc3339_ms(now)))
            .expression_attribute_values(":failed", s(FAILED))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(ledger_error("UpdateItem(mark_dead_lettered)", err)),
        }
    }

    /// An update fenced on this invocation's claim. `Ok(false)`: the claim
    /// was lost (its lease ran out and another invocation took over).
    async fn finish(
        &self,
        operation: &'static str,
        task_id: &str,
        claim_id: &str,
        update: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, LedgerError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk(task_id)))
            .update_expression(update)
            .condition_expression("claim_id = :claim AND #status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":claim", s(claim_id))
            .expression_attribute_values(":sending", s(SENDING));
        for (name, value) in values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failure(&err) => Ok(false),
            Err(err) => Err(ledger_error(operation, err)),
        }
    }
}

/// What a failed claim ran into.
fn blocked_by(item: &HashMap<String, AttributeValue>) -> Claim {
    match text(item, "status").as_deref() {
        Some(SENT) => Claim::Sent,
        Some(FAILED) => match (text(item, "dead_letter"), text(item, "dead_lettered_at")) {
            (Some(body), None) => Claim::DeadLetterPending { body },
            _ => Claim::Failed,
        },
        _ => Claim::Held {
            lease_until: number(item, "lease_until")
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .unwrap_or_else(Utc::now),
        },
    }
}
