//! One invocation: every stream record of the batch, in order. A record
//! fails (and is reported in `batchItemFailures`, so Lambda retries it)
//! only when a retry can help; everything else ends pushed, skipped,
//! ignored, or dead-lettered with its reason.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use payloads::CallbackTask;
use tracing::{debug, error, info, warn};

use crate::config::CampaignConfig;
use crate::dlq::{DeadLetter, DeadLetterQueue};
use crate::http::{PushOutcome, TruecallerClient};
use crate::ledger::{Claim, ClaimRequest, Ledger};
use crate::metrics::CampaignMetrics;
use crate::stream::{
    DynamoDbBatchItemFailure, DynamoDbEventResponse, EnqueuedTask, Event, EventRecord, Selection, item_identifier,
    select,
};

/// What to do with a selected task, decided before claiming it.
enum Plan {
    /// The validated campaign's JSON body.
    Push {
        body: String,
        template: String,
    },
    Reject(Box<DeadLetter>),
}

/// Why a claim did not lead to work.
enum Acquired {
    Go { claim_id: String, deliveries: u32 },
    Done,
}

pub struct CampaignPusher {
    templates: crate::templates::Templates,
    ledger: Ledger,
    dlq: DeadLetterQueue,
    client: TruecallerClient,
    http_attempts: u32,
    backoff: Duration,
    max_deliveries: u32,
    longest_hold: Duration,
}

