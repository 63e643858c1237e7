//! Truecaller Verified Campaign payloads (seed 002): what the business
//! pushes to Truecaller (headers `X-Org-ID`, `X-Org-Token`) so a campaign is
//! shown on a display unit when our verified number calls or messages the
//! customer.
//!
//! - [`Campaign`]: the payload, `{"profile": {…}, "content": {…}}`, with the
//!   seed's field names. Build it in code with [`Profile::new`] and
//!   [`Content::new`] plus the builder methods, then [`Campaign::validate`]
//!   it: every rule of the seed is checked and **every** problem is reported
//!   at once, each naming its JSON field, like the Truecaller console's error
//!   feedback. Only a [`ValidatedCampaign`] is meant to be sent.
//! - [`CampaignTemplate`]: a campaign configured as JSON per provider and
//!   reason, with `{placeholder}`s filled from a
//!   [`CallbackTask`](crate::CallbackTask); the receiver is always the
//!   task's customer. [`CampaignTemplate::render`] reports placeholder
//!   problems, bad configured values and rule problems together.
//!
//! The rule table, line by line against the seed, and the choices made where
//! the seed is ambiguous are in `docs/campaign-rules.md`.
//!
//! Pure: no I/O. Image dimensions and file size (seed: "Image Dimensions",
//! "Image File Size") cannot be checked without fetching the image, so they
//! are not checked here.
//!
//! One job per file: `values` (the closed sets), `payload` (the payload and
//! its builders), `requirement` (which fields a unit and style take),
//! `rules` (limits, blanks, colour, ttl), `links` (deeplinks, image URLs),
//! `problems` (what is reported, in payload order), `template` (configured
//! campaigns rendered for a task) and `placeholders` (filling them).

mod links;
mod payload;
mod placeholders;
mod problems;
mod requirement;
mod rules;
mod template;
mod values;

pub use links::IMAGE_EXTENSIONS;
pub use payload::{Campaign, Content, Profile, ValidatedCampaign};
pub use problems::{FieldProblem, Problem};
pub use requirement::{ContentField, Requirement};
pub use rules::{CALL_TO_ACTION_MAX_CHARS, SUB_TITLE_MAX_CHARS, TITLE_MAX_CHARS};
pub use template::{CampaignTemplate, ContentTemplate, ProfileTemplate};
pub use values::{CampaignType, DisplayUnit, TemplateStyle, TextColor};

#[cfg(test)]
mod tests;
