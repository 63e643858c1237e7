//! The payload itself: [`Campaign`] with its [`Profile`] and [`Content`]
//! sections, built in code, and the [`ValidatedCampaign`] that is sent.

use serde::Serialize;

use super::problems::sort_by_payload_order;
use super::rules::check_text;
use super::{CampaignType, DisplayUnit, FieldProblem, TemplateStyle, TextColor};
use crate::PhoneNumber;

/// The `profile` section: mandatory in every payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub campaign_name: String,
    pub campaign_id: String,
    pub campaign_type: CampaignType,
    pub receiver_number: PhoneNumber,
}

impl Profile {
    pub fn new(
        campaign_name: impl Into<String>,
        campaign_id: impl Into<String>,
        campaign_type: CampaignType,
        receiver_number: PhoneNumber,
    ) -> Self {
        Self { campaign_name: campaign_name.into(), campaign_id: campaign_id.into(), campaign_type, receiver_number }
    }
}

/// The `content` section. Which optional fields are mandatory, and which
/// must be absent, depends on the display unit and template style
/// ([`Requirement`](super::Requirement)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Content {
    pub template_style: TemplateStyle,
    pub display_unit: DisplayUnit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_color: Option<TextColor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_to_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deeplink: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

impl Content {
    /// Content for a display unit and style with every optional field unset.
    pub fn new(display_unit: DisplayUnit, template_style: TemplateStyle) -> Self {
        Self {
            template_style,
            display_unit,
            ttl: None,
            theme_color: None,
            text_color: None,
            title: None,
            sub_title: None,
            call_to_action: None,
            deeplink: None,
            image_url: None,
        }
    }

    pub fn ttl(mut self, ttl: u64) -> Self {
        self.ttl = Some(ttl);
        self
    }

    pub fn theme_color(mut self, colour: impl Into<String>) -> Self {
        self.theme_color = Some(colour.into());
        self
    }

    pub fn text_color(mut self, colour: TextColor) -> Self {
        self.text_color = Some(colour);
        self
    }

    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    pub fn sub_title(mut self, sub_title: impl Into<String>) -> Self {
        self.sub_title = Some(sub_title.into());
        self
    }

    pub fn call_to_action(mut self, cta: impl Into<String>) -> Self {
        self.call_to_action = Some(cta.into());
        self
    }

    pub fn deeplink(mut self, deeplink: impl Into<String>) -> Self {
        self.deeplink = Some(deeplink.into());
        self
    }

    pub fn image_url(mut self, url: impl Into<String>) -> Self {
        self.image_url = Some(url.into());
        self
    }
}

/// A Verified Campaign payload. Serialises to the seed's shape:
/// `{"profile": {campaign_name, campaign_id, campaign_type, receiver_number},
/// "content": {template_style, display_unit, ttl?, theme_color?, …}}`,
/// leaving out unset optional fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub profile: Profile,
    pub content: Content,
}

impl Campaign {
    pub fn new(profile: Profile, content: Content) -> Self {
        Self { profile, content }
    }

    /// Every rule the campaign breaks, in payload order (profile, then
    /// content field by field); empty when it is valid.
    pub fn problems(&self) -> Vec<FieldProblem> {
        let mut problems = Vec::new();
        check_text("profile.campaign_name", &self.profile.campaign_name, None, &mut problems);
        check_text("profile.campaign_id", &self.profile.campaign_id, None, &mut problems);
        self.content.value_problems(&mut problems);
        self.content.presence_problems(&mut problems);
        sort_by_payload_order(&mut problems);
        problems
    }

    /// The campaign, once it breaks no rule; otherwise every problem.
    pub fn validate(self) -> Result<ValidatedCampaign, Vec<FieldProblem>> {
        let problems = self.problems();
        if problems.is_empty() { Ok(ValidatedCampaign(self)) } else { Err(problems) }
    }
}

/// A campaign that passed [`Campaign::validate`]: the only form meant to be
/// sent to Truecaller.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidatedCampaign(Campaign);

impl ValidatedCampaign {
    pub fn campaign(&self) -> &Campaign {
        &self.0
    }

    pub fn into_inner(self) -> Campaign {
        self.0
    }

    /// The request body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).expect("a campaign always serialises")
    }
}
