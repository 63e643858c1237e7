//! The reconciler: a scheduled sweep that sends callback tasks left
//! `task_pending` (the queue failed, or the process died between the write
//! and the send) without waiting for the provider to redeliver, since some
//! providers retry once or never.
//!
//! Exactly once: a task is sent again only while SQS FIFO's 5-minute
//! deduplication window still covers any earlier send, or after claiming
//! the first send where none can have happened. The schedule (every minute,
//! records older than [`MIN_AGE`]) keeps every pending task inside that
//! window; one found outside it is reported as stuck, never re-sent blind.

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::join_all;
use serde::Serialize;
use tracing::{error, info, warn};

use crate::handler::RESEND_WINDOW;
use crate::queue::{OutgoingTask, TaskQueue};
use crate::store::{EventStore, PENDING_SHARDS, PendingRecord, RecordStatus};

/// Records younger than this are left to the delivery that wrote them,
/// which is most likely still sending.
pub const MIN_AGE: TimeDelta = TimeDelta::seconds(30);

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ReconcileReport {
    pub found: u32,
    pub enqueued: u32,
    pub already_claimed: u32,
    pub stuck: u32,
    pub failed: u32,
}

pub struct Reconciler<S, Q> {
    store: S,
    queue: Q,
}

impl<S: EventStore, Q: TaskQueue> Reconciler<S, Q> {
    pub fn new(store: S, queue: Q) -> Self {
        Self { store, queue }
    }

    /// One sweep over every partition of the pending index.
    pub async fn run_once(&self, now: DateTime<Utc>) -> ReconcileReport {
        let mut report = ReconcileReport::default();
        let cutoff = now - MIN_AGE;
        let shards = join_all((0..PENDING_SHARDS).map(|shard| self.store.pending_tasks(shard, cutoff))).await;
        let mut to_send: Vec<(String, OutgoingTask)> = Vec::new();
        for shard in shards {
            let records = match shard {
                Ok(records) => records,
                Err(err) => {
                    error!(outcome = "reconcile_query_failed", cause = %err);
                    report.failed += 1;
                    continue;
                }
            };
            for PendingRecord { pk, record } in records {
                // The index is eventually consistent: re-check the status.
                if record.status != Some(RecordStatus::TaskPending) {
                    continue;
                }
                let Some(task) = record.task else { continue };
                report.found += 1;
                match record.send_attempted_at {
                    None => match self.store.claim_send(&pk, now).await {
                        Ok(true) => to_send.push((pk, task)),
                        Ok(false) => report.already_claimed += 1,
                        Err(err) => {
                            error!(outcome = "reconcile_claim_failed", pk = %pk, cause = %err);
                            report.failed += 1;
                        }
                    },
                    Some(at) if now - at < RESEND_WINDOW => to_send.push((pk, task)),
                    Some(at) => {
                        report.stuck += 1;
                        error!(
                            outcome = "task_stuck",
                            pk = %pk,
                            task_id = %task.task_id,
                            send_attempted_at = %at.to_rfc3339(),
                            "pending past the deduplication window: check the queue for this task_id before re-sending"
                        );
                    }
                }
            }
        }
        let tasks: Vec<OutgoingTask> = to_send.iter().map(|(_, task)| task.clone()).collect();
        let results = self.queue.send(&tasks).await;
        for ((pk, task), result) in to_send.iter().zip(results) {
            match result {
                Ok(()) => match self.store.mark_enqueued(pk, now).await {
                    Ok(()) => {
                        report.enqueued += 1;
                        info!(outcome = "task_reconciled", pk = %pk, task_id = %task.task_id);
                    }
                    Err(err) => {
                        report.failed += 1;
                        warn!(outcome = "reconcile_mark_failed", pk = %pk, cause = %err);
                    }
                },
                Err(err) => {
                    report.failed += 1;
                    error!(outcome = "reconcile_send_failed", pk = %pk, task_id = %task.task_id, cause = %err);
                }
            }
        }
        report
    }
}

impl ReconcileReport {
    /// EMF line for the sweep (namespace and dimension as the receivers').
    pub fn to_emf(&self, timestamp_ms: i64) -> serde_json::Value {
        serde_json::json!({
            "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [{
                "Namespace": crate::metrics::NAMESPACE,
                "Dimensions": [["Provider"]],
                "Metrics": [
                    {"Name": "TasksReconciled", "Unit": "Count"},
                    {"Name": "TasksStuck", "Unit": "Count"},
                    {"Name": "ReconcileFailures", "Unit": "Count"}
                ]
            }]},
            "Provider": "reconciler",
            "TasksReconciled": self.enqueued,
            "TasksStuck": self.stuck,
            "ReconcileFailures": self.failed,
        })
    }
}
