use super::*;

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
