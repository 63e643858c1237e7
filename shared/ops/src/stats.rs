//! `stats [--since T]`: counts per provider and state from the table, for
//! the on-call handover. One scan (progress on stderr).

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use pipeline::store::RecordStatus;
use serde_json::json;

use crate::context::Ops;
use crate::error::OpsError;
use crate::output::{Format, emit, table};
use crate::records::{self, ScanFilter};
use crate::time::parse_time;
use crate::trace::task_state;

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Only records received at or after (RFC 3339, a date, or an age like 12h).
    #[arg(long)]
    pub since: Option<String>,
}

/// Columns, in order.
const COLUMNS: &[&str] =
    &["stored", "task_pending", "task_stuck", "task_enqueued", "task_cancelled", "conflicts", "rejected", "replayed"];

pub async fn run(
    ops: &Ops,
    args: StatsArgs,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), OpsError> {
    let now = Utc::now();
    let since = args.since.as_deref().map(|s| parse_time("--since", s, now)).transpose()?;
    let table_name = ops.table().await?;
    let filter = match since {
        Some(since) => ScanFilter {
            expression: Some("received_at >= :since OR begins_with(pk, :campaign)".into()),
            names: Vec::new(),
            values: vec![
                (":since", AttributeValue::S(since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
                (":campaign", AttributeValue::S("campaign#".into())),
            ],
        },
        None => ScanFilter::all(),
    };
    let records = records::scan(&ops.dynamo, &table_name, &filter, err).await?;
    let mut counts: BTreeMap<String, BTreeMap<&'static str, u64>> = BTreeMap::new();
    let mut reasons: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut campaigns: BTreeMap<String, u64> = BTreeMap::new();
    for record in &records {
        if record.is_campaign() {
            // `claimed_at` is epoch milliseconds (campaign ledger).
            let claimed = record.number("claimed_at").and_then(chrono::DateTime::<Utc>::from_timestamp_millis);
            let since_ok = since.is_none_or(|s| claimed.is_none_or(|t| t >= s));
            if since_ok {
                *campaigns.entry(record.text("status").unwrap_or("unknown").to_owned()).or_default() += 1;
            }
            continue;
        }
        let provider = record.text("provider").unwrap_or("unknown").to_owned();
        let row = counts.entry(provider.clone()).or_default();
        let column = if record.is_conflict() {
            "conflicts"
        } else {
            match record.status() {
                Some(RecordStatus::Rejected) if record.text("replayed_to").is_some() => "replayed",
                Some(RecordStatus::Rejected) => {
                    *reasons
                        .entry((provider.clone(), record.text("reason").unwrap_or("unknown").to_owned()))
                        .or_default() += 1;
                    "rejected"
                }
                Some(RecordStatus::Stored) => "stored",
                Some(_) => match task_state(record, now) {
                    "stuck" => "task_stuck",
                    "enqueued" => "task_enqueued",
                    "cancelled" => "task_cancelled",
                    _ => "task_pending",
                },
                None => continue,
            }
        };
        *row.entry(column).or_default() += 1;
    }
    let report = json!({
        "since": since.map(|s| s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "table": table_name,
        "providers": counts.iter().map(|(p, row)| (p.clone(), json!(COLUMNS.iter().map(|c| (c.to_string(), row.get(c).copied().unwrap_or(0))).collect::<BTreeMap<_, _>>()))).collect::<BTreeMap<_, _>>(),
        "rejected_by_reason": reasons.iter().map(|((p, r), n)| json!({"provider": p, "reason": r, "count": n})).collect::<Vec<_>>(),
        "campaign_pushes": campaigns,
        "note": "duplicates with the same payload are not stored (metric Duplicates); conflicts are duplicates with a different payload",
    });
    emit(out, format, &report, || {
        let mut header = vec!["provider"];
        header.extend_from_slice(COLUMNS);
        let mut t = table(&header);
        for (provider, row) in &counts {
            let mut cells = vec![provider.clone()];
            cells.extend(COLUMNS.iter().map(|c| row.get(c).copied().unwrap_or(0).to_string()));
            t.add_row(cells);
        }
        let mut text = format!(
            "{table_name}{}\n{t}\n",
            since
                .map(|s| format!(", received since {}", s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
                .unwrap_or_default()
        );
        if !reasons.is_empty() {
            let mut r = table(&["provider", "rejected by reason", "count"]);
            for ((p, reason), n) in &reasons {
                r.add_row(vec![p.clone(), reason.clone(), n.to_string()]);
            }
            text.push_str(&format!("{r}\n"));
        }
        if !campaigns.is_empty() {
            let summary: Vec<String> = campaigns.iter().map(|(s, n)| format!("{s} {n}")).collect();
            text.push_str(&format!("campaign pushes: {}\n", summary.join(", ")));
        }
        text.push_str("(same-payload duplicates are acknowledged, not stored: see the Duplicates metric)\n");
        text
    })
}
