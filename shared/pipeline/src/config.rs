//! Typed configuration from the function's environment (DESIGN.md).

use std::env;

use chrono::FixedOffset;
use payloads::PhoneRegion;

pub const DEFAULT_MAX_BODY_BYTES: usize = 262_144;
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("no webhook token configured: set WEBHOOK_TOKENS_PARAM (or WEBHOOK_TOKENS locally)")]
    NoTokens,
}

/// Where the valid webhook tokens come from.
#[derive(Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// An SSM SecureString parameter, read once at cold start.
    SsmParameter(String),
    /// The tokens themselves (local use only).
    Inline(String),
}

impl std::fmt::Debug for TokenSource {
    // Never print inline tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::SsmParameter(name) => f.debug_tuple("SsmParameter").field(name).finish(),
            TokenSource::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub events_table: String,
    pub callback_queue_url: String,
    pub tokens: TokenSource,
    pub max_body_bytes: usize,
    pub retention_days: u32,
    pub default_region: PhoneRegion,
    /// Zone for provider timestamps without one (Smartflo), `SMARTFLO_UTC_OFFSET`.
    pub local_offset: FixedOffset,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let events_table = get("EVENTS_TABLE").ok_or(ConfigError::Missing("EVENTS_TABLE"))?;
        let callback_queue_url = get("CALLBACK_QUEUE_URL").ok_or(ConfigError::Missing("CALLBACK_QUEUE_URL"))?;
        let tokens = match (get("WEBHOOK_TOKENS_PARAM"), get("WEBHOOK_TOKENS")) {
            (Some(param), _) => TokenSource::SsmParameter(param),
            (None, Some(inline)) => TokenSource::Inline(inline),
            (None, None) => return Err(ConfigError::NoTokens),
        };
        let max_body_bytes = parse_or(get("MAX_BODY_BYTES"), "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)?;
        let retention_days = parse_or(get("EVENT_RETENTION_DAYS"), "EVENT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?;
        if max_body_bytes == 0 || retention_days == 0 {
            return Err(ConfigError::Invalid {
                name: "MAX_BODY_BYTES/EVENT_RETENTION_DAYS",
                why: "must be positive".into(),
            });
        }
        let default_region = match get("DEFAULT_PHONE_REGION") {
            None => PhoneRegion::default(),
            Some(r) => r.parse().map_err(|_| ConfigError::Invalid {
                name: "DEFAULT_PHONE_REGION",
                why: format!("unknown region {r}"),
            })?,
        };
        let local_offset = match get("SMARTFLO_UTC_OFFSET") {
            None => FixedOffset::east_opt(5 * 3600 + 1800).expect("valid offset"),
            Some(o) => parse_offset(&o).ok_or_else(|| ConfigError::Invalid {
                name: "SMARTFLO_UTC_OFFSET",
                why: format!("{o} is not ±HH:MM"),
            })?,
        };
        Ok(Self {
            events_table,
            callback_queue_url,
            tokens,
            max_body_bytes,
            retention_days,
            default_region,
            local_offset,
        })
    }
}

fn parse_or<T: std::str::FromStr>(value: Option<String>, name: &'static str, default: T) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError::Invalid { name, why: format!("{v} is not a number") }),
    }
}

/// `+05:30`, `-03:00`, `Z`, `UTC`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn no_token_configured_refuses_to_start() {
        let err = Config::from_lookup(lookup(&[("EVENTS_TABLE", "t"), ("CALLBACK_QUEUE_URL", "q")])).unwrap_err();
        assert_eq!(err, ConfigError::NoTokens);
    }

    #[test]
    fn the_ssm_parameter_wins_over_inline_tokens_and_defaults_apply() {
        let config = Config::from_lookup(lookup(&[
            ("EVENTS_TABLE", "t"),
            ("CALLBACK_QUEUE_URL", "q"),
            ("WEBHOOK_TOKENS_PARAM", "/p"),
            ("WEBHOOK_TOKENS", "x"),
        ]))
        .unwrap();
        assert_eq!(config.tokens, TokenSource::SsmParameter("/p".into()));
        assert_eq!(config.max_body_bytes, 262_144);
        assert_eq!(config.retention_days, 90);
        assert_eq!(config.local_offset.local_minus_utc(), 19_800);
    }

    #[test]
    fn invalid_numbers_regions_and_offsets_are_reported_by_name() {
        let base = [("EVENTS_TABLE", "t"), ("CALLBACK_QUEUE_URL", "q"), ("WEBHOOK_TOKENS", "x")];
        for (name, value) in
            [("MAX_BODY_BYTES", "lots"), ("DEFAULT_PHONE_REGION", "ZZ"), ("SMARTFLO_UTC_OFFSET", "5:30")]
        {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            assert!(matches!(Config::from_lookup(lookup(&pairs)), Err(ConfigError::Invalid { .. })), "{name}");
        }
    }

    #[test]
    fn inline_tokens_are_never_printed_in_debug_output() {
        assert!(!format!("{:?}", TokenSource::Inline("s3cret".into())).contains("s3cret"));
    }

    #[test]
    fn offsets_parse_in_the_usual_forms() {
        assert_eq!(parse_offset("-03:00").unwrap().local_minus_utc(), -10_800);
        assert_eq!(parse_offset("UTC").unwrap().local_minus_utc(), 0);
        assert!(parse_offset("+25:00").is_none());
    }
}
