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
        check(trimmed)?;
        Ok(Self(if trimmed.len() == raw.len() { raw } else { trimmed.to_owned() }))
    }

    /// Joins parts with `#`, the separator DESIGN.md uses in composite keys.
    ///
    /// Each part is trimmed and must not be empty. Written into one sized
    /// buffer (no per-part copies, no second pass to trim the result: it
    /// starts and ends with trimmed parts), as `parse(parts.join("#"))`
    /// (issue 6; unit-tested against that form).
    pub fn join<I, S>(parts: I) -> Result<Self, InvalidEventKey>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut joined = String::new();
        for part in parts {
            let part = crate::lenient::trim(part.as_ref());
            if part.is_empty() {
                return Err(InvalidEventKey::Empty);
            }
            // Every part is non-empty: an empty key means this is the first.
            if !joined.is_empty() {
                joined.push('#');
            }
            joined.push_str(part);
        }
        if joined.is_empty() {
            return Err(InvalidEventKey::Empty);
        }
        check(&joined)?;
        Ok(Self(joined))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The length and control-character rules of a trimmed, non-empty key.
fn check(key: &str) -> Result<(), InvalidEventKey> {
    if key.len() > MAX_EVENT_KEY_LEN {
        return Err(InvalidEventKey::TooLong);
    }
    // Printable ASCII (nearly every key) in one pass over the bytes;
    // otherwise `char::is_control`, the Unicode `Cc` category: C0, DEL and
    // the C1 controls (U+0080..U+009F).
    let control = key.bytes().any(|b| !(0x20..0x7f).contains(&b)) && key.chars().any(char::is_control);
    if control { Err(InvalidEventKey::ControlCharacter) } else { Ok(()) }
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

    /// The key rules as they were written before `join` and `parse` were
    /// made cheaper (issue 6): the reference for the test below.
    fn old_parse(raw: String) -> Result<EventKey, InvalidEventKey> {
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
        Ok(EventKey(if trimmed.len() == raw.len() { raw } else { trimmed.to_owned() }))
    }

    fn old_join(parts: &[&str]) -> Result<EventKey, InvalidEventKey> {
        let joined: Vec<String> = parts.iter().map(|p| p.trim().to_owned()).collect();
        if joined.iter().any(String::is_empty) {
            return Err(InvalidEventKey::Empty);
        }
        old_parse(joined.join("#"))
    }

    #[test]
    fn join_and_parse_are_the_old_join_and_parse() {
        let long = "x".repeat(MAX_EVENT_KEY_LEN);
        let pieces = [
            "",
            " ",
            "a",
            " a ",
            "abc",
            "\u{a0}b\u{a0}",
            "\u{2003}",
            "a\tb",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9f}",
            "\u{a0}",
            "é",
            "日本",
            "a\u{200b}",
            "\u{80}",
            "x\ny",
            "#",
            " # ",
            long.as_str(),
            &long[1..],
            &long[2..],
            "3f0c2b1e-8d7a-4c55-9e21-0b6f5a4d3c2b",
            "post_call",
            "2025-09-22T13:04:23Z",
        ];
        let mut cases = 0;
        for a in pieces {
            assert_eq!(EventKey::parse(a), old_parse(a.to_owned()), "{a:?}");
            assert_eq!(EventKey::join([a]), old_join(&[a]), "{a:?}");
            for b in pieces {
                assert_eq!(EventKey::join([a, b]), old_join(&[a, b]), "{a:?} {b:?}");
                for c in ["", "c", " c", "\u{85}", &long[..500]] {
                    assert_eq!(EventKey::join([a, b, c]), old_join(&[a, b, c]), "{a:?} {b:?} {c:?}");
                    cases += 1;
                }
            }
        }
        assert_eq!(EventKey::join(Vec::<&str>::new()), old_join(&[]));
        assert!(cases > 3000);
    }

    #[test]
    fn joining_refuses_an_empty_part() {
        assert_eq!(EventKey::join(["a", "", "c"]), Err(InvalidEventKey::Empty));
        assert_eq!(EventKey::join(["a", "b"]).unwrap().as_str(), "a#b");
    }
}
