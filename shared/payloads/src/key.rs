//! The identity of an event within its provider.

use std::fmt;

/// Longest event key accepted. DynamoDB allows 2 KiB for a partition key;
/// keys are `{provider}#{event_key}`, so this leaves room for the prefix.
pub const MAX_EVENT_KEY_LEN: usize = 1024;

/// What makes two deliveries "the same event" (DESIGN.md, event keys).
/// Non-empty, at most [`MAX_EVENT_KEY_LEN`] bytes, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EventKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEventKey {
    #[error("event key is empty")]
    Empty,
    #[error("event key is longer than {MAX_EVENT_KEY_LEN} bytes")]
    TooLong,
    #[error("event key contains a control character")]
    ControlCharacter,
}

impl EventKey {
    pub fn parse(raw: impl Into<String>) -> Result<Self, InvalidEventKey> {
        let raw = raw.into();
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidEventKey::Empty);
        }
        if trimmed.len() > MAX_EVENT_KEY_LEN {
            return Err(InvalidEventKey::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(InvalidEventKey::ControlCharacter);
        }
        Ok(Self(if trimmed.len() == raw.len() { raw } else { trimmed.to_owned() }))
    }

    /// Joins parts with `#`, the separator DESIGN.md uses in composite keys.
    pub fn join<I, S>(parts: I) -> Result<Self, InvalidEventKey>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined: Vec<String> = parts.into_iter().map(|p| p.as_ref().trim().to_owned()).collect();
        if joined.iter().any(String::is_empty) {
            return Err(InvalidEventKey::Empty);
        }
        Self::parse(joined.join("#"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_trimmed_and_kept_verbatim_otherwise() {
        assert_eq!(EventKey::parse("  abc#1 ").unwrap().as_str(), "abc#1");
    }

    #[test]
    fn an_empty_or_blank_key_is_refused() {
        assert_eq!(EventKey::parse(""), Err(InvalidEventKey::Empty));
        assert_eq!(EventKey::parse("   "), Err(InvalidEventKey::Empty));
    }

    #[test]
    fn a_key_with_control_characters_or_too_long_is_refused() {
        assert_eq!(EventKey::parse("a\nb"), Err(InvalidEventKey::ControlCharacter));
        assert_eq!(EventKey::parse("x".repeat(MAX_EVENT_KEY_LEN + 1)), Err(InvalidEventKey::TooLong));
    }

    #[test]
    fn joining_refuses_an_empty_part() {
        assert_eq!(EventKey::join(["a", "", "c"]), Err(InvalidEventKey::Empty));
        assert_eq!(EventKey::join(["a", "b"]).unwrap().as_str(), "a#b");
    }
}
