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
//!   reason, with `{placeholder}`s filled from a [`CallbackTask`]; the
//!   receiver is always the task's customer. [`CampaignTemplate::render`]
//!   reports placeholder problems, bad configured values and rule problems
//!   together.
//!
//! The rule table, line by line against the seed, and the choices made where
//! the seed is ambiguous are in `docs/campaign-rules.md`.
//!
//! Pure: no I/O. Image dimensions and file size (seed: "Image Dimensions",
//! "Image File Size") cannot be checked without fetching the image, so they
//! are not checked here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CallbackTask, PhoneNumber};

/// Title limit in characters (seed: "Title — 40 characters MAX").
pub const TITLE_MAX_CHARS: usize = 40;
/// Sub title limit in characters (seed: "Sub Title — 60 characters MAX").
pub const SUB_TITLE_MAX_CHARS: usize = 60;
/// Call-to-action limit in characters (seed: "CTA — 15 characters MAX").
pub const CALL_TO_ACTION_MAX_CHARS: usize = 15;

/// Image file extensions accepted (seed: ".jpeg, .png and .gif supported";
/// `.jpg` is the same JPEG format under its other common extension).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpeg", "jpg", "png", "gif"];

/// Use-case of the campaign (seed: "could be either lifecycle or offer").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignType {
    Lifecycle,
    Offer,
}

impl CampaignType {
    pub const ALL: [CampaignType; 2] = [CampaignType::Lifecycle, CampaignType::Offer];

    pub const fn as_str(self) -> &'static str {
        match self {
            CampaignType::Lifecycle => "lifecycle",
            CampaignType::Offer => "offer",
        }
    }
}

/// Where the campaign is shown (seed, "Step 2: Choose your Display Unit",
/// and the Universal ACS page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayUnit {
    /// "The message shown when a call is received."
    CallerId,
    /// "The message displayed after a call is answered."
    AcsAnswered,
    /// "The message shown after a missed call."
    AcsMissed,
    /// "a sticky pop-up … after a call ends on the user's device".
    UniversalAcs,
    /// "The message shown for transactional message notifications".
    MessageId,
}

impl DisplayUnit {
    pub const ALL: [DisplayUnit; 5] = [
        DisplayUnit::CallerId,
        DisplayUnit::AcsAnswered,
        DisplayUnit::AcsMissed,
        DisplayUnit::UniversalAcs,
        DisplayUnit::MessageId,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DisplayUnit::CallerId => "caller_id",
            DisplayUnit::AcsAnswered => "acs_answered",
            DisplayUnit::AcsMissed => "acs_missed",
            DisplayUnit::UniversalAcs => "universal_acs",
            DisplayUnit::MessageId => "message_id",
        }
    }

    /// Sub title: "60 characters MAX" on Caller ID and the after-call
    /// screens; "NA" on Message ID.
    pub const fn has_sub_title(self) -> bool {
        !matches!(self, DisplayUnit::MessageId)
    }

    /// CTA: "NA" on Caller ID; "15 characters MAX" elsewhere.
    pub const fn has_call_to_action(self) -> bool {
        !matches!(self, DisplayUnit::CallerId)
    }

    /// Redirection: "None" on Caller ID; "Landing page on mobileweb browser
    /// or app deeplink supported" elsewhere.
    pub const fn has_deeplink(self) -> bool {
        !matches!(self, DisplayUnit::CallerId)
    }
}

impl fmt::Display for DisplayUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The template style, sent as its number 1 to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateStyle {
    /// Template 1: plain text (with CTA where the unit has one).
    PlainText = 1,
    /// Template 2: image banner (with CTA where the unit has one).
    ImageBanner = 2,
    /// Template 3: personalised text, brand image on the left.
    ImageLeft = 3,
    /// Template 4: personalised text, brand image on the right.
    ImageRight = 4,
}

impl TemplateStyle {
    pub const ALL: [TemplateStyle; 4] =
        [TemplateStyle::PlainText, TemplateStyle::ImageBanner, TemplateStyle::ImageLeft, TemplateStyle::ImageRight];

    pub const fn number(self) -> u8 {
        self as u8
    }

