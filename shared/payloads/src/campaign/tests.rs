use chrono::DateTime;
use serde_json::{Value, json};

use super::*;
use crate::{CallbackDecision, CallbackReason, CallbackRequest, EventKey, NormalisedEvent, PhoneRegion, Provider};

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

#[test]
fn the_requirement_rule_matches_the_seed_tables_cell_by_cell() {
    for (unit, style) in combos() {
        for field in ContentField::ALL {
            let expected = if seed_mandatory(unit, style).contains(&field.name()) {
                Requirement::Mandatory
            } else {
                Requirement::NotApplicable
            };
            assert_eq!(Requirement::of(field, unit, style), expected, "{unit} style {style} field {}", field.name());
        }
    }
}

// ---------------------------------------------------------------------------
// Valid examples and the JSON shape
// ---------------------------------------------------------------------------

#[test]
fn every_display_unit_and_template_style_has_a_valid_example_carrying_exactly_its_fields() {
    for (unit, style) in combos() {
        let campaign = valid(unit, style);
        let validated = campaign.clone().validate().unwrap_or_else(|p| panic!("{unit} style {style}: {p:?}"));
        let json: Value = serde_json::from_str(&validated.to_json()).unwrap();
        let mut keys: Vec<&str> = json["content"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = vec!["display_unit", "template_style"];
        expected.extend_from_slice(seed_mandatory(unit, style));
        expected.sort_unstable();
        assert_eq!(keys, expected, "{unit} style {style}");
        assert_eq!(validated.campaign(), &campaign);
    }
}

#[test]
fn a_campaign_serialises_to_exactly_the_seed_shape() {
    let campaign = Campaign::new(
        Profile::new("Diwali offer", "ext-42", CampaignType::Offer, phone()),
        Content::new(DisplayUnit::AcsMissed, TemplateStyle::ImageLeft)
            .ttl(86_400)
            .theme_color("#0A84FF")
            .text_color(TextColor::White)
            .title("Sorry we missed you")
            .sub_title("Tap to book a callback at a time that suits you")
            .call_to_action("Book now")
            .deeplink("myapp://callback/book")
            .image_url("https://cdn.example.com/logo.png"),
    );
    let body: Value = serde_json::from_str(&campaign.validate().unwrap().to_json()).unwrap();
    assert_eq!(
        body,
        json!({
            "profile": {
                "campaign_name": "Diwali offer",
                "campaign_id": "ext-42",
                "campaign_type": "offer",
                "receiver_number": "+919876543210"
            },
            "content": {
                "template_style": 3,
                "display_unit": "acs_missed",
                "ttl": 86400,
                "theme_color": "#0A84FF",
                "text_color": "white",
                "title": "Sorry we missed you",
                "sub_title": "Tap to book a callback at a time that suits you",
                "call_to_action": "Book now",
                "deeplink": "myapp://callback/book",
                "image_url": "https://cdn.example.com/logo.png"
            }
        })
    );
}

#[test]
fn closed_sets_serialise_as_spelled_and_parse_back() {
    let cases: [(Value, Value); 13] = [
        (json!(CampaignType::Lifecycle), json!("lifecycle")),
        (json!(CampaignType::Offer), json!("offer")),
        (json!(DisplayUnit::CallerId), json!("caller_id")),
        (json!(DisplayUnit::AcsAnswered), json!("acs_answered")),
        (json!(DisplayUnit::AcsMissed), json!("acs_missed")),
        (json!(DisplayUnit::UniversalAcs), json!("universal_acs")),
        (json!(DisplayUnit::MessageId), json!("message_id")),
        (json!(TemplateStyle::PlainText), json!(1)),
        (json!(TemplateStyle::ImageBanner), json!(2)),
        (json!(TemplateStyle::ImageLeft), json!(3)),
        (json!(TemplateStyle::ImageRight), json!(4)),
        (json!(TextColor::Black), json!("black")),
        (json!(TextColor::White), json!("white")),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    for unit in DisplayUnit::ALL {
        assert_eq!(unit.as_str().parse::<DisplayUnit>(), Ok(unit));
        assert_eq!(json!(unit), json!(unit.as_str()));
    }
    for t in CampaignType::ALL {
        assert_eq!(t.as_str().parse::<CampaignType>(), Ok(t));
    }
    for c in TextColor::ALL {
        assert_eq!(c.as_str().parse::<TextColor>(), Ok(c));
    }
    for s in TemplateStyle::ALL {
        assert_eq!(TemplateStyle::from_number(u64::from(s.number())), Some(s));
    }
    assert_eq!(TemplateStyle::from_number(0), None);
    assert_eq!(TemplateStyle::from_number(5), None);
    assert!("Caller ID".parse::<DisplayUnit>().is_err());
}

#[test]
fn the_debug_form_of_a_campaign_masks_the_receiver_number() {
    let debug = format!("{:?}", acs_plain());
    assert!(!debug.contains("9876543210"), "{debug}");
    assert!(debug.contains("+91*******210"), "{debug}");
}

// ---------------------------------------------------------------------------
// Mandatory and not-applicable fields
// ---------------------------------------------------------------------------

#[test]
fn every_mandatory_field_left_out_is_named_and_nothing_else() {
    let mut checked = 0;
    for (unit, style) in combos() {
        for field in
            ContentField::ALL.into_iter().filter(|f| Requirement::of(*f, unit, style) == Requirement::Mandatory)
        {
            let campaign = Campaign::new(profile(), unset(full(unit, style), field));
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field.path(), Problem::MandatoryFor { unit, style }),
                "{unit} style {style} without {}",
                field.name()
            );
            checked += 1;
        }
    }
    // 5 units x 4 styles, counted from the seed tables.
    let expected: usize = combos().map(|(u, s)| seed_mandatory(u, s).len()).sum();
    assert_eq!(checked, expected);
    assert_eq!(checked, 4 + 1 + 5 + 5 + 5 + 2 + 6 + 6 + 3 * (6 + 2 + 7 + 7));
}

