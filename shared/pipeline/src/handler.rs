//! The pipeline every delivery goes through: authenticate, decode, store
//! idempotently, enqueue callback tasks, answer.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use futures::future::join_all;
use lambda_http::http::StatusCode;
use payloads::{CallbackDecision, CallbackTask, NormalisedEvent, ParseContext, ParsedEvent, Provider, ProviderParser};
use sha2::{Digest, Sha256};
use tracing::{Instrument, error, info, info_span, warn};

use crate::auth::Tokens;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::queue::{OutgoingTask, TaskQueue};
use crate::request::{ApiGatewayRequest, IncomingRequest};
use crate::response::{ApiGatewayResponse, EventOutcome, Failure, Outcome, events_response};
use crate::store::{EventRecord, EventStore, PutOutcome, RecordStatus, RejectedRecord};

/// SQS FIFO drops a repeated deduplication id only within 5 minutes of the
/// first send. A pending task is re-sent only while that still holds, with a
/// minute's margin for clock skew and in-flight requests.
pub const RESEND_WINDOW: TimeDelta = TimeDelta::minutes(4);

/// Elements of a batch stored at once (DynamoDB calls in flight).
pub const STORE_CONCURRENCY: usize = 16;

/// The shared request pipeline, generic over its two edges so tests and
/// benchmarks can swap them.
pub struct Pipeline<S, Q> {
    parser: Arc<dyn ProviderParser>,
    tokens: Tokens,
    config: Config,
    store: S,
    queue: Q,
}

/// One event's progress through the pipeline.
struct Slot {
    pk: Option<String>,
    outcome: EventOutcome,
    /// A task to send, and whether a send must first be claimed.
    send: Option<(OutgoingTask, bool)>,
    /// The number a new task will call, masked, for the event's log line.
    masked_phone: Option<String>,
    failed: bool,
    metrics: Metrics,
}

impl Slot {
    fn new(outcome: EventOutcome) -> Self {
        Self { pk: None, outcome, send: None, masked_phone: None, failed: false, metrics: Metrics::default() }
    }

    fn fail(&mut self, cause: &dyn std::fmt::Display) {
        error!(outcome = "dependency_failure", event_key = self.outcome.event_key.as_deref(), cause = %cause);
        self.failed = true;
        self.outcome.outcome = Outcome::Failed;
        self.metrics.dependency_failures += 1;
    }
}

/// Longest text kept in a normalised event or a task's context. The raw
/// body keeps every byte; without this bound a long free-text field would
/// be stored twice (raw and normalised) and push the item past DynamoDB's
/// 400 KB limit, a failure no retry could fix.
pub const MAX_NORMALISED_TEXT: usize = 1024;

fn bound_text(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) if text.len() > MAX_NORMALISED_TEXT => {
            let mut end = MAX_NORMALISED_TEXT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(bound_text),
        serde_json::Value::Object(map) => map.values_mut().for_each(bound_text),
        _ => {}
    }
}

/// Whether [`bound_text`] would change `value`.
fn exceeds_bound(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.len() > MAX_NORMALISED_TEXT,
        serde_json::Value::Array(items) => items.iter().any(exceeds_bound),
        serde_json::Value::Object(map) => map.values().any(exceeds_bound),
        _ => false,
    }
}

