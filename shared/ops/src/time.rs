//! Times on the command line: RFC 3339, a date (midnight UTC), or an age
//! (`90s`, `30m`, `2h`, `1d`: that long before now).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::error::OpsError;

pub fn parse_time(flag: &'static str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, OpsError> {
    let bad = || OpsError::BadTime { flag, value: value.to_owned() };
    let v = value.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(v) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc());
    }
    let split = v.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = v.split_at(split);
    let number: i64 = number.parse().map_err(|_| bad())?;
    let age = match unit {
        "s" => TimeDelta::try_seconds(number),
        "m" => TimeDelta::try_minutes(number),
        "h" => TimeDelta::try_hours(number),
        "d" => TimeDelta::try_days(number),
        _ => None,
    }
    .ok_or_else(bad)?;
    now.checked_sub_signed(age).ok_or_else(bad)
}

/// Reads a stored RFC 3339 attribute.
pub fn stored_time(value: Option<&str>) -> Option<DateTime<Utc>> {
    value.and_then(|v| DateTime::parse_from_rfc3339(v).ok()).map(|at| at.with_timezone(&Utc))
}

/// `3m 20s ago`, for humans.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let (sign, secs) = if secs < 0 { ("in ", -secs) } else { ("", secs) };
    let text = match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7_200 => format!("{}m {}s", s / 60, s % 60),
        s if s < 172_800 => format!("{}h {}m", s / 3_600, (s % 3_600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3_600),
    };
    if sign.is_empty() { format!("{text} ago") } else { format!("{sign}{text}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T03:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn times_read_as_rfc3339_dates_or_ages() {
        assert_eq!(
            parse_time("--since", "2026-12-07T01:30:00+05:30", now()).unwrap().to_rfc3339(),
            "2026-12-06T20:00:00+00:00"
        );
        assert_eq!(parse_time("--since", "2026-12-06", now()).unwrap().to_rfc3339(), "2026-12-06T00:00:00+00:00");
        assert_eq!(parse_time("--since", "90m", now()).unwrap().to_rfc3339(), "2026-12-07T01:30:00+00:00");
        assert_eq!(parse_time("--since", "1d", now()).unwrap().to_rfc3339(), "2026-12-06T03:00:00+00:00");
    }

    #[test]
    fn a_malformed_time_names_the_flag_and_the_value() {
        for value in ["yesterday", "2026-13-01", "5 minutes", "m", "10y", "99999999999999999999d"] {
            let err = parse_time("--until", value, now()).unwrap_err().to_string();
            assert!(err.starts_with("--until: "), "{err}");
            assert!(err.contains(value), "{err}");
        }
    }

    #[test]
    fn ages_read_for_humans() {
        let now = now();
        assert_eq!(ago(now - TimeDelta::seconds(42), now), "42s ago");
        assert_eq!(ago(now - TimeDelta::minutes(12), now), "12m 0s ago");
        assert_eq!(ago(now - TimeDelta::days(3), now), "3d 0h ago");
    }
}
