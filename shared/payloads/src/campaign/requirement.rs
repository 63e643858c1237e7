//! Which optional content fields a display unit and template style take
//! (seed 002's parameter tables, as a rule), and the problems of a payload
//! that leaves a mandatory one out or sets one that does not apply.

use super::{Content, DisplayUnit, FieldProblem, Problem, TemplateStyle};

impl Content {
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

    /// Mandatory and not-applicable fields for this unit and style.
    pub(super) fn presence_problems(&self, problems: &mut Vec<FieldProblem>) {
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