    pub const fn from_number(n: u64) -> Option<Self> {
        match n {
            1 => Some(TemplateStyle::PlainText),
            2 => Some(TemplateStyle::ImageBanner),
            3 => Some(TemplateStyle::ImageLeft),
            4 => Some(TemplateStyle::ImageRight),
            _ => None,
        }
    }

    /// Styles 1, 3 and 4 carry text (theme colour, text colour, title…).
    pub const fn has_text(self) -> bool {
        !matches!(self, TemplateStyle::ImageBanner)
    }

    /// Styles 2, 3 and 4 carry an image.
    pub const fn has_image(self) -> bool {
        !matches!(self, TemplateStyle::PlainText)
    }
}

impl Serialize for TemplateStyle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl fmt::Display for TemplateStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// Text colour (seed: "Choose a text color … (Black or White)").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextColor {
    Black,
    White,
}

impl TextColor {
    pub const ALL: [TextColor; 2] = [TextColor::Black, TextColor::White];

    pub const fn as_str(self) -> &'static str {
        match self {
            TextColor::Black => "black",
            TextColor::White => "white",
        }
    }
}

macro_rules! closed_set_from_str {
    ($ty:ty) => {
        impl FromStr for $ty {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                <$ty>::ALL.into_iter().find(|v| v.as_str() == s).ok_or(())
            }
        }
    };
}
closed_set_from_str!(CampaignType);
closed_set_from_str!(DisplayUnit);
closed_set_from_str!(TextColor);

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
/// ([`Requirement`]).
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

    /// Whether each optional content field is set (a blank string counts as
    /// set here; blankness is reported separately).
    fn is_set(&self, field: ContentField) -> bool {
        match field {
            ContentField::ThemeColor => self.theme_color.is_some(),
            ContentField::TextColor => self.text_color.is_some(),
            ContentField::Title => self.title.is_some(),
            ContentField::SubTitle => self.sub_title.is_some(),
            ContentField::CallToAction => self.call_to_action.is_some(),
            ContentField::Deeplink => self.deeplink.is_some(),
            ContentField::ImageUrl => self.image_url.is_some(),
        }
    }

    /// Rules on the values themselves, whatever the unit and style.
    fn value_problems(&self, problems: &mut Vec<FieldProblem>) {
        if self.ttl == Some(0) {
            problems.push(FieldProblem::new("content.ttl", Problem::ZeroTtl));
        }
        if let Some(colour) = &self.theme_color {
            check_theme_color(colour, problems);
        }
        for (field, value, max) in [
            (ContentField::Title, &self.title, TITLE_MAX_CHARS),
            (ContentField::SubTitle, &self.sub_title, SUB_TITLE_MAX_CHARS),
            (ContentField::CallToAction, &self.call_to_action, CALL_TO_ACTION_MAX_CHARS),
        ] {
            if let Some(text) = value {
                check_text(field.path(), text, Some(max), problems);
            }
        }
        if let Some(deeplink) = &self.deeplink {
            check_deeplink(deeplink, problems);
        }
        if let Some(url) = &self.image_url {
            check_image_url(url, problems);
        }
    }

    /// Mandatory and not-applicable fields for this unit and style.
    fn presence_problems(&self, problems: &mut Vec<FieldProblem>) {
        let (unit, style) = (self.display_unit, self.template_style);
        for field in ContentField::ALL {
            match (Requirement::of(field, unit, style), self.is_set(field)) {
                (Requirement::Mandatory, false) => {
                    problems.push(FieldProblem::new(field.path(), Problem::MandatoryFor { unit, style }))
                }
                (Requirement::NotApplicable, true) => {
                    problems.push(FieldProblem::new(field.path(), Problem::NotApplicableTo { unit, style }))
                }
                _ => {}
            }
        }
    }
}

/// The optional fields of `content` whose presence depends on the display
/// unit and template style (`template_style` and `display_unit` are always
/// mandatory; `ttl` is always optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentField {
    ThemeColor,
    TextColor,
    Title,
    SubTitle,
    CallToAction,
    Deeplink,
    ImageUrl,
}

