//! Lenient readers for fields providers are known to vary: strings that
//! arrive as numbers, `null` vs `""`, sentinels such as `"NA"`.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Any JSON scalar as trimmed text; `null`, `""` and whitespace are absent.
/// Objects and arrays are absent too (a wrong shape is not a value).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(&Value::deserialize(d)?))
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

/// `true`/`false`, `"true"`/`"false"`, `1`/`0`, `"yes"`/`"no"`; anything
/// else is absent.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "y" => Some(true),
            "false" | "0" | "no" | "n" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// True for values providers use to mean "no value".
pub fn is_sentinel(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || ["na", "n/a", "null", "none", "undefined", "-"].iter().any(|x| s.eq_ignore_ascii_case(x))
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
    let s = s.trim();
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

    #[test]
    fn sentinels_are_recognised_case_insensitively() {
        assert!(is_sentinel("NA"));
        assert!(is_sentinel("n/a"));
        assert!(!is_sentinel("Friday"));
    }
}
