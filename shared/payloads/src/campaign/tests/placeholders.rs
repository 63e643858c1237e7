use serde_json::json;

use super::*;

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
fn values_filled_into_urls_are_percent_encoded_but_for_unreserved_characters() {
    // Every ASCII character but NUL, and multi-byte UTF-8: RFC 3986's
    // unreserved characters stay, every other byte becomes %XX (upper case).
    let value: String = (1u8..=127).map(char::from).chain("नमस्ते😀".chars()).collect();
    let expected: String = value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let task = task_with(json!({"feature_set": value}), None);
    let mut t = template(TEMPLATE);
    t.content.title = Some("Callback".into());
    t.content.sub_title = Some("Soon".into());
    t.content.deeplink = Some("myapp://cb/{feature_set}".into());
    t.content.image_url = Some("https://cdn.example.com/{feature_set}.png".into());
    t.profile.campaign_name = Some("Callback".into());
    let campaign = t.render(&task).unwrap().into_inner();
    assert_eq!(campaign.content.deeplink, Some(format!("myapp://cb/{expected}")));
    assert_eq!(campaign.content.image_url, Some(format!("https://cdn.example.com/{expected}.png")));
    assert!(
        expected.starts_with("%01%02") && expected.contains("-.%2F0123456789%3A") && expected.ends_with("%F0%9F%98%80")
    );
}
