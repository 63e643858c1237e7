//! The rules on the values themselves, whatever the display unit and
//! template style: character limits, blank and control characters, the
//! theme colour, the ttl. Deeplinks and image URLs are in `links`.

use super::links::{check_deeplink, check_image_url};
use super::{Content, ContentField, FieldProblem, Problem};

/// Title limit in characters (seed: "Title — 40 characters MAX").
pub const TITLE_MAX_CHARS: usize = 40;
/// Sub title limit in characters (seed: "Sub Title — 60 characters MAX").
pub const SUB_TITLE_MAX_CHARS: usize = 60;
/// Call-to-action limit in characters (seed: "CTA — 15 characters MAX").
pub const CALL_TO_ACTION_MAX_CHARS: usize = 15;

impl Content {
    /// Rules on the values themselves, whatever the unit and style.
    pub(super) fn value_problems(&self, problems: &mut Vec<FieldProblem>) {
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
}

/// Mandatory text: not blank, no control characters (each field "supports"
/// one or two display lines, which the app wraps; a raw line break has no
/// place in it), and at most `max` characters, counted as Unicode scalar
/// values (`chars()`), so "नमस्ते" is 6 characters, not 18 bytes.
pub(super) fn check_text(field: &str, value: &str, max: Option<usize>, problems: &mut Vec<FieldProblem>) {
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

pub(super) fn check_theme_color(value: &str, problems: &mut Vec<FieldProblem>) {
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
