use super::*;

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
