use serde_json::{Value, json};

use super::*;

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
