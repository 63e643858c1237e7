//! Smartflo's timestamps: zone-less local times, ISO 8601, epoch seconds.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::fields::Fields;
use super::keys::Spellings;
use crate::Rejection;
use crate::lenient::epoch_seconds;

/// Builds the rejection of an event (its trigger already filled in).
pub(super) type Reject<'r> = &'r dyn Fn(&'static str, String) -> Rejection;

/// Smartflo's zone-less `2021-08-09 17:58:44` (read in `tz`, India by
/// default), ISO 8601 / RFC 3339 with a zone, epoch seconds (or
/// milliseconds), and a bare date (midnight in `tz`).
pub fn parse_time(raw: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch_seconds(s).ok();
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Some(at.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(at) = DateTime::parse_from_str(s, fmt) {
            return Some(at.with_timezone(&Utc));
        }
    }
    if let Some(naive) = s.strip_suffix(" UTC").or_else(|| s.strip_suffix(" GMT")) {
        return naive_local(naive, FixedOffset::east_opt(0)?);
    }
    if let Some(naive) = s.strip_suffix(" IST") {
        return naive_local(naive, FixedOffset::east_opt(5 * 3600 + 1800)?);
    }
    naive_local(s, tz)
}

fn naive_local(s: &str, tz: FixedOffset) -> Option<DateTime<Utc>> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            return tz.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc));
        }
    }
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    tz.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).single().map(|at| at.with_timezone(&Utc))
}

/// A time that decides the event's meaning: present but unreadable rejects
/// the event, naming only the field (never its value).
pub(super) fn strict_time(s: &str, tz: FixedOffset, field: &str, reject: Reject) -> Result<DateTime<Utc>, Rejection> {
    parse_time(s, tz).ok_or_else(|| reject("invalid_timestamp", format!("{field} is not a recognised timestamp")))
}

/// A stamp under `stamp`, or else a date and a time sent apart
/// (`start_date` `2021-08-09` + `start_time` `16:12:00`); strict.
pub(super) fn stamp_or_split(
    fields: &Fields<'_>,
    (stamp, stamp_key): (Spellings, &str),
    (date, date_key): (Spellings, &str),
    (time, time_key): (Spellings, &str),
    tz: FixedOffset,
    reject: Reject,
) -> Result<Option<DateTime<Utc>>, Rejection> {
    if let Some(s) = fields.text(stamp) {
        return strict_time(s, tz, stamp_key, reject).map(Some);
    }
    match (fields.text(date), fields.text(time)) {
        (Some(d), Some(t)) => parse_time(&format!("{d} {t}"), tz)
            .map(Some)
            .ok_or_else(|| reject("invalid_timestamp", format!("{date_key}/{time_key} is not a recognised timestamp"))),
        _ => Ok(None),
    }
}
