//! Tata Smartflo webhooks (seed 003): sixteen triggers, GET or POST, JSON or
//! form bodies.
//!
//! Smartflo sends no event type and no fixed schema: the customer writes the
//! body in Smartflo's console as a template mapping their own key names to
//! `$variables`, so the trigger comes from the path and every field is looked
//! up under the spellings seen in real integrations (see
//! `docs/providers/smartflo.md`): `$`-prefixed keys, camelCase, stray spaces
//! (`"customer_no_with_prefix "`), wrapper objects (`data`, `pyld`), numbers
//! as JSON numbers or strings. A variable Smartflo could not fill arrives as
//! the literal `$name`, `""`, `"null"` or `"NA"` and counts as absent.
//!
//! Identity is strict: the call id (or uuid) is required, and a present but
//! unreadable timestamp that decides the event's time, its DTMF key or a
//! callback's `requested_at` rejects the event.
//!
//! The parts, each one job:
//! - `triggers`: the trigger slugs and what they mean;
//! - `body`: JSON, form and query decoding into fields;
//! - `keys`: the spellings of every field read (**add a key spelling there**)
//!   and the normalising of keys;
//! - `fields`: the fields and the lookups by spelling;
//! - `normalise`, `parties`, `time`: the event built from the fields;
//! - `task`: the missed-call rule and the callback request.

mod body;
mod fields;
mod keys;
mod normalise;
mod parties;
mod task;
#[cfg(test)]
mod tests;
mod time;
mod triggers;

pub use fields::is_unfilled;
pub use task::status_says_missed;
pub use time::parse_time;
pub use triggers::TRIGGERS;

use crate::delivery::{Delivery, ParseContext, ParsedEvent, ProviderParser};
use crate::{DecodeError, Provider};

/// The Smartflo receiver's parser.
#[derive(Debug, Default, Clone, Copy)]
pub struct Smartflo;

impl ProviderParser for Smartflo {
    fn allowed_methods(&self) -> &'static str {
        "GET, POST"
    }

    fn provider(&self) -> Provider {
        Provider::Smartflo
    }

    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError> {
        let trigger = triggers::trigger_of(delivery)?;
        let (raw, fields) = body::read(delivery)?;
        let outcome = normalise::normalise(trigger, &fields, ctx);
        Ok(vec![ParsedEvent { raw, outcome }])
    }
}
