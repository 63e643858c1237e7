//! What a campaign breaks: [`FieldProblem`] names the field by its JSON path,
//! [`Problem`] says what is wrong, like the Truecaller console's feedback.

use std::fmt;

use super::{DisplayUnit, TemplateStyle};

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

pub(super) fn sort_by_payload_order(problems: &mut [FieldProblem]) {
    // Stable: several problems of one field keep the order they were found.
    problems.sort_by_key(|p| PAYLOAD_ORDER.iter().position(|f| *f == p.field).unwrap_or(PAYLOAD_ORDER.len()));
}
