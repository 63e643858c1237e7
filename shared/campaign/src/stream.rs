//! Which records of the events table's stream are campaign work: a callback
//! task that became enqueued (INSERT or MODIFY whose new image has `status
//! = task_enqueued` and whose old image does not).

use std::collections::HashMap;

pub use aws_lambda_events::event::dynamodb::{Event, EventRecord};
pub use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;

/// The record prefix of this function's own bookkeeping in the table.
pub const CAMPAIGN_PK_PREFIX: &str = "campaign#";

const ENQUEUED: &str = "task_enqueued";

/// A callback task that became enqueued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueuedTask {
    /// The event record's key (`{provider}#{event_key}`).
    pub source_pk: String,
    pub task_id: String,
    /// The stored `callback-request/v1` JSON, when present.
    pub task_json: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Enqueued(EnqueuedTask),
    /// Not campaign work; the reason is logged and counted.
    Ignored(&'static str),
    /// A record that should be campaign work but cannot be: dead-lettered.
    Malformed {
        source_pk: Option<String>,
        reason: &'static str,
    },
    /// The stream carries no images (`StreamViewType` is not
    /// `NEW_AND_OLD_IMAGES`): a deployment error. The record fails so
    /// nothing is lost while it is fixed.
    NoImages,
}

/// A stream image as attribute name → DynamoDB JSON (`{"S": "…"}`).
fn image(item: &impl serde::Serialize) -> HashMap<String, Value> {
    serde_json::to_value(item).ok().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

fn text<'a>(image: &'a HashMap<String, Value>, name: &str) -> Option<&'a str> {
    image.get(name).and_then(|v| v.get("S")).and_then(Value::as_str)
}

/// Classifies one stream record.
pub fn select(record: &EventRecord) -> Selection {
    if record.event_name == "REMOVE" {
        return Selection::Ignored("remove");
    }
    let new = image(&record.change.new_image);
    if new.is_empty() {
        return Selection::NoImages;
    }
    let Some(pk) = text(&new, "pk") else { return Selection::Malformed { source_pk: None, reason: "no_pk" } };
    if pk.starts_with(CAMPAIGN_PK_PREFIX) {
        return Selection::Ignored("campaign_record");
    }
    if text(&new, "status") != Some(ENQUEUED) {
        return Selection::Ignored("not_enqueued");
    }
    let old = image(&record.change.old_image);
    if text(&old, "status") == Some(ENQUEUED) {
        return Selection::Ignored("no_transition");
    }
    let Some(task_id) = text(&new, "task_id") else {
        return Selection::Malformed { source_pk: Some(pk.to_owned()), reason: "no_task_id" };
    };
    Selection::Enqueued(EnqueuedTask {
        source_pk: pk.to_owned(),
        task_id: task_id.to_owned(),
        task_json: text(&new, "task").map(str::to_owned),
    })
}

/// The identifier Lambda expects in `batchItemFailures` for a stream record.
pub fn item_identifier(record: &EventRecord) -> Option<String> {
    record.change.sequence_number.clone().or_else(|| Some(record.event_id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(name: &str, new: Value, old: Value) -> EventRecord {
        serde_json::from_value(json!({
            "awsRegion": "ap-south-1", "eventID": "e1", "eventName": name, "eventSource": "aws:dynamodb",
            "eventVersion": "1.1",
            "dynamodb": {"ApproximateCreationDateTime": 1754000000.0, "Keys": {"pk": {"S": "truecaller#k"}},
                         "NewImage": new, "OldImage": old, "SequenceNumber": "111", "SizeBytes": 10,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}
        }))
        .expect("stream record")
    }

    fn item(status: &str) -> Value {
        json!({"pk": {"S": "truecaller#k"}, "status": {"S": status}, "task_id": {"S": "t1"},
               "task": {"S": "{}"}, "expires_at": {"N": "1"}})
    }

    #[test]
    fn a_transition_to_enqueued_is_selected_with_its_task() {
        let selected = select(&record("MODIFY", item("task_enqueued"), item("task_pending")));
        assert_eq!(
            selected,
            Selection::Enqueued(EnqueuedTask {
                source_pk: "truecaller#k".into(),
                task_id: "t1".into(),
                task_json: Some("{}".into())
            })
        );
        assert!(matches!(select(&record("INSERT", item("task_enqueued"), Value::Null)), Selection::Enqueued(_)));
    }

    #[test]
    fn everything_else_is_ignored_with_a_reason() {
        assert_eq!(select(&record("REMOVE", Value::Null, item("task_enqueued"))), Selection::Ignored("remove"));
        assert_eq!(
            select(&record("MODIFY", item("task_enqueued"), item("task_enqueued"))),
            Selection::Ignored("no_transition")
        );
        assert_eq!(select(&record("INSERT", item("task_pending"), Value::Null)), Selection::Ignored("not_enqueued"));
        let mut own = item("sent");
        own["pk"] = json!({"S": "campaign#t1"});
        assert_eq!(select(&record("INSERT", own, Value::Null)), Selection::Ignored("campaign_record"));
    }

    #[test]
    fn a_stream_without_images_fails_loudly() {
        assert_eq!(select(&record("MODIFY", Value::Null, Value::Null)), Selection::NoImages);
        assert_eq!(item_identifier(&record("MODIFY", Value::Null, Value::Null)).as_deref(), Some("111"));
    }
}
