//! `replay`: stored deliveries through the current parser and the normal
//! pipeline, so a replay has a live delivery's guarantees (one conditional
//! write decides new or duplicate; a task at most once).
//!
//! A record's `raw_body` is rebuilt into the request the provider would
//! send (POST to its route, the content type the body has; Smartflo's
//! trigger from the rejected record's `event_type`) and handed to
//! [`pipeline::Pipeline::handle_incoming`] with a one-off token known only
//! to this process. What the request had besides its body is not stored:
//! a Curious Thing `?eventType=` hint is not replayed.
//!
//! A replayed rejected record is marked `replayed_to = <new key>` (with
//! when and who) only after the pipeline stored the event, so an
//! interrupted replay is finished by running it again, and a marked record
//! is skipped: the second run changes nothing.

use std::io::Write;

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use payloads::{ParseContext, Provider, ProviderParser};
use pipeline::request::IncomingRequest;
use pipeline::store::RecordStatus;
use pipeline::{Config, DynamoEventStore, Pipeline, SqsTaskQueue, Tokens};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::context::Ops;
use crate::error::OpsError;
use crate::output::{self, Format, emit};
use crate::records::{self, Record, ScanFilter, provider_named};
use crate::time::parse_time;

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// One record by key (e.g. `truecaller#rejected#<sha256>`).
    #[arg(long, conflicts_with_all = ["provider", "since", "until"])]
    pub key: Option<String>,
    /// Records of one provider (with --since).
    #[arg(long, requires = "since")]
    pub provider: Option<String>,
    /// Received at or after (RFC 3339, a date, or an age like 2h).
    #[arg(long, requires = "provider")]
    pub since: Option<String>,
    /// Received before (default: now).
    #[arg(long, requires = "since")]
    pub until: Option<String>,
    /// Only records in this state (the main use: `rejected`).
    #[arg(long)]
    pub state: Option<String>,
    /// Print what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Phone region and Smartflo zone as the functions are configured.
    #[arg(long, env = "DEFAULT_PHONE_REGION")]
    pub default_phone_region: Option<String>,
    #[arg(long, env = "SMARTFLO_UTC_OFFSET")]
    pub smartflo_utc_offset: Option<String>,
    #[arg(long, env = "EVENT_RETENTION_DAYS")]
    pub event_retention_days: Option<String>,
}

/// One record's replay, for the report.
#[derive(Debug, Clone)]
struct Replayed {
    pk: String,
    outcome: String,
    new_key: Option<String>,
    task_id: Option<String>,
    detail: Option<String>,
}

fn parser_for(provider: Provider) -> Box<dyn ProviderParser> {
    use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
    match provider {
        Provider::Truecaller => Box::new(Truecaller),
        Provider::CuriousThing => Box::new(CuriousThing),
        Provider::Smartflo => Box::new(Smartflo),
        Provider::Wavix => Box::new(Wavix),
    }
}

/// A parser behind a box, as the pipeline takes an owned parser.
struct Boxed(Box<dyn ProviderParser>);

impl ProviderParser for Boxed {
    fn provider(&self) -> Provider {
        self.0.provider()
    }
    fn allowed_methods(&self) -> &'static str {
        self.0.allowed_methods()
    }
    fn parse(
        &self,
        d: &payloads::Delivery<'_>,
        c: &ParseContext,
    ) -> Result<Vec<payloads::ParsedEvent>, payloads::DecodeError> {
        self.0.parse(d, c)
    }
}

/// The request a record's body came in, as far as the record tells.
pub fn rebuild_request(record: &Record, token: &str) -> Result<IncomingRequest, String> {
    let provider = record.provider().ok_or("record has no known provider")?;
    let body = record.text("raw_body").ok_or("record has no raw_body")?;
    let (path, trigger, content_type) = match provider {
        Provider::Smartflo => {
            let trigger = record.text("event_type").ok_or("smartflo record has no event_type (trigger)")?;
            let json = body.trim_start().starts_with('{');
            let content_type = if json { "application/json" } else { "application/x-www-form-urlencoded" };
            (format!("/webhooks/smartflo/{trigger}"), Some(trigger.to_owned()), content_type)
        }
        other => (format!("/webhooks/{}", other.name()), None, "application/json"),
    };
    Ok(IncomingRequest {
        method: "POST".into(),
        path,
        trigger,
        query: Vec::new(),
        token: Some(token.to_owned()),
        content_type: Some(content_type.to_owned()),
        content_encoding: None,
        source_ip: None,
        request_id: Some(format!("webhook-ops-replay-{}", record.pk())),
        body: Some(body.as_bytes().to_vec()),
    })
}