#[test]
fn every_field_a_unit_and_style_does_not_use_is_refused_and_named_alone() {
    let mut checked = 0;
    for (unit, style) in combos() {
        for field in
            ContentField::ALL.into_iter().filter(|f| Requirement::of(*f, unit, style) == Requirement::NotApplicable)
        {
            let campaign = Campaign::new(profile(), good(full(unit, style), field));
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field.path(), Problem::NotApplicableTo { unit, style }),
                "{unit} style {style} with {}",
                field.name()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 20 * 7 - (4 + 1 + 5 + 5 + 5 + 2 + 6 + 6 + 3 * (6 + 2 + 7 + 7)));
}

#[test]
fn ttl_is_optional_everywhere_but_must_be_positive() {
    for (unit, style) in combos() {
        let mut campaign = valid(unit, style);
        campaign.content.ttl = Some(3600);
        assert!(campaign.clone().validate().is_ok());
        campaign.content.ttl = Some(0);
        assert_eq!(campaign.validate().unwrap_err(), one("content.ttl", Problem::ZeroTtl));
    }
}

#[test]
fn blank_profile_fields_are_named() {
    for blank in ["", "   ", "\u{a0}"] {
        let mut campaign = acs_plain();
        campaign.profile.campaign_name = blank.into();
        assert_eq!(campaign.validate().unwrap_err(), one("profile.campaign_name", Problem::Blank), "{blank:?}");
        let mut campaign = acs_plain();
        campaign.profile.campaign_id = blank.into();
        assert_eq!(campaign.validate().unwrap_err(), one("profile.campaign_id", Problem::Blank), "{blank:?}");
    }
}

type MakeBlank = fn(&mut Content);

