use serde_json::{Value, json};

use super::*;

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
