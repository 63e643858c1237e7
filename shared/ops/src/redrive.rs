//! `redrive`: dead-lettered callback tasks back to the callback queue, with
//! their `MessageGroupId` and `MessageDeduplicationId` (= task id) kept.
//!
//! Each message is judged against its record before it moves:
//! - **held**: the task's first send is less than 5 minutes old. SQS FIFO
//!   would accept the copy and silently drop it (same deduplication id), and
//!   the task would be lost; it stays in the DLQ until the time printed.
//! - **first redrive**: moved. The record is stamped `redriven_at`,
//!   `redriven_by`, `redrive_count` *before* the send, so a rerun knows.
//! - **resume**: redriven less than 4 minutes ago and still in the DLQ (an
//!   interrupted run: sent, not yet deleted). Sent again: SQS drops the
//!   repeat inside its window, so the dialer gets it once.
//! - **second call**: redriven before, longer ago than the FIFO window: a
//!   copy may already have reached the dialer, and a re-send would reach it
//!   again. Needs `--force` (after checking the dialer); so do tasks an
//!   operator cancelled and messages whose record is gone.

use std::io::Write;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Utc};
use pipeline::handler::RESEND_WINDOW;
use pipeline::store::RecordStatus;
use serde_json::json;

use crate::context::Ops;
use crate::error::OpsError;
use crate::output::{self, Format, emit};
use crate::queues::{self, QueuedMessage};
use crate::records::{self, Record};
use crate::time::{ago, stored_time};

/// SQS FIFO's deduplication interval.
pub const FIFO_WINDOW: TimeDelta = TimeDelta::minutes(5);

#[derive(Debug, clap::Args)]
pub struct RedriveArgs {
    /// Only this task (default: every message in the DLQ).
    #[arg(long)]
    pub task_id: Option<String>,
    /// Also move tasks that could reach the dialer a second time.
    #[arg(long)]
    pub force: bool,
    /// Print what would move; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Held,
    FirstRedrive,
    Resume,
    SecondCall,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::FirstRedrive => "first redrive",
            Verdict::Resume => "resume",
            Verdict::SecondCall => "possible second call",
        }
    }
}

/// Judges one message against its record (see the module docs).
pub fn judge(message: &QueuedMessage, record: Option<&Record>, now: DateTime<Utc>) -> (Verdict, String) {
    let Some(record) = record else {
        return (Verdict::SecondCall, "no record for this task (expired?): cannot tell whether it was redriven".into());
    };
    let first_sent = stored_time(record.text("enqueued_at")).or(message.sent_at);
    if let Some(at) = first_sent
        && now - at < FIFO_WINDOW
    {
        return (
            Verdict::Held,
            format!("first sent {}: SQS would drop the copy until {}", ago(at, now), (at + FIFO_WINDOW).to_rfc3339()),
        );
    }
    if record.status() == Some(RecordStatus::TaskCancelled) {
        return (
            Verdict::SecondCall,
            format!(
                "cancelled by {}: {}",
                record.text("resolved_by").unwrap_or("?"),
                record.text("resolution_reason").unwrap_or("")
            ),
        );
    }
    match stored_time(record.text("redriven_at")) {
        None => (Verdict::FirstRedrive, "not redriven before".into()),
        Some(at) if now - at < RESEND_WINDOW => {
            (Verdict::Resume, format!("redriven {} (interrupted run): SQS drops a repeat", ago(at, now)))
        }
        Some(at) => (
            Verdict::SecondCall,
            format!(
                "already redriven {} by {}: a copy may have reached the dialer",
                ago(at, now),
                record.text("redriven_by").unwrap_or("?")
            ),
        ),
    }
}

/// The record owning a message's task: from the task body's provider and
/// event key, else by task id.
async fn owner(
    ops: &Ops,
    table: &str,
    message: &QueuedMessage,
    err: &mut dyn Write,
) -> Result<Option<Record>, OpsError> {
    let Some(task_id) = message.task_id() else { return Ok(None) };
    if let Some(body) = message.json()
        && let (Some(provider), Some(key)) = (body["provider"].as_str(), body["event_key"].as_str())
        && let Some(record) = records::get(&ops.dynamo, table, &format!("{provider}#{key}")).await?
        && record.text("task_id") == Some(task_id.as_str())
    {
        return Ok(Some(record));
    }
    records::find_task_owner(&ops.dynamo, table, &task_id, err).await
}

