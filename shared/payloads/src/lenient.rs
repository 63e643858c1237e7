//! Lenient readers for fields providers are known to vary: strings that
//! arrive as numbers, `null` vs `""`, sentinels such as `"NA"`.

use chrono::{DateTime, TimeZone, Utc};
use std::borrow::Cow;
use std::fmt;

use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Any JSON scalar as trimmed text; `null`, `""` and whitespace are absent.
/// Objects and arrays are absent too (a wrong shape is not a value).
///
/// Read straight from the deserializer (no `serde_json::Value` in between);
/// the same result as `scalar_text` of the value.
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// The visitor methods for what a lenient scalar reads as absent: null, and
/// arrays or objects (skipped without building them).
macro_rules! absent_unless_scalar {
    () => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

/// `scalar_text` as a visitor: strings trimmed, numbers and booleans as
/// `serde_json::Value` would print them, anything else absent.
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(b.to_string()))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(n.to_string()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(n.to_string()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        // `Value` keeps a non-finite float as `null`.
        Ok(serde_json::Number::from_f64(n).map(|n| n.to_string()))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let s = trim(s);
        Ok((!s.is_empty()).then(|| s.to_owned()))
    }

    absent_unless_scalar!();
}

/// `flag` as a visitor.
struct FlagVisitor;

impl<'de> Visitor<'de> for FlagVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(n != 0))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        // `Number::as_i64`: none above `i64::MAX`.
        Ok(i64::try_from(n).ok().map(|n| n != 0))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let s = trim(s);
        Ok(if ["true", "1", "yes", "y"].iter().any(|t| s.eq_ignore_ascii_case(t)) {
            Some(true)
        } else if ["false", "0", "no", "n"].iter().any(|t| s.eq_ignore_ascii_case(t)) {
            Some(false)
        } else {
            None
        })
    }

    absent_unless_scalar!();
}

/// A scalar `Value` as trimmed text; absent for null, empty, objects, arrays.
pub fn scalar_text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// `scalar_text` borrowing a string's trimmed text instead of copying it.
pub fn scalar_str(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => {
            let s = trim(s);
            (!s.is_empty()).then_some(Cow::Borrowed(s))
        }
        other => scalar_text(other).map(Cow::Owned),
    }
}

/// `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"yes"`/`"no"`; anything
/// else is absent.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(FlagVisitor)
}

/// True for values providers use to mean "no value".
pub fn is_sentinel(s: &str) -> bool {
    is_trimmed_sentinel(trim(s))
}

/// `is_sentinel` of text already trimmed (no second trim).
/// Text longer than the longest sentinel (most values: ids, times,
/// numbers) is told apart by its length alone.
pub(crate) fn is_trimmed_sentinel(s: &str) -> bool {
    const SENTINELS: [&str; 6] = ["na", "n/a", "null", "none", "undefined", "-"];
    s.is_empty() || (s.len() <= "undefined".len() && SENTINELS.iter().any(|x| s.eq_ignore_ascii_case(x)))
}

/// `str::trim`, returning at once when both ends are ASCII and not white
/// space (nearly every field): the general trim decodes a character at each
/// end and runs on every field the parsers read (issue 6).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if is_ascii_solid(*first) && is_ascii_solid(*last) => s,
        [only] if is_ascii_solid(*only) => s,
        _ => s.trim(),
    }
}

/// An ASCII byte that is a whole character and not `char::is_whitespace`.
#[inline]
fn is_ascii_solid(b: u8) -> bool {
    b.is_ascii() && !(b as char).is_whitespace()
}

