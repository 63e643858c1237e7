//! A campaign as configured per provider and reason, rendered for a task:
//! [`CampaignTemplate`] and [`CampaignTemplate::render`].

use std::str::FromStr;

use serde::Deserialize;

use super::placeholders::substitute;
use super::problems::sort_by_payload_order;
use super::rules::check_text;
use super::{
    Campaign, CampaignType, Content, DisplayUnit, FieldProblem, Problem, Profile, TemplateStyle, TextColor,
    ValidatedCampaign,
};
use crate::CallbackTask;

/// A campaign as configured per provider and reason: the payload's shape
/// without `receiver_number` (always the task's customer), every text field
/// may hold `{placeholder}`s. Configured as JSON, for example:
///
/// ```json
/// {"profile": {"campaign_name": "Callback {reason}", "campaign_id": "cb-{task_id}",
///              "campaign_type": "lifecycle"},
///  "content": {"display_unit": "acs_missed", "template_style": 1,
///              "theme_color": "#0A84FF", "text_color": "white",
///              "title": "We will call you back", "sub_title": "About {feature_set}",
///              "call_to_action": "Open", "deeplink": "https://example.com/cb?fs={feature_set}"}}
/// ```
///
/// Placeholders: `{provider}`, `{reason}`, `{task_id}`, `{business_phone}`
/// (E.164), and any key of the task's `context` (`{feature_set}`,
/// `{cmb_config_name}`, `{requested_slot}`, …). `{{` and `}}` are literal
/// braces. Values filled into `deeplink` and `image_url` are
/// percent-encoded. Unknown fields are refused when the JSON is read, so a
/// misspelt field (`subtitle`) fails at configuration time.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignTemplate {
    pub profile: ProfileTemplate,
    pub content: ContentTemplate,
}

/// The `profile` section of a template; `receiver_number` is not
/// configurable.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileTemplate {
    #[serde(default)]
    pub campaign_name: Option<String>,
    #[serde(default)]
    pub campaign_id: Option<String>,
    #[serde(default)]
    pub campaign_type: Option<String>,
}

/// The `content` section of a template. Closed-set values are read as text
/// so a wrong one is reported as a [`FieldProblem`] along with the rest.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentTemplate {
    #[serde(default)]
    pub template_style: Option<u64>,
    #[serde(default)]
    pub display_unit: Option<String>,
    #[serde(default)]
    pub ttl: Option<u64>,
    #[serde(default)]
    pub theme_color: Option<String>,
    #[serde(default)]
    pub text_color: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub sub_title: Option<String>,
    #[serde(default)]
    pub call_to_action: Option<String>,
    #[serde(default)]
    pub deeplink: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
}

impl CampaignTemplate {
    /// Reads a configured template.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The campaign for `task`'s customer, validated: placeholders filled,
    /// configured values parsed, every rule checked. On failure, every
    /// problem found, each naming its field.
    pub fn render(&self, task: &CallbackTask) -> Result<ValidatedCampaign, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut fill = |field: &str, value: &Option<String>, encode: bool| {
            value.as_deref().map(|v| substitute(field, v, task, encode, &mut problems))
        };
        let p = &self.profile;
        let c = &self.content;
        let campaign_name = fill("profile.campaign_name", &p.campaign_name, false);
        let campaign_id = fill("profile.campaign_id", &p.campaign_id, false);
        let campaign_type = fill("profile.campaign_type", &p.campaign_type, false);
        let display_unit = fill("content.display_unit", &c.display_unit, false);
        let theme_color = fill("content.theme_color", &c.theme_color, false);
        let text_color = fill("content.text_color", &c.text_color, false);
        let title = fill("content.title", &c.title, false);
        let sub_title = fill("content.sub_title", &c.sub_title, false);
        let call_to_action = fill("content.call_to_action", &c.call_to_action, false);
        let deeplink = fill("content.deeplink", &c.deeplink, true);
        let image_url = fill("content.image_url", &c.image_url, true);

        let campaign_type = closed_set::<CampaignType>(
            "profile.campaign_type",
            campaign_type,
            true,
            "lifecycle or offer",
            &mut problems,
        );
        let display_unit = closed_set::<DisplayUnit>(
            "content.display_unit",
            display_unit,
            true,
            "caller_id, acs_answered, acs_missed, universal_acs or message_id",
            &mut problems,
        );
        let template_style = match c.template_style {
            None => {
                problems.push(FieldProblem::new("content.template_style", Problem::Missing));
                None
            }
            Some(n) => TemplateStyle::from_number(n).or_else(|| {
                let value = n.to_string();
                problems.push(FieldProblem::new(
                    "content.template_style",
                    Problem::UnknownValue { value, expected: "1, 2, 3 or 4" },
                ));
                None
            }),
        };
        let text_color_set = text_color.is_some();
        let text_color =
            closed_set::<TextColor>("content.text_color", text_color, false, "black or white", &mut problems);

        for (field, value) in [("profile.campaign_name", &campaign_name), ("profile.campaign_id", &campaign_id)] {
            if value.is_none() {
                problems.push(FieldProblem::new(field, Problem::Missing));
            }
        }

        // Where a configured value could not be read, a stand-in keeps the
        // remaining checks running so every problem is reported at once.
        // The stand-in never leaves this function: a problem is already
        // recorded for that field.
        let (unit_known, style_known) = (display_unit.is_some(), template_style.is_some());
        let content = Content {
            template_style: template_style.unwrap_or(TemplateStyle::PlainText),
            display_unit: display_unit.unwrap_or(DisplayUnit::CallerId),
            ttl: c.ttl,
            theme_color,
            text_color: text_color.or(text_color_set.then_some(TextColor::Black)),
            title,
            sub_title,
            call_to_action,
            deeplink,
            image_url,
        };
        let campaign = Campaign {
            profile: Profile {
                // A missing name or ID is already reported; the stand-in is
                // not blank so it is not reported twice.
                campaign_name: campaign_name.unwrap_or_else(|| "-".into()),
                campaign_id: campaign_id.unwrap_or_else(|| "-".into()),
                campaign_type: campaign_type.unwrap_or(CampaignType::Lifecycle),
                receiver_number: task.phone.clone().into_owned(),
            },
            content,
        };
        check_text("profile.campaign_name", &campaign.profile.campaign_name, None, &mut problems);
        check_text("profile.campaign_id", &campaign.profile.campaign_id, None, &mut problems);
        campaign.content.value_problems(&mut problems);
        if unit_known && style_known {
            campaign.content.presence_problems(&mut problems);
        }
        if problems.is_empty() {
            campaign.validate()
        } else {
            sort_by_payload_order(&mut problems);
            Err(problems)
        }
    }
}

fn closed_set<T: FromStr>(
    field: &str,
    value: Option<String>,
    mandatory: bool,
    expected: &'static str,
    problems: &mut Vec<FieldProblem>,
) -> Option<T> {
    match value {
        None => {
            if mandatory {
                problems.push(FieldProblem::new(field, Problem::Missing));
            }
            None
        }
        Some(value) => match value.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                problems.push(FieldProblem::new(field, Problem::UnknownValue { value, expected }));
                None
            }
        },
    }
}