async fn stamp_redrive(
    ops: &Ops,
    table: &str,
    record: &Record,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool, OpsError> {
    let mut request = ops
        .dynamo
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(record.pk().to_owned()))
        .update_expression(
            "SET redriven_at = :now, redriven_by = :by, redrive_count = if_not_exists(redrive_count, :zero) + :one",
        )
        .expression_attribute_values(
            ":now",
            AttributeValue::S(now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        )
        .expression_attribute_values(":by", AttributeValue::S(by.to_owned()))
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .expression_attribute_values(":one", AttributeValue::N("1".into()));
    request = match record.text("redriven_at") {
        Some(seen) => request
            .condition_expression("redriven_at = :seen")
            .expression_attribute_values(":seen", AttributeValue::S(seen.to_owned())),
        None => request.condition_expression("attribute_exists(pk) AND attribute_not_exists(redriven_at)"),
    };
    match request.send().await {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(e) => Err(OpsError::aws("UpdateItem(redriven_at)", e)),
    }
}

struct Row {
    task_id: String,
    group: String,
    verdict: Verdict,
    action: &'static str,
    detail: String,
}

pub async fn run(
    ops: &Ops,
    args: RedriveArgs,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), OpsError> {
    let table = ops.table().await?;
    let dlq = ops.queue(ops.resources.dlq_url.as_ref(), "--dlq-url", "CALLBACK_DLQ_URL").await?;
    let queue = ops.queue(ops.resources.queue_url.as_ref(), "--queue-url", "CALLBACK_QUEUE_URL").await?;
    let by = if args.dry_run { String::new() } else { ops.operator().await? };
    let now = Utc::now();
    let messages = queues::receive_all(&ops.sqs, &dlq, 300).await?;
    let mut rows = Vec::new();
    let mut release = Vec::new();
    let mut refused = 0;
    for message in &messages {
        let task_id = message.task_id().unwrap_or_default();
        if args.task_id.as_deref().is_some_and(|t| t.trim() != task_id) {
            release.push(message);
            continue;
        }
        let record = owner(ops, &table, message, err).await?;
        let (verdict, detail) = judge(message, record.as_ref(), now);
        let allowed = match verdict {
            Verdict::Held => false,
            Verdict::FirstRedrive | Verdict::Resume => true,
            Verdict::SecondCall => args.force,
        };
        let action = if args.dry_run {
            release.push(message);
            if allowed {
                "would move"
            } else if verdict == Verdict::Held {
                "would hold"
            } else {
                "would need --force"
            }
        } else if !allowed {
            release.push(message);
            if verdict == Verdict::SecondCall {
                refused += 1;
                "left: needs --force"
            } else {
                "left in DLQ"
            }
        } else {
            if verdict != Verdict::Resume
                && let Some(record) = &record
                && !stamp_redrive(ops, &table, record, &by, now).await?
            {
                release.push(message);
                rows.push(Row {
                    task_id,
                    group: message.group_id.clone().unwrap_or_default(),
                    verdict,
                    action: "left: record changed",
                    detail: "another redrive got there first; run again".into(),
                });
                continue;
            }
            move_message(ops, &dlq, &queue, message).await?;
            "moved"
        };
        rows.push(Row {
            task_id,
            group: message.group_id.as_deref().map(payloads::phone::mask).unwrap_or_default(),
            verdict,
            action,
            detail,
        });
    }
    queues::release(&ops.sqs, &dlq, &release).await;
    if let Some(wanted) = &args.task_id
        && rows.is_empty()
    {
        return Err(OpsError::UnknownTask(format!("{wanted} (not in the DLQ)")));
    }
    let report = json!({
        "dry_run": args.dry_run,
        "messages": rows.iter().map(|r| json!({
            "task_id": r.task_id, "group": r.group, "verdict": r.verdict.as_str(), "action": r.action, "detail": r.detail,
        })).collect::<Vec<_>>(),
        "moved": rows.iter().filter(|r| r.action == "moved").count(),
    });
    emit(out, format, &report, || {
        let mut t = output::table(&["task", "group", "verdict", "action", "why"]);
        for r in &rows {
            t.add_row(vec![
                r.task_id.clone(),
                r.group.clone(),
                r.verdict.as_str().to_owned(),
                r.action.to_owned(),
                r.detail.clone(),
            ]);
        }
        format!("{} message(s) in the DLQ\n{t}\n", rows.len())
    })?;
    if refused > 0 { Err(OpsError::NeedsForce { count: refused }) } else { Ok(()) }
}

/// Sends the message to the callback queue exactly as it was (body,
/// group, deduplication id), then deletes it from the DLQ.
async fn move_message(ops: &Ops, dlq: &str, queue: &str, message: &QueuedMessage) -> Result<(), OpsError> {
    let task_id = message.task_id().unwrap_or_default();
    let group = message
        .group_id
        .clone()
        .ok_or_else(|| OpsError::Refused(format!("message of task {task_id} has no MessageGroupId")))?;
    ops.sqs
        .send_message()
        .queue_url(queue)
        .message_body(&message.body)
        .message_group_id(group)
        .message_deduplication_id(message.dedup_id.clone().unwrap_or(task_id))
        .send()
        .await
        .map_err(|e| OpsError::aws("SendMessage(callback queue)", e))?;
    ops.sqs
        .delete_message()
        .queue_url(dlq)
        .receipt_handle(&message.receipt_handle)
        .send()
        .await
        .map_err(|e| OpsError::aws("DeleteMessage(DLQ)", e))?;
    Ok(())
}
