//! `resolve <task id> --send | --cancel --reason TEXT`: the human decision
//! for a task pending past SQS FIFO's deduplication window (`TasksStuck`),
//! which no automatic path may re-send blind.
//!
//! Either way the decision is written on the owning record first, with a
//! condition on the state the operator saw, so two operators (or a retry)
//! cannot both act:
//! - `--cancel`: `status = task_cancelled`, out of the `pending-tasks`
//!   index: the reconciler, redeliveries and the alarm leave it alone.
//! - `--send`: a new send is claimed (`send_attempted_at = now`), the task
//!   goes to the queue with its deduplication id, then the record is marked
//!   `task_enqueued`. Interrupted after the claim, the rerun (or the
//!   reconciler) sends it again inside the new window, where SQS drops a
//!   repeat: still one call.

use std::io::Write;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use pipeline::SqsTaskQueue;
use pipeline::handler::RESEND_WINDOW;
use pipeline::queue::TaskQueue;
use pipeline::store::{DynamoEventStore, EventStore, RecordStatus};
use serde_json::json;

use crate::context::Ops;
use crate::error::OpsError;
use crate::output::{Format, emit, fields};
use crate::records::{self, Record};
use crate::time::ago;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("decision").required(true).args(["send", "cancel"])))]
pub struct ResolveArgs {
    /// The callback task id (`trace` shows it).
    pub task_id: String,
    /// Send the task once (after checking the dialer never got it).
    #[arg(long)]
    pub send: bool,
    /// Cancel the task: it is never sent.
    #[arg(long)]
    pub cancel: bool,
    /// Why (required with --cancel); recorded on the record.
    #[arg(long)]
    pub reason: Option<String>,
    /// Also act on a task that is not stuck, or send again a task whose
    /// earlier operator send is past the window.
    #[arg(long)]
    pub force: bool,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A conditional update: `Ok(false)` when its condition failed.
async fn apply(
    request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool, OpsError> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(false)
        }
        Err(err) => Err(OpsError::aws("UpdateItem(resolve)", err)),
    }
}

pub async fn run(
    ops: &Ops,
    args: ResolveArgs,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), OpsError> {
    let reason = args.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    if args.cancel && reason.is_none() {
        return Err(OpsError::BadInput("resolve --cancel needs --reason TEXT (recorded on the record)".into()));
    }
    let task_id = args.task_id.trim().to_owned();
    if task_id.is_empty() {
        return Err(OpsError::BadInput("resolve: the task id is empty".into()));
    }
    let table = ops.table().await?;
    let queue_url = if args.send {
        Some(ops.queue(ops.resources.queue_url.as_ref(), "--queue-url", "CALLBACK_QUEUE_URL").await?)
    } else {
        None
    };
    let record = records::find_task_owner(&ops.dynamo, &table, &task_id, err)
        .await?
        .ok_or_else(|| OpsError::UnknownTask(task_id.clone()))?;
    let by = ops.operator().await?;
    let now = Utc::now();
    let pk = record.pk().to_owned();

    let outcome = if args.cancel {
        cancel(ops, &table, &record, &by, reason.as_deref().unwrap_or_default(), args.force, now).await?
    } else {
        let queue = SqsTaskQueue::new(ops.sqs.clone(), queue_url.unwrap_or_default());
        send(ops, &table, &queue, &record, &by, reason.as_deref().unwrap_or_default(), args.force, now).await?
    };
    let after = records::get(&ops.dynamo, &table, &pk).await?.unwrap_or(record);
    let report = json!({
        "task_id": task_id,
        "pk": pk,
        "outcome": outcome,
        "status": after.text("status"),
        "resolution": after.text("resolution"),
        "resolved_by": after.text("resolved_by"),
        "resolved_at": after.text("resolved_at"),
        "resolution_reason": after.text("resolution_reason"),
    });
    emit(out, format, &report, || {
        let rows = [
            ("task id", Some(task_id.clone())),
            ("record", Some(pk.clone())),
            ("outcome", Some(outcome.to_owned())),
            ("status", after.text("status").map(str::to_owned)),
            (
                "resolved",
                after.text("resolution").map(|r| {
                    format!(
                        "{r} by {} at {}",
                        after.text("resolved_by").unwrap_or("?"),
                        after.text("resolved_at").unwrap_or("?")
                    )
                }),
            ),
            ("reason", after.text("resolution_reason").map(str::to_owned)),
        ];
        format!("{}\n", fields(&rows))
    })
}

/// Whether the task is stuck: pending with a send that may have happened
/// longer ago than the resend window.
fn stuck_since(record: &Record, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    record.send_attempted_at().filter(|at| now - *at >= RESEND_WINDOW)
}