/// Text that is present and not a sentinel.
pub fn meaningful(v: Option<String>) -> Option<String> {
    v.filter(|s| !is_sentinel(s))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an epoch-seconds timestamp")]
pub struct BadTimestamp;

/// Epoch seconds as text (`"1753945760"`) or a number. Milliseconds
/// (13 digits) are recognised and converted, since senders mix them up.
pub fn epoch_seconds(s: &str) -> Result<DateTime<Utc>, BadTimestamp> {
    let s = trim(s);
    let secs: i64 = if let Ok(n) = s.parse::<i64>() {
        n
    } else if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(BadTimestamp);
        }
        f.trunc() as i64
    } else {
        return Err(BadTimestamp);
    };
    let secs = if secs > 100_000_000_000 { secs / 1000 } else { secs };
    // Before 2001 or after 2100 is not a real event time.
    if !(978_307_200..=4_102_444_800).contains(&secs) {
        return Err(BadTimestamp);
    }
    Utc.timestamp_opt(secs, 0).single().ok_or(BadTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_accepts_strings_numbers_and_milliseconds() {
        let t = epoch_seconds("1753945760").unwrap();
        assert_eq!(t.timestamp(), 1_753_945_760);
        assert_eq!(epoch_seconds("1753945760000").unwrap(), t);
        assert_eq!(epoch_seconds(" 1753945760.0 ").unwrap(), t);
    }

    #[test]
    fn epoch_seconds_refuses_garbage_and_implausible_times() {
        assert_eq!(epoch_seconds("yesterday"), Err(BadTimestamp));
        assert_eq!(epoch_seconds("12"), Err(BadTimestamp));
        assert_eq!(epoch_seconds("NaN"), Err(BadTimestamp));
        assert_eq!(epoch_seconds("99999999999"), Err(BadTimestamp));
    }

    #[test]
    fn scalar_text_treats_null_and_blank_as_absent() {
        assert_eq!(scalar_text(&Value::Null), None);
        assert_eq!(scalar_text(&Value::from("  ")), None);
        assert_eq!(scalar_text(&Value::from(42)), Some("42".into()));
        assert_eq!(scalar_text(&serde_json::json!({"a": 1})), None);
    }

    /// The visitors give what the `Value` readers they replace gave.
    #[test]
    fn text_and_flag_visitors_match_the_value_readers() {
        fn value_flag(v: &Value) -> Option<bool> {
            match v {
                Value::Bool(b) => Some(*b),
                Value::Number(n) => n.as_i64().map(|n| n != 0),
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "y" => Some(true),
                    "false" | "0" | "no" | "n" => Some(false),
                    _ => None,
                },
                _ => None,
            }
        }
        #[derive(serde::Deserialize)]
        struct Both {
            #[serde(deserialize_with = "text")]
            t: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Flag {
            #[serde(deserialize_with = "flag")]
            f: Option<bool>,
        }
        let inputs = [
            "null",
            "true",
            "false",
            "0",
            "1",
            "-1",
            "42",
            "18446744073709551615",
            "9223372036854775808",
            "-9223372036854775808",
            "1.5",
            "1e3",
            "1.0",
            "-0.0",
            "\"\"",
            "\"  \"",
            "\" x \"",
            "\"Yes\"",
            "\" N \"",
            "\"TRUE\"",
            "\"\\u00e9\\n\"",
            "\"1\"",
            "\"0\"",
            "[]",
            "[1,[2,{}]]",
            "{}",
            "{\"a\":[1,{\"b\":null}]}",
        ];
        for input in inputs {
            let body = format!("{{\"t\":{input}}}");
            let value: Value = serde_json::from_str::<Value>(&body).unwrap()["t"].clone();
            let got: Both = serde_json::from_str(&body).unwrap();
            assert_eq!(got.t, scalar_text(&value), "{input}");
            let got: Flag = serde_json::from_str(&body.replace("\"t\"", "\"f\"")).unwrap();
            assert_eq!(got.f, value_flag(&value), "{input}");
        }
        assert!(serde_json::from_str::<Both>("{\"t\":[1,}").is_err());
    }

    #[test]
    fn sentinels_are_recognised_case_insensitively() {
        assert!(is_sentinel("NA"));
        assert!(is_sentinel("n/a"));
        assert!(!is_sentinel("Friday"));
        for t in [
            "UNDEFINED",
            "undefined",
            "undefinedx",
            "Undefine",
            "NULL",
            "-",
            "--",
            "nONe",
            "n/A",
            "é",
            "1754036781.4471935",
        ] {
            assert_eq!(is_trimmed_sentinel(t), old_is_trimmed_sentinel(t), "{t:?}");
        }
    }

    /// The sentinel rule as written before the length shortcut: the
    /// reference for the tests above and below.
    fn old_is_trimmed_sentinel(t: &str) -> bool {
        t.is_empty() || ["na", "n/a", "null", "none", "undefined", "-"].iter().any(|x| t.eq_ignore_ascii_case(x))
    }

    #[test]
    fn the_quick_trim_is_str_trim() {
        let ends = [
            "", "a", "7", "-", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{1c}", "\u{1f}", "\u{7f}", "\u{85}",
            "\u{a0}", "\u{1680}", "\u{2000}", "\u{200a}", "\u{200b}", "\u{2028}", "\u{2029}", "\u{202f}", "\u{205f}",
            "\u{3000}", "\u{feff}", "é", "日", "\0",
        ];
        for a in ends {
            for mid in ["", "x", "na", " n a ", "\u{a0}"] {
                for b in ends {
                    let s = format!("{a}{mid}{b}");
                    assert_eq!(super::trim(&s), s.trim(), "{s:?}");
                    assert_eq!(is_sentinel(&s), old_is_trimmed_sentinel(s.trim()), "{s:?}");
                }
            }
        }
    }
}
