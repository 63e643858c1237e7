//! Unit tests of the campaign payload, one file per job as in `campaign/`;
//! the fixtures they share are here.

mod links;
mod payload;
mod placeholders;
mod problems;
mod requirement;
mod rules;
mod template;

use chrono::DateTime;
use serde_json::{Value, json};

use super::*;
use crate::{
    CallbackDecision, CallbackReason, CallbackRequest, CallbackTask, EventKey, NormalisedEvent, PhoneNumber,
    PhoneRegion, Provider,
};

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const HINDI: &str = "नमस्ते"; // 6 chars, 18 bytes
const TAMIL: &str = "வணக்கம்"; // 7 chars, 21 bytes

fn phone() -> PhoneNumber {
    PhoneNumber::parse("+919876543210", PhoneRegion::INDIA).unwrap()
}

fn profile() -> Profile {
    Profile::new("Callback follow-up", "cb-2024-01", CampaignType::Lifecycle, phone())
}

/// A good value for every optional content field.
fn good(content: Content, field: ContentField) -> Content {
    match field {
        ContentField::ThemeColor => content.theme_color("#0A84FF"),
        ContentField::TextColor => content.text_color(TextColor::White),
        ContentField::Title => content.title("Your callback is booked"),
        ContentField::SubTitle => content.sub_title("We will call you at the time you chose"),
        ContentField::CallToAction => content.call_to_action("View details"),
        ContentField::Deeplink => content.deeplink("https://example.com/callback"),
        ContentField::ImageUrl => content.image_url("https://cdn.example.com/banner.png"),
    }
}

/// Content with exactly the fields the seed marks mandatory, all good.
fn full(unit: DisplayUnit, style: TemplateStyle) -> Content {
    ContentField::ALL
        .into_iter()
        .filter(|f| Requirement::of(*f, unit, style) == Requirement::Mandatory)
        .fold(Content::new(unit, style), good)
}

fn valid(unit: DisplayUnit, style: TemplateStyle) -> Campaign {
    Campaign::new(profile(), full(unit, style))
}

/// A campaign that has every text field, for limit tests.
fn acs_plain() -> Campaign {
    valid(DisplayUnit::AcsMissed, TemplateStyle::PlainText)
}

fn unset(mut content: Content, field: ContentField) -> Content {
    match field {
        ContentField::ThemeColor => content.theme_color = None,
        ContentField::TextColor => content.text_color = None,
        ContentField::Title => content.title = None,
        ContentField::SubTitle => content.sub_title = None,
        ContentField::CallToAction => content.call_to_action = None,
        ContentField::Deeplink => content.deeplink = None,
        ContentField::ImageUrl => content.image_url = None,
    }
    content
}

fn combos() -> impl Iterator<Item = (DisplayUnit, TemplateStyle)> {
    DisplayUnit::ALL.into_iter().flat_map(|u| TemplateStyle::ALL.into_iter().map(move |s| (u, s)))
}

fn repeat_chars(sample: &str, n: usize) -> String {
    sample.chars().cycle().take(n).collect()
}

fn one(field: &str, problem: Problem) -> Vec<FieldProblem> {
    vec![FieldProblem::new(field, problem)]
}

// ---------------------------------------------------------------------------
// The seed's parameter tables, transcribed cell by cell (seed 002). Each
// list is the starred fields of one template column besides
// "template_style"* and "display_unit"*, which every column has; "ttl" is in
// every column without a star.
// ---------------------------------------------------------------------------

/// Caller ID, lines 316-346 ("Template 1 - Plain Text only" …).
const SEED_CALLER_ID: [&[&str]; 4] = [
    &["theme_color", "text_color", "title", "sub_title"],
    &["image_url"],
    &["theme_color", "text_color", "title", "sub_title", "image_url"],
    &["theme_color", "text_color", "title", "sub_title", "image_url"],
];

/// Message ID, lines 347-381 (no "sub_title" row).
const SEED_MESSAGE_ID: [&[&str]; 4] = [
    &["theme_color", "text_color", "title", "call_to_action", "deeplink"],
    &["image_url", "deeplink"],
    &["theme_color", "text_color", "title", "call_to_action", "image_url", "deeplink"],
    &["theme_color", "text_color", "title", "call_to_action", "image_url", "deeplink"],
];

/// ACS (Missed), lines 154-191, and Universal ACS, lines 391-427: the same
/// list. ACS (Answered) has no list of its own; it takes this one.
const SEED_ACS: [&[&str]; 4] = [
    &["theme_color", "text_color", "title", "sub_title", "call_to_action", "deeplink"],
    &["image_url", "deeplink"],
    &["theme_color", "text_color", "title", "sub_title", "call_to_action", "image_url", "deeplink"],
    &["theme_color", "text_color", "title", "sub_title", "call_to_action", "image_url", "deeplink"],
];

fn seed_mandatory(unit: DisplayUnit, style: TemplateStyle) -> &'static [&'static str] {
    let table = match unit {
        DisplayUnit::CallerId => SEED_CALLER_ID,
        DisplayUnit::MessageId => SEED_MESSAGE_ID,
        DisplayUnit::AcsAnswered | DisplayUnit::AcsMissed | DisplayUnit::UniversalAcs => SEED_ACS,
    };
    table[style.number() as usize - 1]
}

// ---------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------

fn task_with(context: Value, business_phone: Option<&str>) -> CallbackTask<'static> {
    let Value::Object(context) = context else { panic!("context must be an object") };
    let request = CallbackRequest {
        reason: CallbackReason::CallbackRequested,
        phone: phone(),
        alternate_phone: None,
        business_phone: business_phone.map(|p| PhoneNumber::parse(p, PhoneRegion::INDIA).unwrap()),
        window: None,
        requested_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        context: crate::Attributes::new(),
    };
    let event = NormalisedEvent {
        provider: Provider::Truecaller,
        event_key: EventKey::parse("3f0c2b1e-8d7a-4c55-9e21-0b6f5a4d3c2b").unwrap(),
        event_type: "cmb".into(),
        occurred_at: None,
        attributes: crate::Attributes::new(),
        callback: CallbackDecision::Due(Box::new(request)),
    };
    // The context's names here are any test's, not the static names a
    // parser writes: set on the task itself.
    let mut task = CallbackTask::for_event(&event).expect("a due callback yields a task").into_owned();
    task.context = context.into();
    task
}

fn cmb_task() -> CallbackTask<'static> {
    task_with(
        json!({"feature_set": "Call Me Back", "cmb_config_name": "Loans", "requested_slot": "10:00-12:00"}),
        Some("+918041234567"),
    )
}

const TEMPLATE: &str = r##"{
  "profile": {
    "campaign_name": "Callback {cmb_config_name}",
    "campaign_id": "cb-{task_id}",
    "campaign_type": "lifecycle"
  },
  "content": {
    "display_unit": "acs_missed",
    "template_style": 3,
    "ttl": 86400,
    "theme_color": "#0A84FF",
    "text_color": "white",
    "title": "{cmb_config_name}: we will call you",
    "sub_title": "From {business_phone} at {requested_slot}",
    "call_to_action": "Reschedule",
    "deeplink": "https://example.com/cb?fs={feature_set}&from={business_phone}&r={reason}",
    "image_url": "https://cdn.example.com/{provider}/logo.png"
  }
}"##;

fn template(json: &str) -> CampaignTemplate {
    CampaignTemplate::from_json(json).unwrap()
}

fn template_from(value: Value) -> CampaignTemplate {
    serde_json::from_value(value).unwrap()
}
