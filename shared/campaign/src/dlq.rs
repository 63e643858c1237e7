//! The dead-letter queue (`CAMPAIGN_DLQ_URL`, a standard SQS queue): every
//! task whose campaign was not and will not be pushed, with its reason.
//! Consumers dedupe on `task_id` (a crash between the send and its record
//! can repeat a message; see docs/campaign.md).

use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use payloads::campaign::FieldProblem;
use serde::Serialize;

pub const SCHEMA: &str = "truecaller-campaign-dead-letter/v1";

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub field: String,
    pub problem: String,
}

/// The dead-letter message body.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub schema: &'static str,
    pub task_id: Option<String>,
    /// The event record the task came from.
    pub source_pk: Option<String>,
    pub provider: Option<String>,
    pub callback_reason: Option<String>,
    /// `invalid_campaign`, `rejected_by_truecaller`, `retries_exhausted`,
    /// `unreadable_task`, `malformed_record`.
    pub reason: &'static str,
    pub detail: String,
    pub problems: Vec<Problem>,
    /// Truecaller's answer, when there was one.
    pub http_status: Option<u16>,
    pub body_snippet: Option<String>,
    pub template: Option<String>,
    pub at: String,
}

impl DeadLetter {
    pub fn new(reason: &'static str, detail: impl Into<String>, at: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            schema: SCHEMA,
            task_id: None,
            source_pk: None,
            provider: None,
            callback_reason: None,
            reason,
            detail: detail.into(),
            problems: Vec::new(),
            http_status: None,
            body_snippet: None,
            template: None,
            at: crate::rfc3339_ms(at),
        }
    }

    pub fn with_problems(mut self, problems: &[FieldProblem]) -> Self {
        self.problems =
            problems.iter().map(|p| Problem { field: p.field.clone(), problem: p.problem.to_string() }).collect();
        self
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a dead letter always serialises")
    }
}

#[derive(Debug, Clone)]
pub struct DeadLetterQueue {
    client: Client,
    url: String,
}

impl DeadLetterQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn send(&self, body: &str) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("SendMessage(dead letter) failed: {}", DisplayErrorContext(e)))
    }
}
