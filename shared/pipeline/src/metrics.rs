//! Metrics as CloudWatch Embedded Metric Format (EMF) log lines: one JSON
//! line per invocation, turned into metrics by CloudWatch Logs with no API
//! call on the hot path.

use std::collections::BTreeMap;
use std::io::Write;

use payloads::Provider;
use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "WebhookReceivers";

/// Counters for one invocation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub events_received: u32,
    pub events_stored: u32,
    pub duplicates: u32,
    pub rejected: BTreeMap<&'static str, u32>,
    pub auth_failures: u32,
    pub tasks_enqueued: u32,
    pub unreachable_callbacks: u32,
    pub payload_conflicts: u32,
    pub dependency_failures: u32,
    pub tasks_stuck: u32,
}

impl Metrics {
    pub fn reject(&mut self, reason: &'static str) {
        *self.rejected.entry(reason).or_default() += 1;
    }

    /// Adds another set of counters (one event's) to these.
    pub fn merge(&mut self, other: &Metrics) {
        self.events_received += other.events_received;
        self.events_stored += other.events_stored;
        self.duplicates += other.duplicates;
        for (reason, count) in &other.rejected {
            *self.rejected.entry(reason).or_default() += count;
        }
        self.auth_failures += other.auth_failures;
        self.tasks_enqueued += other.tasks_enqueued;
        self.unreachable_callbacks += other.unreachable_callbacks;
        self.payload_conflicts += other.payload_conflicts;
        self.dependency_failures += other.dependency_failures;
        self.tasks_stuck += other.tasks_stuck;
    }

    fn counters(&self) -> [(&'static str, u32); 9] {
        [
            ("EventsReceived", self.events_received),
            ("EventsStored", self.events_stored),
            ("Duplicates", self.duplicates),
            ("Rejected", self.rejected.values().sum()),
            ("AuthFailures", self.auth_failures),
            ("TasksEnqueued", self.tasks_enqueued),
            ("UnreachableCallbacks", self.unreachable_callbacks),
            ("PayloadConflicts", self.payload_conflicts),
            ("DependencyFailures", self.dependency_failures),
        ]
    }

    /// The EMF documents for this invocation: one with every counter by
    /// `Provider`, and one per rejection reason by `Provider, Reason`.
    pub fn to_emf(&self, provider: Provider, timestamp_ms: i64) -> Vec<Value> {
        let mut counters: Vec<(&str, u32)> = self.counters().to_vec();
        counters.push(("TasksStuck", self.tasks_stuck));
        let mut doc = Map::new();
        doc.insert("Provider".into(), Value::from(provider.name()));
        for (name, value) in &counters {
            doc.insert((*name).into(), Value::from(*value));
        }
        let definitions: Vec<Value> = counters.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect();
        doc.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["Provider"]], "Metrics": definitions}
            ]}),
        );
        let mut docs = vec![Value::Object(doc)];
        for (reason, count) in &self.rejected {
            docs.push(json!({
                "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [
                    {"Namespace": NAMESPACE, "Dimensions": [["Provider", "Reason"]],
                     "Metrics": [{"Name": "Rejected", "Unit": "Count"}]}
                ]},
                "Provider": provider.name(),
                "Reason": reason,
                "Rejected": count,
            }));
        }
        docs
    }

    /// Writes the EMF lines to stdout, where Lambda ships them to CloudWatch:
    /// serialised straight into one buffer and written at once (through
    /// `Display` each line cost ~60 K instructions and a write per line).
    pub fn emit(&self, provider: Provider) {
        let lines = self.emf_lines(provider, chrono::Utc::now().timestamp_millis());
        // A lost metric line must never fail a delivery.
        let _ = std::io::stdout().lock().write_all(&lines);
    }

    /// The EMF documents as newline-terminated JSON lines.
    pub fn emf_lines(&self, provider: Provider, timestamp_ms: i64) -> Vec<u8> {
        let mut lines = Vec::with_capacity(1024);
        for doc in self.to_emf(provider, timestamp_ms) {
            serde_json::to_writer(&mut lines, &doc).expect("a JSON value always serialises");
            lines.push(b'\n');
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_documents_carry_every_counter_and_one_document_per_rejection_reason() {
        let mut metrics = Metrics { events_received: 3, tasks_enqueued: 1, ..Default::default() };
        metrics.reject("invalid_event_id");
        metrics.reject("invalid_event_id");
        metrics.reject("missing_event_id");

        let docs = metrics.to_emf(Provider::Truecaller, 1_700_000_000_000);

        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["EventsReceived"], 3);
        assert_eq!(docs[0]["Rejected"], 3);
        assert_eq!(docs[0]["Provider"], "truecaller");
        assert_eq!(docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(docs[1]["Reason"], "invalid_event_id");
        assert_eq!(docs[1]["Rejected"], 2);
    }

    #[test]
    fn emf_lines_are_one_json_document_per_line() {
        let mut metrics = Metrics { events_received: 2, ..Default::default() };
        metrics.reject("invalid_phone");

        let lines = metrics.emf_lines(Provider::Wavix, 1_700_000_000_000);

        let text = String::from_utf8(lines).expect("UTF-8");
        assert!(text.ends_with('\n'));
        let docs: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
        assert_eq!(docs, metrics.to_emf(Provider::Wavix, 1_700_000_000_000));
    }
}
