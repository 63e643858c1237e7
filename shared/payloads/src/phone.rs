//! Phone numbers in E.164, parsed through libphonenumber's metadata
//! (the `phonenumber` crate) so every country's prefixes are handled by a
//! maintained source rather than by hand-written rules.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;

/// The region assumed for numbers that arrive without a country code
/// (`DEFAULT_PHONE_REGION`, default `IN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(country::Id);

impl PhoneRegion {
    pub const INDIA: PhoneRegion = PhoneRegion(country::Id::IN);
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self::INDIA
    }
}

impl FromStr for PhoneRegion {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        country::Id::from_str(&s.trim().to_ascii_uppercase()).map(PhoneRegion).map_err(|_| PhoneError::UnknownRegion)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no phone number given")]
    Missing,
    #[error("not a phone number")]
    NotANumber,
    #[error("phone number has an impossible length for its country")]
    ImpossibleLength,
    #[error("unknown phone region")]
    UnknownRegion,
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), checked against
/// its country's possible lengths. Cannot hold anything else.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// Values providers put in number fields when they have no number.
const SENTINELS: &[&str] =
    &["na", "n/a", "null", "none", "unknown", "anonymous", "private", "phone number not available"];

impl PhoneNumber {
    /// Parses what a provider sends: `+911234567890`, `911234567890`,
    /// `09876543210`, `98765 43210`, `+1 (415) 555-0100`. Numbers without
    /// a country code are read in `region`.
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Missing);
        }
        if SENTINELS.iter().any(|s| trimmed.eq_ignore_ascii_case(s)) {
            return Err(PhoneError::Missing);
        }
        if !trimmed.chars().any(|c| c.is_ascii_digit())
            || trimmed.chars().any(|c| !(c.is_ascii_digit() || " +-().\u{a0}".contains(c)))
        {
            return Err(PhoneError::NotANumber);
        }
        // "00" is the international prefix in most regions; libphonenumber
        // only applies the default region's own prefix, so normalise it.
        let candidate = match trimmed.strip_prefix("00") {
            Some(rest) if rest.len() > 8 => format!("+{rest}"),
            _ => trimmed.to_owned(),
        };
        let parsed = phonenumber::parse(Some(region.0), &candidate).map_err(|_| PhoneError::NotANumber)?;
        // Providers often send international numbers without the `+`
        // (`61491573087`). Read in the default region such a number is
        // wrong (`+9161491573087`), so when that reading is not a valid
        // number and the `+` reading is, take the `+` reading.
        let bare_digits = candidate.chars().all(|c| c.is_ascii_digit()) && !candidate.starts_with('0');
        let parsed = if bare_digits && !phonenumber::is_valid(&parsed) {
            match phonenumber::parse(None, format!("+{candidate}")) {
                Ok(international) if phonenumber::is_valid(&international) => international,
                _ => parsed,
            }
        } else {
            parsed
        };
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let digits = e164.len().saturating_sub(1);
        if !(8..=15).contains(&digits) {
            return Err(PhoneError::ImpossibleLength);
        }
        let national_len = parsed.national().value().to_string().len();
        let min_national = if parsed.code().value() == 91 { 10 } else { 4 };
        if national_len < min_national {
            return Err(PhoneError::ImpossibleLength);
        }
        Ok(Self(e164))
    }

    /// Forces the library's metadata to load. Its first use costs ~100 ms;
    /// call this during init so no request pays it.
    pub fn warm_up() {
        let _ = Self::parse("+911234567890", PhoneRegion::INDIA);
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs: country code and last three digits only.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any phone-like string for logging: keeps a leading `+` and up to
/// three leading digits, and the last three digits.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 6 {
        return "*".repeat(digits.len().max(3));
    }
    let head: String = digits.iter().take(2).collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    let plus = if number.trim_start().starts_with('+') { "+" } else { "" };
    format!("{plus}{head}{}{tail}", "*".repeat(digits.len() - 5))
}

impl fmt::Debug for PhoneNumber {
    // Debug output ends up in logs; never print the full number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(raw, PhoneRegion::INDIA).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn truecaller_numbers_without_plus_keep_their_country_code() {
        assert_eq!(e164("911234567890").unwrap(), "+911234567890");
        assert_eq!(e164("919876543210").unwrap(), "+919876543210");
    }

    #[test]
    fn a_zero_after_the_country_code_is_a_national_prefix_and_too_short_a_number_is_refused() {
        // The seed's business number: libphonenumber reads the 0 as India's
        // trunk prefix, leaving 9 digits, which no Indian number has.
        assert_eq!(e164("910987654321"), Err(PhoneError::ImpossibleLength));
        assert_eq!(e164("+910987654321"), Err(PhoneError::ImpossibleLength));
    }

    #[test]
    fn international_numbers_without_plus_are_not_read_as_national() {
        assert_eq!(e164("61491573087").unwrap(), "+61491573087");
        assert_eq!(e164("14155550100").unwrap(), "+14155550100");
        assert_eq!(e164("447946095812").unwrap(), "+447946095812");
    }

    #[test]
    fn national_numbers_are_read_in_the_default_region() {
        assert_eq!(e164("09876543210").unwrap(), "+919876543210");
        assert_eq!(e164("98765 43210").unwrap(), "+919876543210");
        assert_eq!(e164("9876543210").unwrap(), "+919876543210");
    }

    #[test]
    fn international_formats_are_accepted() {
        assert_eq!(e164("+1 (415) 555-0100").unwrap(), "+14155550100");
        assert_eq!(e164("0044 20 7946 0958").unwrap(), "+442079460958");
        let us = PhoneNumber::parse("4155550100", "us".parse().unwrap()).unwrap();
        assert_eq!(us.as_str(), "+14155550100");
    }

    #[test]
    fn sentinels_and_garbage_are_not_numbers() {
        assert_eq!(e164("Phone number not available"), Err(PhoneError::Missing));
        assert_eq!(e164("NA"), Err(PhoneError::Missing));
        assert_eq!(e164(""), Err(PhoneError::Missing));
        assert_eq!(e164("abc123"), Err(PhoneError::NotANumber));
        assert!(e164("12").is_err());
    }

    #[test]
    fn too_short_numbers_are_refused() {
        assert!(e164("12345").is_err());
        assert!(e164("+91 12345").is_err());
    }

    #[test]
    fn masked_form_hides_all_but_the_edges() {
        let p = PhoneNumber::parse("+911234567890", PhoneRegion::INDIA).unwrap();
        assert_eq!(p.masked(), "+91*******890");
        assert!(!format!("{p:?}").contains("1234567890"));
    }

    #[test]
    fn unknown_regions_are_refused() {
        assert_eq!("XX".parse::<PhoneRegion>(), Err(PhoneError::UnknownRegion));
        assert_eq!("in".parse::<PhoneRegion>(), Ok(PhoneRegion::INDIA));
    }
}