/// Whether two bodies carry the same content: equal JSON values (key
/// order and whitespace aside), or equal bytes when not JSON. Only called
/// for duplicates whose bytes differ, so the hot path pays nothing.
fn same_content(stored: Option<&str>, received: &str) -> bool {
    let Some(stored) = stored else { return false };
    match (serde_json::from_str::<serde_json::Value>(stored), serde_json::from_str::<serde_json::Value>(received)) {
        (Ok(a), Ok(b)) => a == b,
        _ => stored == received,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<S: EventStore, Q: TaskQueue> Pipeline<S, Q> {
    pub fn new(parser: impl ProviderParser + 'static, tokens: Tokens, config: Config, store: S, queue: Q) -> Self {
        Self { parser: Arc::new(parser), tokens, config, store, queue }
    }

    pub fn provider(&self) -> Provider {
        self.parser.provider()
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles one API Gateway request. Never fails: every outcome is a
    /// response with the status DESIGN.md gives.
    pub async fn handle(&self, req: ApiGatewayRequest) -> ApiGatewayResponse {
        let (response, metrics) = self.handle_with_metrics(req).await;
        metrics.emit(self.provider());
        response
    }

    /// Handles one request and returns its metrics instead of emitting them.
    pub async fn handle_with_metrics(&self, req: ApiGatewayRequest) -> (ApiGatewayResponse, Metrics) {
        let incoming = IncomingRequest::from_api_gateway(req);
        let span = info_span!(
            "delivery",
            provider = self.provider().name(),
            request_id = incoming.request_id.as_deref().unwrap_or_default(),
        );
        self.handle_incoming(incoming, Utc::now()).instrument(span).await
    }

    pub async fn handle_incoming(
        &self,
        incoming: IncomingRequest,
        received_at: DateTime<Utc>,
    ) -> (ApiGatewayResponse, Metrics) {
        let mut metrics = Metrics::default();
        let response = match self.process(&incoming, received_at, &mut metrics).await {
            Ok(response) => response,
            Err(failure) => {
                let status = failure.status().as_u16();
                match &failure {
                    Failure::Unauthorized => {
                        metrics.auth_failures += 1;
                        warn!(
                            outcome = "unauthorized",
                            status,
                            source_ip = incoming.source_ip.as_deref().unwrap_or_default(),
                            token_present = incoming.token.is_some(),
                        );
                    }
                    Failure::Dependency(cause) => error!(outcome = "dependency_failure", status, cause = %cause),
                    other => info!(outcome = other.code(), status, reason = %other),
                }
                failure.into_response(self.parser.allowed_methods())
            }
        };
        (response, metrics)
    }

    async fn process(
        &self,
        incoming: &IncomingRequest,
        received_at: DateTime<Utc>,
        metrics: &mut Metrics,
    ) -> Result<ApiGatewayResponse, Failure> {
        match incoming.token.as_deref() {
            Some(token) if self.tokens.verify(token) => {}
            _ => return Err(Failure::Unauthorized),
        }
        let Some(body) = incoming.body.as_deref() else { return Err(Failure::UndecodableBody) };
        if body.len() > self.config.max_body_bytes {
            return Err(Failure::PayloadTooLarge { limit: self.config.max_body_bytes });
        }
        if let Some(encoding) = incoming.content_encoding.as_deref().filter(|e| *e != "identity") {
            return Err(Failure::UnsupportedEncoding(encoding.to_owned()));
        }
        let ctx = ParseContext {
            default_region: self.config.default_region,
            received_at,
            local_offset: self.config.local_offset,
        };
        let events = self.parser.parse(&incoming.delivery(), &ctx)?;
        metrics.events_received += events.len() as u32;

        let mut slots: Vec<Slot> = futures::stream::iter(events)
            .map(|event| self.store_event(event, received_at))
            .buffered(STORE_CONCURRENCY)
            .collect()
            .await;
        self.claim_sends(&mut slots, received_at).await;
        self.send_tasks(&mut slots, received_at).await;

        for slot in &slots {
            metrics.merge(&slot.metrics);
            info!(
                event_key = slot.outcome.event_key.as_deref(),
                event_type = slot.outcome.event_type.as_deref(),
                outcome = ?slot.outcome.outcome,
                task_id = slot.outcome.task_id.as_deref(),
                phone = slot.masked_phone.as_deref(),
                reason = slot.outcome.reason.as_deref(),
            );
        }
        let outcomes: Vec<EventOutcome> = slots.iter().map(|s| s.outcome.clone()).collect();
        let status = if slots.iter().any(|s| s.failed) {
            StatusCode::SERVICE_UNAVAILABLE
        } else if !slots.is_empty() && slots.iter().all(|s| s.outcome.outcome == Outcome::Rejected) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        };
        info!(outcome = "answered", status = status.as_u16(), events = slots.len());
        Ok(events_response(status, &outcomes))
    }

    fn expires_at(&self, received_at: DateTime<Utc>) -> i64 {
        received_at.timestamp() + i64::from(self.config.retention_days) * 86_400
    }

    /// Phase 1: one conditional write per event decides new or duplicate.
    async fn store_event(&self, parsed: ParsedEvent, received_at: DateTime<Utc>) -> Slot {
        let payload_sha256 = sha256_hex(parsed.raw.as_bytes());
        let provider = self.provider();
        match parsed.outcome {
            Err(rejection) => {
                let mut slot = Slot::new(EventOutcome {
                    event_key: None,
                    event_type: rejection.event_type.clone(),
                    outcome: Outcome::Rejected,
                    task_id: None,
                    reason: Some(format!("{}: {}", rejection.reason, rejection.detail)),
                });
                let record = RejectedRecord {
                    pk: format!("{}#rejected#{}", provider.name(), payload_sha256),
                    provider,
                    event_type: rejection.event_type,
                    received_at,
                    payload_sha256,
                    raw_body: parsed.raw,
                    reason: rejection.reason.to_owned(),
                    detail: rejection.detail,
                    expires_at: self.expires_at(received_at),
                };
                match self.store.put_rejected(&record).await {
                    Ok(()) => slot.metrics.reject(rejection.reason),
                    Err(err) => slot.fail(&err),
                }
                slot.pk = Some(record.pk);
                slot
            }
            Ok(event) => self.store_valid(event, parsed.raw, payload_sha256, received_at).await,
        }
    }

    async fn store_valid(
        &self,
        event: NormalisedEvent,
        raw_body: String,
        payload_sha256: String,
        received_at: DateTime<Utc>,
    ) -> Slot {
        let mut task = CallbackTask::for_event(&event);
        // The task borrows the event's context: copied only to be bounded.
        if let Some(task) = task.as_mut()
            && task.context.values().any(exceeds_bound)
        {
            task.context.to_mut().values_mut().for_each(bound_text);
        }
        let outgoing = task.as_ref().map(|t| OutgoingTask {
            task_id: t.task_id.clone(),
            group_id: t.message_group_id().to_owned(),
            body: t.to_json(),
        });
        let mut slot = Slot::new(EventOutcome {
            event_key: Some(event.event_key.to_string()),
            event_type: Some(event.event_type.clone()),
            outcome: Outcome::Stored,
            task_id: outgoing.as_ref().map(|t| t.task_id.clone()),
            reason: None,
        });
        let record = EventRecord {
            pk: format!("{}#{}", event.provider.name(), event.event_key),
            provider: event.provider,
            event_key: event.event_key.to_string(),
            event_type: event.event_type.clone(),
            received_at,
            occurred_at: event.occurred_at,
            payload_sha256,
            raw_body,
            event: {
                let mut normalised = event.to_json();
                bound_text(&mut normalised);
                normalised
            },
            task: outgoing,
            expires_at: self.expires_at(received_at),
        };
        slot.pk = Some(record.pk.clone());
        match self.store.put_event(&record).await {
            Err(err) => slot.fail(&err),
            Ok(PutOutcome::Created) => {
                slot.metrics.events_stored += 1;
                if let CallbackDecision::Unreachable { reason } = event.callback {
                    slot.metrics.unreachable_callbacks += 1;
                    warn!(outcome = "unreachable_callback", event_key = %event.event_key, reason = reason.as_str());
                }
                if let (Some(task), Some(request)) = (record.task, event.callback.request()) {
                    slot.masked_phone = Some(request.phone.masked());
                    slot.send = Some((task, false));
                }
            }
            Ok(PutOutcome::Duplicate(existing)) => {
                slot.metrics.duplicates += 1;
                slot.outcome.outcome = Outcome::Duplicate;
                slot.outcome.task_id = existing.task.as_ref().map(|t| t.task_id.clone());
                if existing.payload_sha256.as_deref() != Some(record.payload_sha256.as_str())
                    && !same_content(existing.raw_body.as_deref(), &record.raw_body)
                {
                    // Same identity, different bytes: keep it beside the first.
                    slot.metrics.payload_conflicts += 1;
                    warn!(outcome = "payload_conflict", event_key = %record.event_key);
                    if let Err(err) = self.store.put_conflict(&record).await {
                        slot.fail(&err);
                        return slot;
                    }
                }
                // Only a pending task is sent again: `task_enqueued` is on
                // the queue, `task_cancelled` was an operator's decision
                // (webhook-ops resolve --cancel) and is never sent.
                if existing.status == Some(RecordStatus::TaskPending)
                    && let Some(task) = existing.task
                {
                    match existing.send_attempted_at {
                        // No send can have happened: claim it, then send.
                        None => slot.send = Some((task, true)),
                        // FIFO deduplication still covers an earlier send.
                        Some(at) if received_at - at < RESEND_WINDOW => slot.send = Some((task, false)),
                        Some(_) => {
                            // An earlier send may have landed and the dedup
                            // window is over: sending again could call the
                            // customer twice. Left for on-call (TasksStuck).
                            slot.metrics.tasks_stuck += 1;
                            error!(outcome = "task_stuck", event_key = %record.event_key, task_id = %task.task_id);
                        }
                    }
                }
            }
        }
        slot
    }

    /// Phase 2: where no send can have happened yet, record the one about
    /// to happen, so a later crash cannot lead to a second one.
    async fn claim_sends(&self, slots: &mut [Slot], now: DateTime<Utc>) {
        let claims = slots.iter().enumerate().filter_map(|(i, slot)| match (&slot.send, &slot.pk) {
            (Some((_, true)), Some(pk)) => Some((i, pk.clone())),
            _ => None,
        });
        let results = join_all(claims.map(|(i, pk)| async move { (i, self.store.claim_send(&pk, now).await) })).await;
        for (i, result) in results {
            let slot = &mut slots[i];
            match result {
                Ok(true) => {
                    if let Some((_, claim)) = slot.send.as_mut() {
                        *claim = false;
                    }
                }
                // A concurrent delivery claimed it and sends it.
                Ok(false) => slot.send = None,
                Err(err) => {
                    slot.send = None;
                    slot.fail(&err);
                }
            }
        }
    }

    /// Phase 3: send every task of the delivery (batched), then mark each
    /// sent one as enqueued.
    async fn send_tasks(&self, slots: &mut [Slot], now: DateTime<Utc>) {
        let pending: Vec<usize> = slots.iter().enumerate().filter(|(_, s)| s.send.is_some()).map(|(i, _)| i).collect();
        if pending.is_empty() {
            return;
        }
        let tasks: Vec<OutgoingTask> =
            pending.iter().filter_map(|&i| slots[i].send.as_ref().map(|(task, _)| task.clone())).collect();
        let results = self.queue.send(&tasks).await;
        let mut marks = Vec::new();
        for (&i, result) in pending.iter().zip(results) {
            let slot = &mut slots[i];
            let pk = slot.pk.clone().unwrap_or_default();
            match result {
                Ok(()) => marks.push((i, pk)),
                Err(err) => {
                    slot.fail(&err);
                    if err.certainly_not_sent {
                        // Best effort: lets a late redelivery send it safely.
                        let _ = self.store.clear_send_attempt(&pk, now).await;
                    }
                }
            }
        }
        let results =
            join_all(marks.into_iter().map(|(i, pk)| async move { (i, self.store.mark_enqueued(&pk, now).await) }))
                .await;
        for (i, result) in results {
            let slot = &mut slots[i];
            match result {
                Ok(()) => slot.metrics.tasks_enqueued += 1,
                Err(err) => slot.fail(&err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn exceeds_bound_is_whether_bound_text_changes_the_value() {
        let long = "é".repeat(MAX_NORMALISED_TEXT);
        let at_limit = "x".repeat(MAX_NORMALISED_TEXT);
        let values = [
            json!(null),
            json!(12),
            json!(""),
            json!(at_limit),
            json!(format!("{at_limit}x")),
            json!(long),
            json!([1, "short", [at_limit]]),
            json!([1, "short", [long]]),
            json!({"a": {"b": at_limit}}),
            json!({"a": {"b": [long]}}),
        ];
        for value in values {
            let mut bounded = value.clone();
            bound_text(&mut bounded);
            assert_eq!(exceeds_bound(&value), bounded != value, "{value}");
        }
    }
}
