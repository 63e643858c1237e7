//! The closed sets of a campaign: campaign type, display unit, template
//! style and text colour, each with the spelling the seed sends.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

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