#[test]
fn blank_mandatory_text_is_reported_as_blank() {
    let cases: [(&str, MakeBlank); 5] = [
        ("content.theme_color", |c| c.theme_color = Some(" ".into())),
        ("content.title", |c| c.title = Some(String::new())),
        ("content.sub_title", |c| c.sub_title = Some("  ".into())),
        ("content.call_to_action", |c| c.call_to_action = Some("\t".into())),
        ("content.deeplink", |c| c.deeplink = Some(String::new())),
    ];
    for (field, blank) in cases {
        let mut campaign = acs_plain();
        blank(&mut campaign.content);
        let problems = campaign.validate().unwrap_err();
        assert_eq!(problems.len(), 1, "{field}: {problems:?}");
        assert_eq!(problems[0].field, field);
        assert!(
            matches!(problems[0].problem, Problem::Blank | Problem::BadDeeplink { reason: "is blank" }),
            "{field}: {problems:?}"
        );
    }
    let mut campaign = valid(DisplayUnit::CallerId, TemplateStyle::ImageBanner);
    campaign.content.image_url = Some(String::new());
    assert_eq!(campaign.validate().unwrap_err(), one("content.image_url", Problem::BadImageUrl { reason: "is blank" }));
}

// ---------------------------------------------------------------------------
// Character limits
// ---------------------------------------------------------------------------

type Setter = fn(&mut Content, String);

const LIMITS: [(&str, usize, Setter); 3] = [
    ("content.title", 40, |c, v| c.title = Some(v)),
    ("content.sub_title", 60, |c, v| c.sub_title = Some(v)),
    ("content.call_to_action", 15, |c, v| c.call_to_action = Some(v)),
];

#[test]
fn the_limits_are_the_seeds() {
    assert_eq!(TITLE_MAX_CHARS, 40);
    assert_eq!(SUB_TITLE_MAX_CHARS, 60);
    assert_eq!(CALL_TO_ACTION_MAX_CHARS, 15);
}

#[test]
fn every_limit_holds_at_its_bound_and_fails_one_over_in_any_script() {
    for (field, max, set) in LIMITS {
        for sample in ["a", "Ab 1", HINDI, TAMIL, "नमस्ते Hello வணக்கம்"] {
            let at = repeat_chars(sample, max);
            let mut campaign = acs_plain();
            set(&mut campaign.content, at.clone());
            assert!(campaign.validate().is_ok(), "{field} at {max} chars of {sample:?}");

            let over = repeat_chars(sample, max + 1);
            let mut campaign = acs_plain();
            set(&mut campaign.content, over);
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field, Problem::TooLong { max, chars: max + 1 }),
                "{field} at {} chars of {sample:?}",
                max + 1
            );
        }
    }
}

#[test]
fn local_language_text_is_counted_in_characters_not_bytes() {
    // 40 Hindi characters are 120 bytes: a byte count would refuse them.
    let title = repeat_chars(HINDI, 40);
    assert_eq!(title.len(), 120);
    let mut campaign = acs_plain();
    campaign.content.title = Some(title);
    assert!(campaign.validate().is_ok());

    // "नमस्ते" is 6 chars (3 or 4 graphemes, by Unicode version): 6 x 6 + 4 = 40.
    let words = format!("{}{}", HINDI.repeat(6), repeat_chars(HINDI, 4));
    assert_eq!(words.chars().count(), 40);
    let mut campaign = acs_plain();
    campaign.content.title = Some(words.clone() + "न");
    assert_eq!(campaign.validate().unwrap_err(), one("content.title", Problem::TooLong { max: 40, chars: 41 }));

    // A CTA of 15 Tamil characters (45 bytes) fits; 16 does not.
    let mut campaign = acs_plain();
    campaign.content.call_to_action = Some(repeat_chars(TAMIL, 15));
    assert!(campaign.validate().is_ok());
    let mut campaign = acs_plain();
    campaign.content.call_to_action = Some(repeat_chars(TAMIL, 16));
    assert_eq!(
        campaign.validate().unwrap_err(),
        one("content.call_to_action", Problem::TooLong { max: 15, chars: 16 })
    );
}

#[test]
fn limits_apply_on_every_unit_and_style_that_has_the_field() {
    for (unit, style) in combos() {
        for (field, max, set) in LIMITS {
            let path_field = ContentField::ALL.into_iter().find(|f| f.path() == field).unwrap();
            if Requirement::of(path_field, unit, style) == Requirement::NotApplicable {
                continue;
            }
            let mut campaign = valid(unit, style);
            set(&mut campaign.content, repeat_chars(HINDI, max + 5));
            assert_eq!(
                campaign.validate().unwrap_err(),
                one(field, Problem::TooLong { max, chars: max + 5 }),
                "{unit} style {style}"
            );
        }
    }
}