/// A token only this process knows: the replay pipeline accepts its own
/// requests and nothing else, and no real token is ever read.
fn one_off_token() -> String {
    let marker = 0u8;
    let seed = format!("{:?}{}{:p}", std::time::SystemTime::now(), std::process::id(), &marker);
    hex::encode(Sha256::digest(seed.as_bytes()))
}

fn config(table: &str, queue: &str, args: &ReplayArgs, token: &str) -> Result<Config, OpsError> {
    Config::from_lookup(|name| match name {
        "EVENTS_TABLE" => Some(table.to_owned()),
        "CALLBACK_QUEUE_URL" => Some(queue.to_owned()),
        "WEBHOOK_TOKENS" => Some(token.to_owned()),
        "DEFAULT_PHONE_REGION" => args.default_phone_region.clone(),
        "SMARTFLO_UTC_OFFSET" => args.smartflo_utc_offset.clone(),
        "EVENT_RETENTION_DAYS" => args.event_retention_days.clone(),
        _ => None,
    })
    .map_err(|e| OpsError::BadInput(e.to_string()))
}

async fn select(
    ops: &Ops,
    table: &str,
    args: &ReplayArgs,
    now: DateTime<Utc>,
    err: &mut dyn Write,
) -> Result<Vec<Record>, OpsError> {
    let state = match args.state.as_deref() {
        None => None,
        Some(s) => Some(RecordStatus::parse(s).ok_or_else(|| {
            OpsError::BadInput(format!(
                "--state: {s:?} is not a state (stored, task_pending, task_enqueued, task_cancelled, rejected)"
            ))
        })?),
    };
    let mut selected = if let Some(key) = &args.key {
        let record =
            records::get(&ops.dynamo, table, key.trim()).await?.ok_or_else(|| OpsError::UnknownKey(key.clone()))?;
        vec![record]
    } else {
        let (Some(provider), Some(since)) = (&args.provider, &args.since) else {
            return Err(OpsError::BadInput("replay needs --key K, or --provider P --since T [--until T]".into()));
        };
        let provider = provider_named(provider.trim()).ok_or_else(|| {
            OpsError::BadInput(format!(
                "--provider: {provider:?} is not a provider (truecaller, curious-thing, smartflo, wavix)"
            ))
        })?;
        let since = parse_time("--since", since, now)?;
        let until = match &args.until {
            Some(u) => parse_time("--until", u, now)?,
            None => now,
        };
        if until <= since {
            return Err(OpsError::BadInput("--until must be after --since".into()));
        }
        let mut values = vec![
            (":provider", AttributeValue::S(provider.name().into())),
            (":since", AttributeValue::S(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
            (":until", AttributeValue::S(until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        ];
        let mut expression =
            "provider = :provider AND received_at >= :since AND received_at < :until AND attribute_exists(raw_body) AND attribute_not_exists(conflict_of)".to_owned();
        if let Some(state) = state {
            expression.push_str(" AND #status = :state");
            values.push((":state", AttributeValue::S(state.as_str().into())));
        }
        let names = if state.is_some() { vec![("#status", "status")] } else { Vec::new() };
        records::scan(&ops.dynamo, table, &ScanFilter { expression: Some(expression), names, values }, err).await?
    };
    if let Some(state) = state {
        selected.retain(|r| r.status() == Some(state));
    }
    selected.retain(|r| !r.is_campaign());
    selected.sort_by(|a, b| a.text("received_at").cmp(&b.text("received_at")).then(a.pk().cmp(b.pk())));
    Ok(selected)
}

pub async fn run(
    ops: &Ops,
    args: ReplayArgs,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), OpsError> {
    let now = Utc::now();
    // Inputs first: a malformed time or provider changes nothing.
    if let Some(since) = &args.since {
        parse_time("--since", since, now)?;
    }
    if let Some(until) = &args.until {
        parse_time("--until", until, now)?;
    }
    let table = ops.table().await?;
    let queue = ops.queue(ops.resources.queue_url.as_ref(), "--queue-url", "CALLBACK_QUEUE_URL").await?;
    let token = one_off_token();
    let config = config(&table, &queue, &args, &token)?;
    let selected = select(ops, &table, &args, now, err).await?;
    let by = if args.dry_run { String::new() } else { ops.operator().await? };

    let mut results = Vec::new();
    let total = selected.len();
    for (i, record) in selected.iter().enumerate() {
        if total > 20 && i % 20 == 0 {
            let _ = writeln!(err, "replaying {}/{total} ...", i + 1);
        }
        results.push(replay_one(ops, &table, &queue, &config, &token, record, &by, args.dry_run).await?);
    }

    let report = json!({
        "dry_run": args.dry_run,
        "selected": total,
        "replayed": results.iter().map(|r| json!({
            "pk": r.pk, "outcome": r.outcome, "new_key": r.new_key, "task_id": r.task_id, "detail": r.detail,
        })).collect::<Vec<_>>(),
    });
    emit(out, format, &report, || {
        let mut t = output::table(&["record", "outcome", "now stored as", "task", "detail"]);
        for r in &results {
            t.add_row(vec![
                r.pk.clone(),
                r.outcome.clone(),
                r.new_key.clone().unwrap_or_else(|| "-".into()),
                r.task_id.clone().unwrap_or_else(|| "-".into()),
                r.detail.clone().unwrap_or_default(),
            ]);
        }
        let verb = if args.dry_run { "would replay (dry run: nothing changed)" } else { "replayed" };
        format!("{verb}: {total} record(s)\n{t}\n")
    })
}

#[allow(clippy::too_many_arguments)]
async fn replay_one(
    ops: &Ops,
    table: &str,
    queue: &str,
    config: &Config,
    token: &str,
    record: &Record,
    by: &str,
    dry_run: bool,
) -> Result<Replayed, OpsError> {
    let pk = record.pk().to_owned();
    let mut result = Replayed { pk: pk.clone(), outcome: String::new(), new_key: None, task_id: None, detail: None };
    if let Some(to) = record.text("replayed_to") {
        result.outcome = "already replayed".into();
        result.new_key = Some(to.to_owned());
        result.detail = record.text("replayed_at").map(|at| format!("at {at}"));
        return Ok(result);
    }
    let Some(provider) = record.provider() else {
        result.outcome = "skipped".into();
        result.detail = Some("no known provider".into());
        return Ok(result);
    };
    let request = match rebuild_request(record, token) {
        Ok(request) => request,
        Err(why) => {
            result.outcome = "skipped".into();
            result.detail = Some(why);
            return Ok(result);
        }
    };
    let now = Utc::now();
    if dry_run {
        let parser = parser_for(provider);
        let ctx =
            ParseContext { default_region: config.default_region, received_at: now, local_offset: config.local_offset };
        match parser.parse(&request.delivery(), &ctx) {
            Err(e) => {
                result.outcome = "would fail to decode".into();
                result.detail = Some(e.to_string());
            }
            Ok(events) => {
                let mut keys = Vec::new();
                let mut notes = Vec::new();
                for event in events {
                    match event.outcome {
                        Ok(event) => {
                            let key = format!("{}#{}", provider.name(), event.event_key);
                            let exists = records::get(&ops.dynamo, table, &key).await?.is_some();
                            let task = payloads::CallbackTask::for_event(&event).map(|t| t.task_id.clone());
                            notes.push(if exists {
                                "duplicate of a stored record".to_owned()
                            } else if task.is_some() {
                                "new, with a callback task".to_owned()
                            } else {
                                "new".to_owned()
                            });
                            result.task_id = result.task_id.or(task);
                            keys.push(key);
                        }
                        Err(rejection) => notes.push(format!(
                            "still rejected: {}: {}",
                            rejection.reason,
                            records::mask_phones(&rejection.detail)
                        )),
                    }
                }
                result.outcome = if keys.is_empty() { "would stay rejected".into() } else { "would store".into() };
                result.new_key = keys.first().cloned();
                result.detail = Some(notes.join("; "));
            }
        }
        return Ok(result);
    }

    let store = DynamoEventStore::new(ops.dynamo.clone(), table);
    let sqs = SqsTaskQueue::new(ops.sqs.clone(), queue);
    let tokens = Tokens::parse(token).map_err(|_| OpsError::BadInput("internal: replay token".into()))?;
    let pipeline = Pipeline::new(Boxed(parser_for(provider)), tokens, config.clone(), store, sqs);
    let (response, _metrics) = pipeline.handle_incoming(request, now).await;
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let status = response.status_code.as_u16();
    if status == 503 {
        return Err(OpsError::Aws {
            operation: format!("replay of {pk}"),
            cause: "a dependency failed (DynamoDB or SQS); nothing is lost: run the same replay again to finish it"
                .into(),
        });
    }
    let events = body.get("events").and_then(Value::as_array).cloned().unwrap_or_default();
    let stored: Vec<&Value> =
        events.iter().filter(|e| matches!(e["outcome"].as_str(), Some("stored" | "duplicate"))).collect();
    let Some(first) = stored.first() else {
        result.outcome =
            if status == 422 || !events.is_empty() { "still rejected".into() } else { format!("answered {status}") };
        result.detail = events
            .first()
            .and_then(|e| e["reason"].as_str())
            .map(records::mask_phones)
            .or_else(|| body.get("error").map(|e| e.to_string()));
        return Ok(result);
    };
    let new_key = format!("{}#{}", provider.name(), first["event_key"].as_str().unwrap_or_default());
    result.outcome = first["outcome"].as_str().unwrap_or_default().to_owned();
    result.task_id = first["task_id"].as_str().map(str::to_owned);
    result.new_key = Some(new_key.clone());
    if new_key == pk {
        // A stored record replayed onto itself: nothing to mark.
        return Ok(result);
    }
    mark_replayed(ops, table, &pk, &new_key, by, now).await?;
    result.detail = Some(format!("{} marked replayed", pk));
    Ok(result)
}

/// Marks the old record (`replayed_to`, once) and the new one (`replay_of`,
/// when it has none yet: a later live delivery may have created it first).
async fn mark_replayed(
    ops: &Ops,
    table: &str,
    pk: &str,
    new_key: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), OpsError> {
    let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let old = ops
        .dynamo
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .update_expression("SET replayed_to = :to, replayed_at = :at, replayed_by = :by")
        .condition_expression("attribute_exists(pk) AND attribute_not_exists(replayed_to)")
        .expression_attribute_values(":to", AttributeValue::S(new_key.to_owned()))
        .expression_attribute_values(":at", AttributeValue::S(at))
        .expression_attribute_values(":by", AttributeValue::S(by.to_owned()))
        .send()
        .await;
    conditional(old, "UpdateItem(replayed_to)")?;
    let new = ops
        .dynamo
        .update_item()
        .table_name(table)
        .key("pk", AttributeValue::S(new_key.to_owned()))
        .update_expression("SET replay_of = :of")
        .condition_expression("attribute_exists(pk) AND attribute_not_exists(replay_of)")
        .expression_attribute_values(":of", AttributeValue::S(pk.to_owned()))
        .send()
        .await;
    conditional(new, "UpdateItem(replay_of)")
}

fn conditional<T>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<UpdateItemError, aws_smithy_runtime_api_shim::HttpResponse>>,
    operation: &str,
) -> Result<(), OpsError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(())
        }
        Err(err) => Err(OpsError::aws(operation, err)),
    }
}

mod aws_smithy_runtime_api_shim {
    pub use aws_sdk_dynamodb::config::http::HttpResponse;
}