impl ContentField {
    pub const ALL: [ContentField; 7] = [
        ContentField::ThemeColor,
        ContentField::TextColor,
        ContentField::Title,
        ContentField::SubTitle,
        ContentField::CallToAction,
        ContentField::Deeplink,
        ContentField::ImageUrl,
    ];

    /// The field's name in the payload.
    pub const fn name(self) -> &'static str {
        match self {
            ContentField::ThemeColor => "theme_color",
            ContentField::TextColor => "text_color",
            ContentField::Title => "title",
            ContentField::SubTitle => "sub_title",
            ContentField::CallToAction => "call_to_action",
            ContentField::Deeplink => "deeplink",
            ContentField::ImageUrl => "image_url",
        }
    }

    /// The field's JSON path, as named in a [`FieldProblem`].
    pub const fn path(self) -> &'static str {
        match self {
            ContentField::ThemeColor => "content.theme_color",
            ContentField::TextColor => "content.text_color",
            ContentField::Title => "content.title",
            ContentField::SubTitle => "content.sub_title",
            ContentField::CallToAction => "content.call_to_action",
            ContentField::Deeplink => "content.deeplink",
            ContentField::ImageUrl => "content.image_url",
        }
    }
}

/// Whether a content field belongs in a payload for a unit and style. The
/// seed marks every field of a template either `*` (mandatory) or leaves it
/// out (not applicable); only `ttl` is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    Mandatory,
    NotApplicable,
}

