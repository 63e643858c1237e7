//! The `truecaller-campaign` function: fed by the events table's DynamoDB
//! stream, it pushes one validated Truecaller Verified Campaign per callback
//! task that became enqueued, exactly once (docs/campaign.md).
//!
//! - [`stream`]: which records are work (a transition to `task_enqueued`).
//! - [`templates`]: campaign templates per provider and reason, checked at
//!   cold start.
//! - [`ledger`]: the campaign record `campaign#{task_id}`, conditional
//!   writes only: claim with a lease, then `sent` or `failed`.
//! - [`http`]: the Truecaller client (`X-Org-ID`, `X-Org-Token`).
//! - [`dlq`]: dead letters with their reason.
//! - [`handler`]: one batch, with partial batch failures.
//! - [`bootstrap`]: cold start and the runtime loop.

pub mod bootstrap;
pub mod config;
pub mod dlq;
pub mod handler;
pub mod http;
pub mod ledger;
pub mod metrics;
pub mod stream;
pub mod templates;

pub use config::CampaignConfig;
pub use handler::CampaignPusher;

/// RFC 3339 with milliseconds, UTC.
pub fn rfc3339_ms(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
