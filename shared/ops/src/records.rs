//! Reading records generically: any item is a JSON object of its
//! attributes, so attributes this tool does not know yet (a later
//! version's, say a callback identity) still show up in `trace`.
//!
//! Lookups: a record by its key (`GetItem`, consistent), records carrying a
//! task id or a conflict's origin, and ranges, by `Scan` with a filter (the
//! table has no index on those; fine for operator volumes, and progress is
//! printed on long scans).

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use payloads::Provider;
use pipeline::dynamo::item_to_json;
use pipeline::queue::OutgoingTask;
use pipeline::store::RecordStatus;
use serde_json::{Map, Value};

use crate::error::OpsError;
use crate::time::stored_time;

/// One item of the table.
#[derive(Debug, Clone)]
pub struct Record(pub Map<String, Value>);

impl Record {
    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Self {
        match item_to_json(item) {
            Value::Object(map) => Record(map),
            _ => Record(Map::new()),
        }
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn number(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }

    pub fn pk(&self) -> &str {
        self.text("pk").unwrap_or_default()
    }

    pub fn status(&self) -> Option<RecordStatus> {
        self.text("status").and_then(RecordStatus::parse)
    }

    pub fn provider(&self) -> Option<Provider> {
        self.text("provider").and_then(provider_named)
    }

    pub fn is_campaign(&self) -> bool {
        self.pk().starts_with("campaign#")
    }

    pub fn is_conflict(&self) -> bool {
        self.0.contains_key("conflict_of")
    }

    pub fn received_at(&self) -> Option<DateTime<Utc>> {
        stored_time(self.text("received_at"))
    }

    /// `send_attempted_at` is epoch milliseconds.
    pub fn send_attempted_at(&self) -> Option<DateTime<Utc>> {
        self.number("send_attempted_at").and_then(DateTime::<Utc>::from_timestamp_millis)
    }

    pub fn task(&self) -> Option<OutgoingTask> {
        Some(OutgoingTask {
            task_id: self.text("task_id")?.to_owned(),
            group_id: self.text("task_group")?.to_owned(),
            body: self.text("task")?.to_owned(),
        })
    }

    /// The stored task's JSON, when there is one.
    pub fn task_json(&self) -> Option<Value> {
        self.text("task").and_then(|t| serde_json::from_str(t).ok())
    }
}

pub fn provider_named(name: &str) -> Option<Provider> {
    Provider::ALL.into_iter().find(|p| p.name() == name)
}

/// Masks every phone-like run in a text (a `+` or digit run of 7 digits or
/// more, single spaces allowed), the way the logs do
/// ([`payloads::phone::mask`]); shorter digit runs (dates, counts) stay.
pub fn mask_phones(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts =
            chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len()
            && (chars[j].is_ascii_digit() || (chars[j] == ' ' && chars.get(j + 1).is_some_and(char::is_ascii_digit)))
        {
            j += 1;
        }
        let run: String = chars[i..j].iter().collect();
        // A run joined to a `.` is a decimal or a call id, not a number.
        let dotted = (i > 0 && chars[i - 1] == '.') || chars.get(j) == Some(&'.');
        if !dotted && run.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push_str(&payloads::phone::mask(&run));
        } else {
            out.push_str(&run);
        }
        i = j;
    }
    out
}

/// A JSON value with every string's phone-like runs masked.
pub fn masked_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(mask_phones(s)),
        Value::Array(items) => Value::Array(items.iter().map(masked_value).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), masked_value(v))).collect()),
        other => other.clone(),
    }
}

pub async fn get(dynamo: &Client, table: &str, pk: &str) -> Result<Option<Record>, OpsError> {
    let output = dynamo
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| OpsError::aws("GetItem", e))?;
    Ok(output.item().map(Record::from_item))
}

/// A filtered scan, paged to the end; progress goes to `progress` every
/// page once it takes more than one.
pub struct ScanFilter<'a> {
    pub expression: Option<String>,
    pub names: Vec<(&'a str, &'a str)>,
    pub values: Vec<(&'a str, AttributeValue)>,
}

impl ScanFilter<'_> {
    pub fn all() -> Self {
        ScanFilter { expression: None, names: Vec::new(), values: Vec::new() }
    }
}

pub async fn scan(
    dynamo: &Client,
    table: &str,
    filter: &ScanFilter<'_>,
    progress: &mut dyn Write,
) -> Result<Vec<Record>, OpsError> {
    let mut records = Vec::new();
    let mut start = None;
    let mut scanned = 0usize;
    let mut pages = 0usize;
    loop {
        let mut request = dynamo.scan().table_name(table).consistent_read(true).set_exclusive_start_key(start);
        if let Some(expression) = &filter.expression {
            request = request.filter_expression(expression);
        }
        for (name, value) in &filter.names {
            request = request.expression_attribute_names(*name, *value);
        }
        for (name, value) in &filter.values {
            request = request.expression_attribute_values(*name, value.clone());
        }
        let page = request.send().await.map_err(|e| OpsError::aws(format!("Scan({table})"), e))?;
        scanned += page.scanned_count() as usize;
        pages += 1;
        records.extend(page.items().iter().map(Record::from_item));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            if pages > 1 {
                let _ = writeln!(progress, "scanned {scanned} items, {} matched", records.len());
            }
            return Ok(records);
        }
        let _ = writeln!(progress, "scanning {table}: {scanned} items read, {} matched so far ...", records.len());
    }
}

/// The record that owns a task: the one carrying `task_id` with the task
/// state (`task`, `status`). Records that only point at the task (a later
/// version may add such) are not owners.
pub async fn find_task_owner(
    dynamo: &Client,
    table: &str,
    task_id: &str,
    progress: &mut dyn Write,
) -> Result<Option<Record>, OpsError> {
    let records = scan(
        dynamo,
        table,
        &ScanFilter {
            expression: Some("task_id = :task AND attribute_exists(task) AND attribute_not_exists(conflict_of)".into()),
            names: Vec::new(),
            values: vec![(":task", AttributeValue::S(task_id.to_owned()))],
        },
        progress,
    )
    .await?;
    Ok(records.into_iter().find(|r| !r.is_campaign()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_like_runs_are_masked_and_dates_and_short_numbers_kept() {
        assert_eq!(mask_phones("call +911234567890 now"), "call +91*******890 now");
        assert_eq!(mask_phones("98765 43210"), "98*****210");
        assert_eq!(mask_phones("2025-08-02T06:30:00Z, 42 items"), "2025-08-02T06:30:00Z, 42 items");
        assert_eq!(mask_phones("call-hangup-missed#1754036781.4471935"), "call-hangup-missed#1754036781.4471935");
    }
}