impl CampaignPusher {
    pub fn new(config: &CampaignConfig, ledger: Ledger, dlq: DeadLetterQueue, client: TruecallerClient) -> Self {
        Self {
            templates: config.templates.clone(),
            ledger,
            dlq,
            client,
            http_attempts: config.http_attempts,
            backoff: config.backoff,
            max_deliveries: config.max_deliveries,
            longest_hold: config.longest_hold(),
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn dlq(&self) -> &DeadLetterQueue {
        &self.dlq
    }

    /// Handles a batch. `deadline`: when the invocation times out (from the
    /// Lambda context), so a claim held by a dead invocation can be waited
    /// out when its lease ends in time.
    pub async fn handle(
        &self,
        event: &Event,
        deadline: Option<DateTime<Utc>>,
    ) -> (DynamoDbEventResponse, CampaignMetrics) {
        let mut metrics = CampaignMetrics::default();
        let mut response = DynamoDbEventResponse::default();
        for record in &event.records {
            metrics.records += 1;
            if let Err(cause) = self.process(record, deadline, &mut metrics).await {
                metrics.failures += 1;
                warn!(outcome = "record_failed", event_id = %record.event_id, cause = %cause, "Lambda retries this record");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = item_identifier(record);
                response.batch_item_failures.push(failure);
            }
        }
        info!(
            outcome = "batch_done",
            records = metrics.records,
            pushed = metrics.pushed,
            rejected = metrics.rejected_total(),
            skipped = metrics.skipped,
            duplicates = metrics.duplicates,
            failures = metrics.failures
        );
        (response, metrics)
    }

    async fn process(
        &self,
        record: &EventRecord,
        deadline: Option<DateTime<Utc>>,
        metrics: &mut CampaignMetrics,
    ) -> Result<(), String> {
        let selected = match select(record) {
            Selection::Enqueued(selected) => selected,
            Selection::Ignored(why) => {
                debug!(outcome = "ignored", why, event_name = %record.event_name);
                return Ok(());
            }
            Selection::NoImages => {
                error!(outcome = "no_stream_images", "the stream must be NEW_AND_OLD_IMAGES");
                return Err("stream record has no images".into());
            }
            Selection::Malformed { source_pk, reason } => {
                // No task ID, so no campaign record to make this once:
                // dead-lettered directly.
                let mut letter = DeadLetter::new(reason, "an enqueued event record without a task_id", Utc::now());
                letter.source_pk = source_pk;
                self.dlq.send(&letter.to_json()).await?;
                metrics.reject(reason);
                error!(outcome = "dead_lettered", reason, source_pk = letter.source_pk.as_deref().unwrap_or("-"));
                return Ok(());
            }
        };
        let task = match selected.task_json.as_deref().map(CallbackTask::from_json) {
            Some(Ok(task)) => task,
            Some(Err(err)) => return self.reject_unreadable(&selected, err.to_string(), deadline, metrics).await,
            None => return self.reject_unreadable(&selected, "no task attribute".into(), deadline, metrics).await,
        };
        let (provider, reason) = (task.provider.name(), task.reason.as_str());
        let Some((template_key, template)) = self.templates.find(task.provider, task.reason) else {
            metrics.skipped += 1;
            info!(outcome = "skipped", why = "no_template", provider, callback_reason = reason, task_id = %task.task_id);
            return Ok(());
        };
        let plan = match template.render(&task) {
            Ok(campaign) => Plan::Push { body: campaign.to_json(), template: template_key.to_owned() },
            Err(problems) => {
                let mut letter = self.letter("invalid_campaign", "the rendered campaign breaks the rules", &selected);
                letter.provider = Some(provider.into());
                letter.callback_reason = Some(reason.into());
                letter.template = Some(template_key.to_owned());
                Plan::Reject(Box::new(letter.with_problems(&problems)))
            }
        };
        let request = ClaimRequest { task_id: &selected.task_id, source_pk: &selected.source_pk, provider, reason };
        let Acquired::Go { claim_id, deliveries } = self.acquire(&request, deadline, metrics).await? else {
            return Ok(());
        };
        match plan {
            Plan::Reject(letter) => self.dead_letter(&selected.task_id, &claim_id, &letter, 0, metrics).await,
            Plan::Push { body, template } => {
                let receiver = task.phone.masked();
                let (outcome, attempts) = self.push(&body, &selected.task_id, metrics).await;
                match outcome {
                    PushOutcome::Accepted { status } => {
                        let kept = self
                            .ledger
                            .mark_sent(&selected.task_id, &claim_id, status, attempts, Utc::now())
                            .await
                            .map_err(|e| e.to_string())?;
                        if !kept {
                            warn!(outcome = "claim_lost", task_id = %selected.task_id, "pushed after the lease ran out");
                        }
                        metrics.pushed += 1;
                        info!(
                            outcome = "pushed",
                            task_id = %selected.task_id,
                            provider,
                            callback_reason = reason,
                            template = %template,
                            receiver = %receiver,
                            http_status = status,
                            attempts
                        );
                        Ok(())
                    }
                    PushOutcome::Rejected { status, snippet } => {
                        let mut letter =
                            self.letter("rejected_by_truecaller", format!("Truecaller answered {status}"), &selected);
                        letter.provider = Some(provider.into());
                        letter.callback_reason = Some(reason.into());
                        letter.template = Some(template);
                        letter.http_status = Some(status);
                        letter.body_snippet = Some(snippet);
                        self.dead_letter(&selected.task_id, &claim_id, &letter, attempts, metrics).await
                    }
                    PushOutcome::Retryable { reason: why, status, snippet } => {
                        if deliveries >= self.max_deliveries {
                            let mut letter = self.letter(
                                "retries_exhausted",
                                format!("{deliveries} invocations of {attempts} attempts each failed; last: {why}"),
                                &selected,
                            );
                            letter.provider = Some(provider.into());
                            letter.callback_reason = Some(reason.into());
                            letter.template = Some(template);
                            letter.http_status = status;
                            letter.body_snippet = snippet;
                            return self.dead_letter(&selected.task_id, &claim_id, &letter, attempts, metrics).await;
                        }
                        self.ledger
                            .release_for_retry(&selected.task_id, &claim_id, &why, attempts)
                            .await
                            .map_err(|e| e.to_string())?;
                        Err(format!("push failed after {attempts} attempts: {why}"))
                    }
                }
            }
        }
    }

    fn letter(&self, reason: &'static str, detail: impl Into<String>, selected: &EnqueuedTask) -> DeadLetter {
        let mut letter = DeadLetter::new(reason, detail, Utc::now());
        letter.task_id = Some(selected.task_id.clone());
        letter.source_pk = Some(selected.source_pk.clone());
        letter
    }

    async fn reject_unreadable(
        &self,
        selected: &EnqueuedTask,
        detail: String,
        deadline: Option<DateTime<Utc>>,
        metrics: &mut CampaignMetrics,
    ) -> Result<(), String> {
        let letter = self.letter("unreadable_task", detail, selected);
        let request = ClaimRequest {
            task_id: &selected.task_id,
            source_pk: &selected.source_pk,
            provider: "unknown",
            reason: "unknown",
        };
        let Acquired::Go { claim_id, .. } = self.acquire(&request, deadline, metrics).await? else { return Ok(()) };
        self.dead_letter(&selected.task_id, &claim_id, &letter, 0, metrics).await
    }

    /// Claims the task; finishes a dead letter left unconfirmed; counts a
    /// redelivery of finished work; waits out a dead holder's lease when it
    /// ends in time.
    async fn acquire(
        &self,
        request: &ClaimRequest<'_>,
        deadline: Option<DateTime<Utc>>,
        metrics: &mut CampaignMetrics,
    ) -> Result<Acquired, String> {
        let mut waited = false;
        loop {
            let now = Utc::now();
            match self.ledger.claim(request, now).await.map_err(|e| e.to_string())? {
                Claim::Acquired { claim_id, deliveries, took_over } => {
                    if took_over {
                        // Truecaller has no idempotency key: whether the
                        // dead holder's push landed is unknown. Pushing
                        // again risks a duplicate; not pushing risks losing
                        // the campaign. Chosen: push (docs/campaign.md).
                        metrics.retries += 1;
                        warn!(
                            outcome = "lease_taken_over",
                            task_id = request.task_id,
                            deliveries,
                            "previous push outcome unknown"
                        );
                    }
                    return Ok(Acquired::Go { claim_id, deliveries });
                }
                Claim::Sent | Claim::Failed => {
                    metrics.duplicates += 1;
                    info!(outcome = "duplicate", task_id = request.task_id);
                    return Ok(Acquired::Done);
                }
                Claim::DeadLetterPending { body } => {
                    self.dlq.send(&body).await?;
                    if let Err(err) = self.ledger.mark_dead_lettered(request.task_id, now).await {
                        warn!(outcome = "dead_letter_unconfirmed", task_id = request.task_id, cause = %err);
                    }
                    metrics.duplicates += 1;
                    info!(outcome = "dead_letter_completed", task_id = request.task_id);
                    return Ok(Acquired::Done);
                }
                Claim::Held { lease_until } => {
                    let wait = (lease_until - now + TimeDelta::milliseconds(200)).max(TimeDelta::zero());
                    let needed = TimeDelta::from_std(self.longest_hold).unwrap_or(TimeDelta::MAX);
                    let fits = deadline.is_some_and(|d| now + wait + needed < d);
                    if waited || !fits {
                        return Err(format!("claimed by another invocation until {lease_until}"));
                    }
                    info!(outcome = "waiting_for_lease", task_id = request.task_id, wait_ms = wait.num_milliseconds());
                    tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
                    waited = true;
                }
            }
        }
    }

    /// Records the dead letter on the campaign record, then sends it. If the
    /// send fails the record is retried and the stored letter sent again.
    async fn dead_letter(
        &self,
        task_id: &str,
        claim_id: &str,
        letter: &DeadLetter,
        http_attempts: u32,
        metrics: &mut CampaignMetrics,
    ) -> Result<(), String> {
        let body = letter.to_json();
        let kept = self
            .ledger
            .mark_failed(task_id, claim_id, letter.reason, &body, http_attempts)
            .await
            .map_err(|e| e.to_string())?;
        if !kept {
            warn!(outcome = "claim_lost", task_id, "another invocation owns this task now");
            return Ok(());
        }
        self.dlq.send(&body).await?;
        if let Err(err) = self.ledger.mark_dead_lettered(task_id, Utc::now()).await {
            warn!(outcome = "dead_letter_unconfirmed", task_id, cause = %err);
        }
        metrics.reject(letter.reason);
        error!(
            outcome = "dead_lettered",
            reason = letter.reason,
            task_id,
            problems = letter.problems.len(),
            http_status = letter.http_status.unwrap_or_default()
        );
        Ok(())
    }

    /// Up to `http_attempts` POSTs, with exponential backoff and jitter
    /// between them, while the answer is retryable.
    async fn push(&self, body: &str, task_id: &str, metrics: &mut CampaignMetrics) -> (PushOutcome, u32) {
        let mut attempt = 1;
        loop {
            let outcome = self.client.push_once(body).await;
            match &outcome {
                PushOutcome::Retryable { reason, .. } if attempt < self.http_attempts => {
                    metrics.retries += 1;
                    let base = self.backoff * 2u32.pow(attempt - 1);
                    let jitter_range = u128::from(u64::try_from(base.as_millis() / 2).unwrap_or(0).max(1));
                    let jitter = Duration::from_millis((uuid::Uuid::new_v4().as_u128() % jitter_range) as u64);
                    warn!(outcome = "push_retry", task_id, attempt, reason = %reason);
                    tokio::time::sleep(base + jitter).await;
                    attempt += 1;
                }
                _ => return (outcome, attempt),
            }
        }
    }
}
