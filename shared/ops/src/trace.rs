//! `trace <event key | task id>`: everything about one event in one place.

use std::io::Write;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use payloads::Provider;
use pipeline::handler::RESEND_WINDOW;
use pipeline::store::RecordStatus;
use serde_json::{Value, json};

use crate::context::Ops;
use crate::error::OpsError;
use crate::output::{Format, emit, fields, table};
use crate::queues;
use crate::records::{self, Record, ScanFilter, masked_value};
use crate::time::{ago, stored_time};

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// A record key (`truecaller#860a7f4c-…`, `smartflo#rejected#<sha256>`),
    /// an event key without its provider, or a callback task id.
    pub target: String,
}

/// Attributes shown in their own sections; any other is listed as is
/// (masked), so attributes added later are never hidden.
const KNOWN: &[&str] = &[
    "pk",
    "provider",
    "event_key",
    "event_type",
    "received_at",
    "occurred_at",
    "status",
    "payload_sha256",
    "raw_body",
    "event",
    "expires_at",
    "task_id",
    "task",
    "task_group",
    "send_attempted_at",
    "enqueued_at",
    "pending_shard",
    "pending_since",
    "reason",
    "reason_detail",
    "conflict_of",
    "replayed_to",
    "replayed_at",
    "replayed_by",
    "replay_of",
    "resolution",
    "resolved_by",
    "resolved_at",
    "resolution_reason",
    "redriven_at",
    "redriven_by",
    "redrive_count",
];

/// Finds the record `target` names: a key, an event key under some
/// provider, or a task id (the record owning the task).
pub async fn locate(ops: &Ops, table: &str, target: &str, progress: &mut dyn Write) -> Result<Record, OpsError> {
    let target = target.trim();
    if target.is_empty() {
        return Err(OpsError::BadInput("trace: the key or task id is empty".into()));
    }
    if target.contains('#')
        && let Some(record) = records::get(&ops.dynamo, table, target).await?
    {
        return Ok(record);
    }
    for provider in Provider::ALL {
        if let Some(record) = records::get(&ops.dynamo, table, &format!("{}#{target}", provider.name())).await? {
            return Ok(record);
        }
    }
    records::find_task_owner(&ops.dynamo, table, target, progress)
        .await?
        .ok_or_else(|| OpsError::UnknownKey(target.to_owned()))
}

/// The saved "follow one event key" query (infra/monitoring.tf), filled in.
pub fn logs_query(event_key: Option<&str>, task_id: Option<&str>) -> String {
    let mut conditions = Vec::new();
    if let Some(key) = event_key {
        conditions.push(format!("event_key = \"{}\"", key.replace('"', "\\\"")));
    }
    if let Some(task) = task_id {
        conditions.push(format!("task_id = \"{}\"", task.replace('"', "\\\"")));
    }
    format!(
        "fields @timestamp, provider, event_key, outcome, status, reason, task_id, request_id, @message\n| filter {}\n| sort @timestamp asc\n| limit 200",
        if conditions.is_empty() { "false".to_owned() } else { conditions.join(" or ") }
    )
}