impl Requirement {
    /// The seed's parameter tables, as a rule: text styles (1, 3, 4) carry
    /// theme colour, text colour and title, plus sub title and CTA where the
    /// unit has them; image styles (2, 3, 4) carry an image URL; every style
    /// carries a deeplink where the unit has redirection. The tests check
    /// this against the tables transcribed from the seed cell by cell.
    pub const fn of(field: ContentField, unit: DisplayUnit, style: TemplateStyle) -> Requirement {
        let mandatory = match field {
            ContentField::ThemeColor | ContentField::TextColor | ContentField::Title => style.has_text(),
            ContentField::SubTitle => style.has_text() && unit.has_sub_title(),
            ContentField::CallToAction => style.has_text() && unit.has_call_to_action(),
            ContentField::Deeplink => unit.has_deeplink(),
            ContentField::ImageUrl => style.has_image(),
        };
        if mandatory { Requirement::Mandatory } else { Requirement::NotApplicable }
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

/// One broken rule, naming the field by its JSON path
/// (`profile.receiver_number`, `content.title`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: Problem,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self { field: field.into(), problem }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// What is wrong with a field; its message reads like console feedback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("is mandatory")]
    Missing,
    #[error("is blank")]
    Blank,
    #[error("is mandatory for display unit {unit} with template style {style}")]
    MandatoryFor { unit: DisplayUnit, style: TemplateStyle },
    #[error("is not used by display unit {unit} with template style {style}; leave it out")]
    NotApplicableTo { unit: DisplayUnit, style: TemplateStyle },
    #[error("has {chars} characters; at most {max} allowed")]
    TooLong { max: usize, chars: usize },
    #[error("contains a line break or other control character")]
    ControlCharacter,
    #[error("{value:?} is not a colour of the form #RRGGBB")]
    NotAColour { value: String },
    #[error("{value:?} is not one of {expected}")]
    UnknownValue { value: String, expected: &'static str },
    #[error("must be a positive number of seconds")]
    ZeroTtl,
    #[error("{reason}")]
    BadDeeplink { reason: &'static str },
    #[error("{reason}")]
    BadImageUrl { reason: &'static str },
    #[error("image format {extension:?} is not supported; use .jpeg, .jpg, .png or .gif")]
    ImageFormat { extension: String },
    #[error("unknown placeholder {{{name}}}: neither a task field nor in this task's context")]
    UnknownPlaceholder { name: String },
    #[error("placeholder {{{name}}} has no value for this task")]
    PlaceholderWithoutValue { name: String },
    #[error("{reason}")]
    PlaceholderSyntax { reason: &'static str },
}

/// Field order in the payload, so problems read top to bottom.
const PAYLOAD_ORDER: &[&str] = &[
    "profile.campaign_name",
    "profile.campaign_id",
    "profile.campaign_type",
    "profile.receiver_number",
    "content.template_style",
    "content.display_unit",
    "content.ttl",
    "content.theme_color",
    "content.text_color",
    "content.title",
    "content.sub_title",
    "content.call_to_action",
    "content.deeplink",
    "content.image_url",
];

fn sort_by_payload_order(problems: &mut [FieldProblem]) {
    // Stable: several problems of one field keep the order they were found.
    problems.sort_by_key(|p| PAYLOAD_ORDER.iter().position(|f| *f == p.field).unwrap_or(PAYLOAD_ORDER.len()));
}

/// Mandatory text: not blank, no control characters (each field "supports"
/// one or two display lines, which the app wraps; a raw line break has no
/// place in it), and at most `max` characters, counted as Unicode scalar
/// values (`chars()`), so "नमस्ते" is 6 characters, not 18 bytes.
fn check_text(field: &str, value: &str, max: Option<usize>, problems: &mut Vec<FieldProblem>) {
    if value.trim().is_empty() {
        problems.push(FieldProblem::new(field, Problem::Blank));
        return;
    }
    if value.chars().any(char::is_control) {
        problems.push(FieldProblem::new(field, Problem::ControlCharacter));
    }
    if let Some(max) = max {
        let chars = value.chars().count();
        if chars > max {
            problems.push(FieldProblem::new(field, Problem::TooLong { max, chars }));
        }
    }
}

fn check_theme_color(value: &str, problems: &mut Vec<FieldProblem>) {
    let field = ContentField::ThemeColor.path();
    if value.trim().is_empty() {
        problems.push(FieldProblem::new(field, Problem::Blank));
        return;
    }
    let ok = value.len() == 7 && value.starts_with('#') && value[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !ok {
        problems.push(FieldProblem::new(field, Problem::NotAColour { value: value.to_owned() }));
    }
}

/// A URL split just enough to check it: scheme, authority, path.
struct UrlParts<'a> {
    scheme: String,
    /// After `scheme://`, up to the first `/`, `?` or `#`; `None` when the
    /// URL has no `//`.
    authority: Option<&'a str>,
    /// The path, without query or fragment.
    path: &'a str,
}

fn split_url(value: &str) -> Result<UrlParts<'_>, &'static str> {
    if value.trim().is_empty() {
        return Err("is blank");
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters; percent-encode them");
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return Err("is not an absolute URL: it has no scheme such as https://");
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err("is not an absolute URL: it has no scheme such as https://");
    }
    let scheme = scheme.to_ascii_lowercase();
    let (authority, after) = match rest.strip_prefix("//") {
        Some(rest) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            (Some(&rest[..end]), &rest[end..])
        }
        None => (None, rest),
    };
    let path_end = after.find(['?', '#']).unwrap_or(after.len());
    Ok(UrlParts { scheme, authority, path: &after[..path_end] })
}

/// The host of an authority (`user@host:port`), checked for shape only.
fn host_ok(authority: &str) -> bool {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => return v6.ends_with(']') || v6.contains("]:"),
        None => host_port.rsplit_once(':').map_or(host_port, |(h, _)| h),
    };
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        })
}

/// Schemes that are neither a landing page nor an app deeplink.
const FORBIDDEN_DEEPLINK_SCHEMES: &[&str] =
    &["javascript", "data", "file", "content", "about", "blob", "vbscript", "ftp", "ws", "wss"];

/// "Landing page on mobileweb browser or app deeplink supported": an
/// `https://host/…` landing page, or an app deeplink `scheme://…`.
fn check_deeplink(value: &str, problems: &mut Vec<FieldProblem>) {
    let field = ContentField::Deeplink.path();
    let reason = match split_url(value) {
        Err(reason) => Some(reason),
        Ok(url) if FORBIDDEN_DEEPLINK_SCHEMES.contains(&url.scheme.as_str()) => {
            Some("is neither a landing page (https://…) nor an app deeplink (yourapp://…)")
        }
        Ok(url) if url.scheme == "http" => Some("landing pages must use https://, not http://"),
        Ok(url) if url.scheme == "https" => match url.authority {
            Some(a) if host_ok(a) => None,
            _ => Some("landing page URL has no valid host"),
        },
        Ok(url) => match url.authority {
            Some(a) if !a.is_empty() || !url.path.trim_start_matches('/').is_empty() => None,
            Some(_) => Some("app deeplink has nothing after scheme://"),
            None => Some("is neither a landing page (https://…) nor an app deeplink (yourapp://…)"),
        },
    };
    if let Some(reason) = reason {
        problems.push(FieldProblem::new(field, Problem::BadDeeplink { reason }));
    }
}

/// "Image File Hosting: CDN bucket" and "Image File Format: .jpeg, .png and
/// .gif supported": an `https://` URL with a host whose path ends in one of
/// [`IMAGE_EXTENSIONS`] (any case; query and fragment ignored).
fn check_image_url(value: &str, problems: &mut Vec<FieldProblem>) {
    let field = ContentField::ImageUrl.path();
    let url = match split_url(value) {
        Ok(url) => url,
        Err(reason) => {
            problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason }));
            return;
        }
    };
    if url.scheme != "https" {
        let reason = "must be an https:// URL of the image on a CDN";
        problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason }));
        return;
    }
    if !url.authority.is_some_and(host_ok) {
        problems.push(FieldProblem::new(field, Problem::BadImageUrl { reason: "has no valid host" }));
        return;
    }
    let file = url.path.rsplit('/').next().unwrap_or("");
    let extension = file.rsplit_once('.').map_or("", |(_, ext)| ext);
    if !IMAGE_EXTENSIONS.iter().any(|ok| extension.eq_ignore_ascii_case(ok)) {
        problems.push(FieldProblem::new(field, Problem::ImageFormat { extension: extension.to_owned() }));
    }
}

