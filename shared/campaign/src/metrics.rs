//! Campaign metrics as CloudWatch EMF lines (namespace `WebhookReceivers`,
//! dimension `Function = truecaller-campaign`).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Map, Value, json};

pub const FUNCTION: &str = "truecaller-campaign";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CampaignMetrics {
    /// Stream records seen.
    pub records: u32,
    /// Campaigns Truecaller accepted (2xx).
    pub pushed: u32,
    /// Dead-lettered, by reason (`invalid_campaign`, `rejected_by_truecaller`,
    /// `retries_exhausted`, `unreadable_task`, `malformed_record`).
    pub rejected: BTreeMap<&'static str, u32>,
    /// HTTP attempts after the first (within an invocation), plus pushes
    /// repeated after a holder's lease ran out.
    pub retries: u32,
    /// Tasks with no template for their provider and reason.
    pub skipped: u32,
    /// Redelivered records whose task was already sent or dead-lettered.
    pub duplicates: u32,
    /// Records reported to Lambda as batch item failures (retried).
    pub failures: u32,
}

impl CampaignMetrics {
    pub fn reject(&mut self, reason: &'static str) {
        *self.rejected.entry(reason).or_default() += 1;
    }

    pub fn rejected_total(&self) -> u32 {
        self.rejected.values().sum()
    }

    pub fn to_emf(&self, timestamp_ms: i64) -> Vec<Value> {
        let counters = [
            ("CampaignRecords", self.records),
            ("CampaignsPushed", self.pushed),
            ("CampaignRejected", self.rejected_total()),
            ("CampaignRetries", self.retries),
            ("CampaignSkipped", self.skipped),
            ("CampaignDuplicates", self.duplicates),
            ("CampaignFailures", self.failures),
        ];
        let mut doc = Map::new();
        doc.insert("Function".into(), Value::from(FUNCTION));
        for (name, value) in counters {
            doc.insert(name.into(), Value::from(value));
        }
        let definitions: Vec<Value> = counters.iter().map(|(name, _)| json!({"Name": name, "Unit": "Count"})).collect();
        doc.insert(
            "_aws".into(),
            json!({"Timestamp": timestamp_ms, "CloudWatchMetrics": [
                {"Namespace": pipeline::metrics::NAMESPACE, "Dimensions": [["Function"]], "Metrics": definitions}
            ]}),
        );
        let mut docs = vec![Value::Object(doc)];
        for (reason, count) in &self.rejected {
            docs.push(json!({
                "_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": [
                    {"Namespace": pipeline::metrics::NAMESPACE, "Dimensions": [["Function", "Reason"]],
                     "Metrics": [{"Name": "CampaignRejected", "Unit": "Count"}]}
                ]},
                "Function": FUNCTION,
                "Reason": reason,
                "CampaignRejected": count,
            }));
        }
        docs
    }

    /// Writes the EMF lines to stdout, where Lambda ships them to CloudWatch.
    pub fn emit(&self) {
        let now = chrono::Utc::now().timestamp_millis();
        let mut out = std::io::stdout().lock();
        for doc in self.to_emf(now) {
            let _ = writeln!(out, "{doc}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_is_a_metric_and_rejections_are_split_by_reason() {
        let mut metrics = CampaignMetrics { pushed: 2, retries: 1, ..Default::default() };
        metrics.reject("invalid_campaign");
        metrics.reject("rejected_by_truecaller");

        let docs = metrics.to_emf(1);

        assert_eq!(docs.len(), 3);
        assert_eq!(docs[0]["CampaignsPushed"], 2);
        assert_eq!(docs[0]["CampaignRejected"], 2);
        assert_eq!(docs[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().unwrap().len(), 7);
        assert_eq!(docs[1]["Reason"], "invalid_campaign");
    }
}