/// The log lines of a rejected delivery: same provider and reason, around
/// the time it was received.
fn rejected_logs_query(record: &Record) -> String {
    let quote = |s: &str| s.replace('"', "\\\"");
    let around = record
        .received_at()
        .map(|at| format!("\n(time range: {} ± 1 min)", at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
        .unwrap_or_default();
    format!(
        "fields @timestamp, provider, event_type, outcome, status, reason, request_id, @message\n| filter provider = \"{}\" and outcome = \"Rejected\" and reason like \"{}\"\n| sort @timestamp asc\n| limit 200{around}",
        quote(record.text("provider").unwrap_or_default()),
        quote(record.text("reason").unwrap_or_default()),
    )
}

/// The task's state as on-call reads it.
pub fn task_state(record: &Record, now: DateTime<Utc>) -> &'static str {
    match record.status() {
        Some(RecordStatus::TaskEnqueued) => "enqueued",
        Some(RecordStatus::TaskCancelled) => "cancelled",
        Some(RecordStatus::TaskPending) => match record.send_attempted_at() {
            Some(at) if now - at >= RESEND_WINDOW => "stuck",
            _ => "pending",
        },
        _ => "none",
    }
}

pub async fn run(
    ops: &Ops,
    args: TraceArgs,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), OpsError> {
    let table_name = ops.table().await?;
    let dlq = ops.optional_queue(ops.resources.dlq_url.as_ref()).await?;
    let campaign_dlq = ops.optional_queue(ops.resources.campaign_dlq_url.as_ref()).await?;
    let queue = ops.optional_queue(ops.resources.queue_url.as_ref()).await?;
    let now = Utc::now();
    let record = locate(ops, &table_name, &args.target, err).await?;
    let pk = record.pk().to_owned();

    let conflicts = if record.status() == Some(RecordStatus::Rejected) {
        Vec::new()
    } else {
        let filter = ScanFilter {
            expression: Some("conflict_of = :pk".into()),
            names: Vec::new(),
            values: vec![(":pk", AttributeValue::S(pk.clone()))],
        };
        records::scan(&ops.dynamo, &table_name, &filter, err).await?
    };

    // A record that points at a task it does not own (a later version may
    // add records that join another event's task): the task's state is on
    // the record that owns it.
    let owner = match record.text("task_id") {
        Some(id) if !record.0.contains_key("task") => {
            records::find_task_owner(&ops.dynamo, &table_name, id, err).await?
        }
        _ => None,
    };
    let task_record = owner.as_ref().unwrap_or(&record);
    let task = task_record.task_json();
    let task_id = record.text("task_id").map(str::to_owned);
    let phone = task.as_ref().and_then(|t| t.get("phone")).and_then(Value::as_str).map(payloads::phone::mask);
    let alternate =
        task.as_ref().and_then(|t| t.get("alternate_phone")).and_then(Value::as_str).map(payloads::phone::mask);

    let in_dlq = match (&dlq, &task_id) {
        (Some(url), Some(id)) => {
            let messages = queues::peek(&ops.sqs, url).await?;
            Some(messages.iter().any(|m| m.task_id().as_deref() == Some(id.as_str())))
        }
        _ => None,
    };
    let queue_depth = match &queue {
        Some(url) => Some(queues::depth(&ops.sqs, url).await?),
        None => None,
    };
    let campaign = match &task_id {
        Some(id) => records::get(&ops.dynamo, &table_name, &campaign::ledger::pk(id)).await?,
        None => None,
    };
    let in_campaign_dlq = match (&campaign_dlq, &task_id) {
        (Some(url), Some(id)) => {
            let messages = queues::peek(&ops.sqs, url).await?;
            Some(messages.iter().any(|m| m.task_id().as_deref() == Some(id.as_str())))
        }
        _ => None,
    };

    let extra: serde_json::Map<String, Value> = record
        .0
        .iter()
        .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), masked_value(v)))
        .collect();
    let text = |name: &str| record.text(name).map(str::to_owned);
    let ttext = |name: &str| task_record.text(name).map(str::to_owned);
    let state = task_state(task_record, now);
    let on_queue = match (state, in_dlq) {
        (_, Some(true)) => "in the dead-letter queue",
        ("enqueued", _) => "sent to the callback queue (taken by the dialer unless still listed in its depth)",
        ("pending", _) => "not confirmed on the queue yet: the reconciler sends it within the FIFO window",
        ("stuck", _) => {
            "unknown: pending past the FIFO window (TasksStuck); check the dialer, then resolve --send or --cancel"
        }
        ("cancelled", _) => "cancelled by an operator: never sent",
        _ => "no task",
    };
    let log_query = match record.status() {
        // A rejected event's log line has no key: its provider and reason,
        // in the minute it arrived (set the query's time range to it).
        Some(RecordStatus::Rejected) => rejected_logs_query(&record),
        _ => logs_query(record.text("event_key"), task_id.as_deref()),
    };
    let report = json!({
        "record": {
            "pk": pk,
            "provider": text("provider"),
            "event_key": text("event_key"),
            "event_type": text("event_type"),
            "status": text("status"),
            "received_at": text("received_at"),
            "occurred_at": text("occurred_at"),
            "reason": text("reason"),
            "reason_detail": text("reason_detail").map(|d| records::mask_phones(&d)),
            "payload_sha256": text("payload_sha256"),
            "phone": phone,
            "alternate_phone": alternate,
            "replayed_to": text("replayed_to"),
            "replayed_at": text("replayed_at"),
            "replayed_by": text("replayed_by"),
            "replay_of": text("replay_of"),
            "conflict_of": text("conflict_of"),
            "event": record.0.get("event").map(masked_value),
            "other_attributes": extra,
        },
        "conflicts": conflicts.iter().map(|c| json!({
            "pk": c.pk(), "received_at": c.text("received_at"), "payload_sha256": c.text("payload_sha256"),
        })).collect::<Vec<_>>(),
        "task": task_id.as_ref().map(|id| json!({
            "task_id": id,
            "owner": owner.as_ref().map(|o| o.pk()),
            "state": state,
            "reason": task.as_ref().and_then(|t| t.get("reason")).cloned(),
            "window": task.as_ref().and_then(|t| t.get("window")).cloned(),
            "send_attempted_at": task_record.send_attempted_at().map(|at| at.to_rfc3339()),
            "enqueued_at": ttext("enqueued_at"),
            "resolution": ttext("resolution"),
            "resolved_by": ttext("resolved_by"),
            "resolved_at": ttext("resolved_at"),
            "resolution_reason": ttext("resolution_reason"),
            "redriven_at": ttext("redriven_at"),
            "redriven_by": ttext("redriven_by"),
            "redrive_count": task_record.number("redrive_count"),
            "where": on_queue,
            "in_dlq": in_dlq,
        })),
        "queue": queue_depth.map(|(visible, in_flight)| json!({"visible": visible, "in_flight": in_flight})),
        "campaign": campaign.as_ref().map(|c| json!({
            "pk": c.pk(),
            "status": c.text("status"),
            "deliveries": c.number("deliveries"),
            "sent_at": c.text("sent_at"),
            "http_status": c.number("http_status"),
            "failure_reason": c.text("failure_reason"),
            "dead_lettered_at": c.text("dead_lettered_at"),
            "in_campaign_dlq": in_campaign_dlq,
        })),
        "logs_insights_query": log_query,
    });

    emit(out, format, &report, || {
        let mut text_out = String::new();
        let when = |name: &str| {
            record.text(name).map(|t| match stored_time(Some(t)) {
                Some(at) => format!("{t} ({})", ago(at, now)),
                None => t.to_owned(),
            })
        };
        let mut rows = vec![
            ("key", Some(pk.clone())),
            ("provider", text("provider")),
            ("event type", text("event_type")),
            ("status", text("status")),
            ("received", when("received_at")),
            ("occurred", when("occurred_at")),
            (
                "reason",
                text("reason").map(|r| match record.text("reason_detail") {
                    Some(d) => format!("{r}: {}", records::mask_phones(d)),
                    None => r,
                }),
            ),
            ("phone", phone.clone()),
            ("alternate phone", alternate.clone()),
            (
                "replayed to",
                text("replayed_to").map(|t| {
                    format!(
                        "{t} at {} by {}",
                        record.text("replayed_at").unwrap_or("?"),
                        record.text("replayed_by").unwrap_or("?")
                    )
                }),
            ),
            ("replay of", text("replay_of")),
            ("conflict of", text("conflict_of")),
        ];
        for (name, value) in &extra {
            rows.push((name.as_str(), Some(crate::output::cell(value))));
        }
        text_out.push_str(&format!("record\n{}\n", fields(&rows)));
        if !conflicts.is_empty() {
            let mut t = table(&["conflicting payload kept under", "received", "sha256"]);
            for c in &conflicts {
                t.add_row(vec![
                    c.pk().to_owned(),
                    c.text("received_at").unwrap_or("-").to_owned(),
                    c.text("payload_sha256").unwrap_or("-").to_owned(),
                ]);
            }
            text_out.push_str(&format!("conflicts ({})\n{t}\n", conflicts.len()));
        }
        if let Some(id) = &task_id {
            let twhen = |name: &str| {
                task_record.text(name).map(|t| match stored_time(Some(t)) {
                    Some(at) => format!("{t} ({})", ago(at, now)),
                    None => t.to_owned(),
                })
            };
            let rows = vec![
                ("task id", Some(id.clone())),
                ("owned by", owner.as_ref().map(|o| o.pk().to_owned())),
                ("state", Some(state.to_owned())),
                ("reason", task.as_ref().and_then(|t| t.get("reason")).and_then(Value::as_str).map(str::to_owned)),
                ("window", task.as_ref().and_then(|t| t.get("window")).filter(|w| !w.is_null()).map(Value::to_string)),
                (
                    "last send attempt",
                    task_record.send_attempted_at().map(|at| format!("{} ({})", at.to_rfc3339(), ago(at, now))),
                ),
                ("enqueued", twhen("enqueued_at")),
                (
                    "resolution",
                    ttext("resolution").map(|r| {
                        format!(
                            "{r} by {} at {}: {}",
                            task_record.text("resolved_by").unwrap_or("?"),
                            task_record.text("resolved_at").unwrap_or("?"),
                            task_record.text("resolution_reason").unwrap_or("")
                        )
                    }),
                ),
                (
                    "redriven",
                    ttext("redriven_at").map(|r| {
                        format!(
                            "{r} by {} ({} time(s))",
                            task_record.text("redriven_by").unwrap_or("?"),
                            task_record.number("redrive_count").unwrap_or(1)
                        )
                    }),
                ),
                ("where", Some(on_queue.to_owned())),
                ("queue depth", queue_depth.map(|(v, f)| format!("{v} visible, {f} in flight"))),
            ];
            text_out.push_str(&format!("task\n{}\n", fields(&rows)));
        }
        if let Some(c) = &campaign {
            let rows = vec![
                ("ledger", Some(c.pk().to_owned())),
                ("status", c.text("status").map(str::to_owned)),
                ("deliveries", c.number("deliveries").map(|d| d.to_string())),
                ("sent at", c.text("sent_at").map(str::to_owned)),
                ("failure", c.text("failure_reason").map(str::to_owned)),
                ("in campaign DLQ", in_campaign_dlq.map(|b| if b { "yes" } else { "no" }.to_owned())),
            ];
            text_out.push_str(&format!("campaign push\n{}\n", fields(&rows)));
        }
        text_out.push_str(&format!("logs (CloudWatch Logs Insights, the functions' log groups)\n{log_query}\n"));
        text_out
    })
}