// ---------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------

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

/// A placeholder's value for a task.
enum Lookup {
    Value(String),
    /// A known task field this task has no value for.
    Absent,
    Unknown,
}

fn lookup(name: &str, task: &CallbackTask) -> Lookup {
    match name {
        "provider" => Lookup::Value(task.provider.name().to_owned()),
        "reason" => Lookup::Value(task.reason.as_str().to_owned()),
        "task_id" => Lookup::Value(task.task_id.clone()),
        "business_phone" => {
            task.business_phone.as_ref().map_or(Lookup::Absent, |p| Lookup::Value(p.as_str().to_owned()))
        }
        _ => match task.context.get(name) {
            Some(Value::String(s)) => Lookup::Value(s.clone()),
            Some(Value::Number(n)) => Lookup::Value(n.to_string()),
            Some(Value::Bool(b)) => Lookup::Value(b.to_string()),
            Some(Value::Null) => Lookup::Absent,
            Some(_) | None => Lookup::Unknown,
        },
    }
}

/// Fills `{name}` placeholders; `{{` and `}}` are literal braces. Problems
/// are recorded against `field`; the returned text keeps a bad placeholder
/// as written.
fn substitute(field: &str, text: &str, task: &CallbackTask, encode: bool, problems: &mut Vec<FieldProblem>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            let reason = "has a lone }; write }} for a literal brace";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            let reason = "has a { without its closing }; write {{ for a literal brace";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push_str(tail);
            rest = "";
            break;
        };
        let name = &tail[1..end];
        let written = &tail[..=end];
        rest = &tail[end + 1..];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let reason = "has a placeholder that is not {name} with letters, digits and _";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push_str(written);
            continue;
        }
        match lookup(name, task) {
            Lookup::Value(v) if encode => out.push_str(&percent_encode(&v)),
            Lookup::Value(v) => out.push_str(&v),
            Lookup::Absent => {
                problems.push(FieldProblem::new(field, Problem::PlaceholderWithoutValue { name: name.to_owned() }));
                out.push_str(written);
            }
            Lookup::Unknown => {
                problems.push(FieldProblem::new(field, Problem::UnknownPlaceholder { name: name.to_owned() }));
                out.push_str(written);
            }
        }
    }
    out.push_str(rest);
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a
/// filled value is safe in a URL's path and query alike.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