#[test]
fn line_breaks_and_control_characters_are_refused_in_text() {
    for (field, _, set) in LIMITS {
        for bad in ["two\nlines", "tab\there", "bell\u{7}"] {
            let mut campaign = acs_plain();
            set(&mut campaign.content, bad.into());
            assert_eq!(campaign.validate().unwrap_err(), one(field, Problem::ControlCharacter), "{field} {bad:?}");
        }
    }
    let mut campaign = acs_plain();
    campaign.profile.campaign_id = "id\r\n".into();
    assert_eq!(campaign.validate().unwrap_err(), one("profile.campaign_id", Problem::ControlCharacter));
}

#[test]
fn profile_fields_have_no_length_limit() {
    let mut campaign = acs_plain();
    campaign.profile.campaign_name = repeat_chars(HINDI, 500);
    campaign.profile.campaign_id = "x".repeat(500);
    assert!(campaign.validate().is_ok());
}

// ---------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------

#[test]
fn theme_colours_must_be_hash_and_six_hex_digits() {
    for ok in ["#0A84FF", "#0a84ff", "#000000", "#FFFFFF", "#AbCdEf"] {
        let mut campaign = acs_plain();
        campaign.content.theme_color = Some(ok.into());
        assert!(campaign.validate().is_ok(), "{ok}");
    }
    for bad in
        ["0A84FF", "#0A84F", "#0A84FFF", "#0A84FF00", "#GG84FF", "blue", "#0A84FF ", " #0A84FF", "＃0A84FF", "#fff"]
    {
        let mut campaign = acs_plain();
        campaign.content.theme_color = Some(bad.into());
        assert_eq!(
            campaign.validate().unwrap_err(),
            one("content.theme_color", Problem::NotAColour { value: bad.into() }),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Deeplinks and image URLs
// ---------------------------------------------------------------------------

#[test]
fn deeplinks_are_https_landing_pages_or_app_deeplinks() {
    for ok in [
        "https://example.com",
        "https://example.com/offer?id=7&src=truecaller#top",
        "HTTPS://Example.COM/Offer",
        "https://user@example.com:8443/a",
        "https://[2001:db8::1]/a",
        "https://उदाहरण.भारत/offer",
        "myapp://offer/123",
        "my-app.v2+x://offer",
        "myapp:///offer",
        "intent://scan/#Intent;scheme=zxing;package=com.example;end",
    ] {
        let mut campaign = acs_plain();
        campaign.content.deeplink = Some(ok.into());
        assert!(campaign.validate().is_ok(), "{ok}: {:?}", acs_with_deeplink(ok).problems());
    }
    for bad in [
        "http://example.com/offer",
        "javascript:alert(1)",
        "JavaScript://%0aalert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "content://com.example/x",
        "ftp://example.com/a",
        "example.com/offer",
        "www.example.com",
        "/offer",
        "https://",
        "https:///offer",
        "https://exa mple.com",
        "https://example..com",
        "tel:+919876543210",
        "mailto:a@example.com",
        "myapp://",
        "://offer",
        "1app://offer",
        "https://example.com/\u{7}",
    ] {
        let problems = acs_with_deeplink(bad).problems();
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert_eq!(problems[0].field, "content.deeplink", "{bad:?}");
        assert!(matches!(problems[0].problem, Problem::BadDeeplink { .. }), "{bad:?}: {problems:?}");
    }
}

fn acs_with_deeplink(deeplink: &str) -> Campaign {
    let mut campaign = acs_plain();
    campaign.content.deeplink = Some(deeplink.into());
    campaign
}

fn banner_with_image(url: &str) -> Campaign {
    let mut campaign = valid(DisplayUnit::MessageId, TemplateStyle::ImageBanner);
    campaign.content.image_url = Some(url.into());
    campaign
}

#[test]
fn image_urls_are_https_and_jpeg_png_or_gif() {
    for ok in [
        "https://cdn.example.com/banner.png",
        "https://cdn.example.com/a/b/banner.PNG",
        "https://cdn.example.com/banner.jpg",
        "https://cdn.example.com/banner.jpeg",
        "https://cdn.example.com/banner.JPEG",
        "https://cdn.example.com/banner.gif",
        "https://cdn.example.com/banner.png?v=2&w=320",
        "https://cdn.example.com/banner.gif#frame",
        "https://bucket.s3.ap-south-1.amazonaws.com/vc/offer.v2.png",
    ] {
        assert!(banner_with_image(ok).validate().is_ok(), "{ok}: {:?}", banner_with_image(ok).problems());
    }
    for (bad, extension) in [
        ("https://cdn.example.com/banner.webp", "webp"),
        ("https://cdn.example.com/banner.svg", "svg"),
        ("https://cdn.example.com/banner.bmp", "bmp"),
        ("https://cdn.example.com/banner", ""),
        ("https://cdn.example.com/", ""),
        ("https://cdn.example.com", ""),
        ("https://cdn.example.com/img?name=banner.png", ""),
        ("https://cdn.example.com/banner.png.exe", "exe"),
        ("https://cdn.example.com/png", ""),
    ] {
        assert_eq!(
            banner_with_image(bad).validate().unwrap_err(),
            one("content.image_url", Problem::ImageFormat { extension: extension.into() }),
            "{bad}"
        );
    }
    for bad in [
        "http://cdn.example.com/banner.png",
        "cdn.example.com/banner.png",
        "//cdn.example.com/banner.png",
        "https:///banner.png",
        "https://cdn example.com/banner.png",
        "ftp://cdn.example.com/banner.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "myapp://banner.png",
    ] {
        let problems = banner_with_image(bad).problems();
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert_eq!(problems[0].field, "content.image_url");
        assert!(matches!(problems[0].problem, Problem::BadImageUrl { .. }), "{bad:?}: {problems:?}");
    }
}

// ---------------------------------------------------------------------------
// Several problems at once
// ---------------------------------------------------------------------------

#[test]
fn several_problems_are_all_reported_at_once_in_payload_order() {
    let campaign = Campaign::new(
        Profile::new(" ", "cb-1", CampaignType::Offer, phone()),
        Content::new(DisplayUnit::MessageId, TemplateStyle::PlainText)
            .ttl(0)
            .theme_color("blue")
            .title(repeat_chars(HINDI, 41))
            .sub_title("Message ID has no sub title")
            .call_to_action("Book your callback now")
            .deeplink("http://example.com")
            .image_url("https://cdn.example.com/a.png"),
    );
    let unit = DisplayUnit::MessageId;
    let style = TemplateStyle::PlainText;
    assert_eq!(
        campaign.validate().unwrap_err(),
        vec![
            FieldProblem::new("profile.campaign_name", Problem::Blank),
            FieldProblem::new("content.ttl", Problem::ZeroTtl),
            FieldProblem::new("content.theme_color", Problem::NotAColour { value: "blue".into() }),
            FieldProblem::new("content.text_color", Problem::MandatoryFor { unit, style }),
            FieldProblem::new("content.title", Problem::TooLong { max: 40, chars: 41 }),
            FieldProblem::new("content.sub_title", Problem::NotApplicableTo { unit, style }),
            FieldProblem::new("content.call_to_action", Problem::TooLong { max: 15, chars: 22 }),
            FieldProblem::new(
                "content.deeplink",
                Problem::BadDeeplink { reason: "landing pages must use https://, not http://" }
            ),
            FieldProblem::new("content.image_url", Problem::NotApplicableTo { unit, style }),
        ]
    );
}

#[test]
fn a_field_can_have_more_than_one_problem() {
    let mut campaign = acs_plain();
    campaign.content.title = Some(format!("{}\n", "a".repeat(45)));
    assert_eq!(
        campaign.validate().unwrap_err(),
        vec![
            FieldProblem::new("content.title", Problem::ControlCharacter),
            FieldProblem::new("content.title", Problem::TooLong { max: 40, chars: 46 }),
        ]
    );
}

#[test]
fn problems_read_like_console_feedback() {
    let cases = [
        (
            FieldProblem::new(
                "content.image_url",
                Problem::MandatoryFor { unit: DisplayUnit::CallerId, style: TemplateStyle::ImageBanner },
            ),
            "content.image_url: is mandatory for display unit caller_id with template style 2",
        ),
        (
            FieldProblem::new(
                "content.deeplink",
                Problem::NotApplicableTo { unit: DisplayUnit::CallerId, style: TemplateStyle::PlainText },
            ),
            "content.deeplink: is not used by display unit caller_id with template style 1; leave it out",
        ),
        (
            FieldProblem::new("content.title", Problem::TooLong { max: 40, chars: 41 }),
            "content.title: has 41 characters; at most 40 allowed",
        ),
        (
            FieldProblem::new("content.theme_color", Problem::NotAColour { value: "blue".into() }),
            "content.theme_color: \"blue\" is not a colour of the form #RRGGBB",
        ),
        (
            FieldProblem::new("content.image_url", Problem::ImageFormat { extension: "webp".into() }),
            "content.image_url: image format \"webp\" is not supported; use .jpeg, .jpg, .png or .gif",
        ),
        (
            FieldProblem::new("content.title", Problem::UnknownPlaceholder { name: "featureset".into() }),
            "content.title: unknown placeholder {featureset}: neither a task field nor in this task's context",
        ),
        (
            FieldProblem::new("content.sub_title", Problem::PlaceholderWithoutValue { name: "business_phone".into() }),
            "content.sub_title: placeholder {business_phone} has no value for this task",
        ),
        (
            FieldProblem::new(
                "profile.campaign_type",
                Problem::UnknownValue { value: "promo".into(), expected: "lifecycle or offer" },
            ),
            "profile.campaign_type: \"promo\" is not one of lifecycle or offer",
        ),
        (FieldProblem::new("profile.campaign_id", Problem::Missing), "profile.campaign_id: is mandatory"),
    ];
    for (problem, text) in cases {
        assert_eq!(problem.to_string(), text);
    }
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

#[test]
fn a_template_renders_a_valid_campaign_for_the_tasks_customer() {
    let task = cmb_task();
    let campaign = template(TEMPLATE).render(&task).unwrap();
    let body: Value = serde_json::from_str(&campaign.to_json()).unwrap();
    assert_eq!(
        body,
        json!({
            "profile": {
                "campaign_name": "Callback Loans",
                "campaign_id": format!("cb-{}", task.task_id),
                "campaign_type": "lifecycle",
                "receiver_number": "+919876543210"
            },
            "content": {
                "template_style": 3,
                "display_unit": "acs_missed",
                "ttl": 86400,
                "theme_color": "#0A84FF",
                "text_color": "white",
                "title": "Loans: we will call you",
                "sub_title": "From +918041234567 at 10:00-12:00",
                "call_to_action": "Reschedule",
                "deeplink": "https://example.com/cb?fs=Call%20Me%20Back&from=%2B918041234567&r=callback_requested",
                "image_url": "https://cdn.example.com/truecaller/logo.png"
            }
        })
    );
    assert_eq!(campaign.campaign().profile.receiver_number, *task.phone);
}

#[test]
fn every_display_unit_and_style_renders_from_a_template() {
    let task = cmb_task();
    for (unit, style) in combos() {
        let expected = valid(unit, style);
        let mut value = serde_json::to_value(&expected).unwrap();
        value["profile"].as_object_mut().unwrap().remove("receiver_number");
        let rendered = template_from(value).render(&task).unwrap_or_else(|p| panic!("{unit} {style}: {p:?}"));
        assert_eq!(rendered.into_inner(), expected, "{unit} style {style}");
    }
}

#[test]
fn placeholders_in_text_are_filled_verbatim_in_any_script() {
    let task = task_with(json!({"feature_set": HINDI, "attempt": 2, "vip": true}), None);
    let mut t = template(TEMPLATE);
    t.content.title = Some("{feature_set} #{attempt} {vip}".into());
    t.content.sub_title = Some("{{literal}} braces {{ and }}".into());
    t.content.deeplink = Some("myapp://cb/{feature_set}".into());
    t.profile.campaign_name = Some("Callback".into());
    let campaign = t.render(&task).unwrap().into_inner();
    assert_eq!(campaign.content.title.as_deref(), Some("नमस्ते #2 true"));
    assert_eq!(campaign.content.sub_title.as_deref(), Some("{literal} braces { and }"));
    assert_eq!(
        campaign.content.deeplink.as_deref(),
        Some("myapp://cb/%E0%A4%A8%E0%A4%AE%E0%A4%B8%E0%A5%8D%E0%A4%A4%E0%A5%87")
    );
}

#[test]
fn unknown_placeholders_are_each_named_with_their_field() {
    let mut t = template(TEMPLATE);
    t.content.title = Some("About {featureset}".into());
    t.content.deeplink = Some("https://example.com/{page}".into());
    t.profile.campaign_id = Some("{campaign}".into());
    assert_eq!(
        t.render(&cmb_task()).unwrap_err(),
        vec![
            FieldProblem::new("profile.campaign_id", Problem::UnknownPlaceholder { name: "campaign".into() }),
            FieldProblem::new("content.title", Problem::UnknownPlaceholder { name: "featureset".into() }),
            FieldProblem::new("content.deeplink", Problem::UnknownPlaceholder { name: "page".into() }),
        ]
    );
}

#[test]
fn a_context_key_the_task_lacks_is_an_unknown_placeholder() {
    let task = task_with(json!({}), Some("+918041234567"));
    let problems = template(TEMPLATE).render(&task).unwrap_err();
    let fields: Vec<(&str, &Problem)> = problems.iter().map(|p| (p.field.as_str(), &p.problem)).collect();
    assert_eq!(
        fields,
        vec![
            ("profile.campaign_name", &Problem::UnknownPlaceholder { name: "cmb_config_name".into() }),
            ("content.title", &Problem::UnknownPlaceholder { name: "cmb_config_name".into() }),
            ("content.sub_title", &Problem::UnknownPlaceholder { name: "requested_slot".into() }),
            ("content.deeplink", &Problem::UnknownPlaceholder { name: "feature_set".into() }),
        ]
    );
}

#[test]
fn a_business_phone_placeholder_without_a_business_number_is_a_problem() {
    let task = task_with(
        json!({"feature_set": "Call Me Back", "cmb_config_name": "Loans", "requested_slot": "10-12", "note": null}),
        None,
    );
    let mut t = template(TEMPLATE);
    t.content.call_to_action = Some("{note}".into());
    assert_eq!(
        t.render(&task).unwrap_err(),
        vec![
            FieldProblem::new("content.sub_title", Problem::PlaceholderWithoutValue { name: "business_phone".into() }),
            FieldProblem::new("content.call_to_action", Problem::PlaceholderWithoutValue { name: "note".into() }),
            FieldProblem::new("content.deeplink", Problem::PlaceholderWithoutValue { name: "business_phone".into() }),
        ]
    );
}

#[test]
fn malformed_placeholders_are_named_with_their_field() {
    for bad in ["Call {feature_set", "Smile :}", "{}", "{feature set}", "{{feature_set}"] {
        let mut t = template(TEMPLATE);
        t.content.title = Some(bad.into());
        let problems = t.render(&cmb_task()).unwrap_err();
        assert_eq!(problems.len(), 1, "{bad:?}: {problems:?}");
        assert_eq!(problems[0].field, "content.title", "{bad:?}");
        assert!(matches!(problems[0].problem, Problem::PlaceholderSyntax { .. }), "{bad:?}: {problems:?}");
    }
}

#[test]
fn filled_values_count_against_the_limits() {
    let task = task_with(
        json!({"feature_set": "x", "cmb_config_name": repeat_chars(HINDI, 30), "requested_slot": "10-12"}),
        Some("+918041234567"),
    );
    // "{cmb_config_name}: we will call you" = 30 + 18 chars.
    let problems = template(TEMPLATE).render(&task).unwrap_err();
    assert_eq!(problems, one("content.title", Problem::TooLong { max: 40, chars: 48 }));
}

#[test]
fn a_template_cannot_set_the_receiver_and_misspelt_fields_fail_to_load() {
    let with_receiver =
        TEMPLATE.replace(r#""campaign_type""#, r#""receiver_number": "+911234567890", "campaign_type""#);
    let err = CampaignTemplate::from_json(&with_receiver).unwrap_err();
    assert!(err.to_string().contains("receiver_number"), "{err}");
    let misspelt = TEMPLATE.replace(r#""sub_title""#, r#""subtitle""#);
    let err = CampaignTemplate::from_json(&misspelt).unwrap_err();
    assert!(err.to_string().contains("subtitle"), "{err}");
    assert!(CampaignTemplate::from_json(r#"{"profile": {}}"#).is_err());
}

#[test]
fn an_empty_template_reports_every_mandatory_value() {
    let t = template(r#"{"profile": {}, "content": {}}"#);
    assert_eq!(
        t.render(&cmb_task()).unwrap_err(),
        vec![
            FieldProblem::new("profile.campaign_name", Problem::Missing),
            FieldProblem::new("profile.campaign_id", Problem::Missing),
            FieldProblem::new("profile.campaign_type", Problem::Missing),
            FieldProblem::new("content.template_style", Problem::Missing),
            FieldProblem::new("content.display_unit", Problem::Missing),
        ]
    );
}

#[test]
fn bad_configured_values_are_reported_together_with_rule_problems() {
    let t = template_from(json!({
        "profile": {"campaign_name": "Callback", "campaign_id": "cb-1", "campaign_type": "promo"},
        "content": {
            "display_unit": "Caller ID",
            "template_style": 5,
            "theme_color": "#12345",
            "text_color": "red",
            "title": repeat_chars(TAMIL, 41),
            "deeplink": "http://example.com"
        }
    }));
    assert_eq!(
        t.render(&cmb_task()).unwrap_err(),
        vec![
            FieldProblem::new(
                "profile.campaign_type",
                Problem::UnknownValue { value: "promo".into(), expected: "lifecycle or offer" }
            ),
            FieldProblem::new(
                "content.template_style",
                Problem::UnknownValue { value: "5".into(), expected: "1, 2, 3 or 4" }
            ),
            FieldProblem::new(
                "content.display_unit",
                Problem::UnknownValue {
                    value: "Caller ID".into(),
                    expected: "caller_id, acs_answered, acs_missed, universal_acs or message_id"
                }
            ),
            FieldProblem::new("content.theme_color", Problem::NotAColour { value: "#12345".into() }),
            FieldProblem::new(
                "content.text_color",
                Problem::UnknownValue { value: "red".into(), expected: "black or white" }
            ),
            FieldProblem::new("content.title", Problem::TooLong { max: 40, chars: 41 }),
            FieldProblem::new(
                "content.deeplink",
                Problem::BadDeeplink { reason: "landing pages must use https://, not http://" }
            ),
        ]
    );
}

#[test]
fn a_bad_text_colour_is_not_also_reported_missing() {
    let mut t = template(TEMPLATE);
    t.content.text_color = Some("Black".into());
    assert_eq!(
        t.render(&cmb_task()).unwrap_err(),
        one("content.text_color", Problem::UnknownValue { value: "Black".into(), expected: "black or white" })
    );
}

#[test]
fn a_template_for_the_wrong_unit_is_told_what_to_leave_out_and_add() {
    let mut t = template(TEMPLATE);
    t.content.display_unit = Some("caller_id".into());
    t.content.template_style = Some(2);
    let (unit, style) = (DisplayUnit::CallerId, TemplateStyle::ImageBanner);
    let fields: Vec<String> = t.render(&cmb_task()).unwrap_err().into_iter().map(|p| p.to_string()).collect();
    let na = |f: &str| format!("content.{f}: {}", Problem::NotApplicableTo { unit, style });
    assert_eq!(
        fields,
        vec![na("theme_color"), na("text_color"), na("title"), na("sub_title"), na("call_to_action"), na("deeplink")]
    );
}