async fn cancel(
    ops: &Ops,
    table: &str,
    record: &Record,
    by: &str,
    reason: &str,
    force: bool,
    now: DateTime<Utc>,
) -> Result<&'static str, OpsError> {
    match record.status() {
        Some(RecordStatus::TaskCancelled) => return Ok("already cancelled (nothing changed)"),
        Some(RecordStatus::TaskPending) => {}
        Some(RecordStatus::TaskEnqueued) => {
            return Err(OpsError::Refused(format!(
                "task {} is already on the callback queue (enqueued {}): cancel it with the dialer team",
                record.text("task_id").unwrap_or_default(),
                record.text("enqueued_at").unwrap_or("?")
            )));
        }
        other => {
            return Err(OpsError::Refused(format!(
                "record {} is {:?}, not a pending task",
                record.pk(),
                other.map(|s| s.as_str())
            )));
        }
    }
    if stuck_since(record, now).is_none() && !force {
        return Err(not_stuck(record, now));
    }
    let request = ops
        .dynamo
        .update_item()
        .table_name(table)
        .key("pk", s(record.pk()))
        .update_expression(
            "SET #status = :cancelled, resolution = :cancel, resolved_by = :by, resolved_at = :at, resolution_reason = :why \
             REMOVE pending_shard, pending_since",
        )
        .condition_expression("#status = :pending")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":cancelled", s(RecordStatus::TaskCancelled.as_str()))
        .expression_attribute_values(":pending", s(RecordStatus::TaskPending.as_str()))
        .expression_attribute_values(":cancel", s("cancelled"))
        .expression_attribute_values(":by", s(by))
        .expression_attribute_values(":at", s(stamp(now)))
        .expression_attribute_values(":why", s(reason));
    if apply(request).await? {
        Ok("cancelled")
    } else {
        Err(OpsError::Refused(format!("record {} changed while resolving; run trace and try again", record.pk())))
    }
}

fn not_stuck(record: &Record, now: DateTime<Utc>) -> OpsError {
    let last = record.send_attempted_at().map(|at| ago(at, now)).unwrap_or_else(|| "never".into());
    OpsError::Refused(format!(
        "task {} is pending but not stuck (last send attempt: {last}): the reconciler sends it inside the FIFO window; --force to decide anyway",
        record.text("task_id").unwrap_or_default()
    ))
}

#[allow(clippy::too_many_arguments)]
async fn send(
    ops: &Ops,
    table: &str,
    queue: &SqsTaskQueue,
    record: &Record,
    by: &str,
    reason: &str,
    force: bool,
    now: DateTime<Utc>,
) -> Result<&'static str, OpsError> {
    let Some(task) = record.task() else {
        return Err(OpsError::Refused(format!("record {} holds no task", record.pk())));
    };
    match record.status() {
        Some(RecordStatus::TaskEnqueued) => return Ok("already on the queue (nothing changed)"),
        Some(RecordStatus::TaskCancelled) => {
            return Err(OpsError::Refused(format!(
                "task {} was cancelled by {} at {}: {}",
                task.task_id,
                record.text("resolved_by").unwrap_or("?"),
                record.text("resolved_at").unwrap_or("?"),
                record.text("resolution_reason").unwrap_or("")
            )));
        }
        Some(RecordStatus::TaskPending) => {}
        other => {
            return Err(OpsError::Refused(format!(
                "record {} is {:?}, not a pending task",
                record.pk(),
                other.map(|s| s.as_str())
            )));
        }
    }
    let store = DynamoEventStore::new(ops.dynamo.clone(), table);
    let resumed = record.text("resolution") == Some("send");
    let in_window = record.send_attempted_at().is_some_and(|at| now - at < RESEND_WINDOW);
    let claimed = if resumed && in_window {
        // An earlier `resolve --send` claimed this send moments ago and was
        // interrupted: SQS FIFO still drops a repeat, so finish it.
        false
    } else {
        if !force && (resumed || stuck_since(record, now).is_none()) {
            return Err(if resumed {
                OpsError::Refused(format!(
                    "task {} was already sent by {} at {} and that send is past the FIFO window: check the dialer, --force to send again",
                    task.task_id,
                    record.text("resolved_by").unwrap_or("?"),
                    record.text("resolved_at").unwrap_or("?")
                ))
            } else {
                not_stuck(record, now)
            });
        }
        let seen = record.number("send_attempted_at");
        let mut request = ops
            .dynamo
            .update_item()
            .table_name(table)
            .key("pk", s(record.pk()))
            .update_expression(
                "SET send_attempted_at = :now, resolution = :send, resolved_by = :by, resolved_at = :at, resolution_reason = :why",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", s(RecordStatus::TaskPending.as_str()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
            .expression_attribute_values(":send", s("send"))
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":at", s(stamp(now)))
            .expression_attribute_values(":why", s(reason));
        request = match seen {
            Some(seen) => request
                .condition_expression("#status = :pending AND send_attempted_at = :seen")
                .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
            None => request.condition_expression("#status = :pending AND attribute_not_exists(send_attempted_at)"),
        };
        if !apply(request).await? {
            return Err(OpsError::Refused(format!(
                "record {} changed while resolving; run trace and try again",
                record.pk()
            )));
        }
        true
    };
    let result = queue.send(std::slice::from_ref(&task)).await.into_iter().next().unwrap_or(Ok(()));
    if let Err(e) = result {
        if e.certainly_not_sent && claimed {
            // Nothing was sent: let the reconciler (or a rerun) send it.
            let _ = store.clear_send_attempt(record.pk(), now).await;
        }
        return Err(OpsError::Aws { operation: "SendMessage(callback queue)".into(), cause: e.cause });
    }
    store
        .mark_enqueued(record.pk(), now)
        .await
        .map_err(|e| OpsError::Aws { operation: e.operation.into(), cause: e.cause })?;
    Ok(if claimed { "sent" } else { "sent (finished an interrupted send)" })
}
