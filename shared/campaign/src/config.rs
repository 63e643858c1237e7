//! Typed configuration from the environment, checked once at cold start.

use std::fmt;
use std::time::Duration;

use hyper::Uri;

use crate::templates::Templates;

/// Where the org token comes from.
#[derive(Clone)]
pub enum OrgTokenSource {
    /// `TRUECALLER_ORG_TOKEN_PARAM`: an SSM SecureString parameter name.
    SsmParameter(String),
    /// `TRUECALLER_ORG_TOKEN`: the token itself (local use only).
    Inline(OrgToken),
}

impl fmt::Debug for OrgTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgTokenSource::SsmParameter(name) => f.debug_tuple("SsmParameter").field(name).finish(),
            OrgTokenSource::Inline(_) => f.write_str("Inline(<redacted>)"),
        }
    }
}

/// The `X-Org-Token` value. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct OrgToken(String);

impl OrgToken {
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into().trim().to_owned();
        (!token.is_empty()).then_some(Self(token))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OrgToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OrgToken(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("one of TRUECALLER_ORG_TOKEN_PARAM (SSM SecureString) or TRUECALLER_ORG_TOKEN (local only) is required")]
    NoToken,
    #[error("CAMPAIGN_TEMPLATES is invalid:\n{}", .0.join("\n"))]
    Templates(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub events_table: String,
    pub dlq_url: String,
    pub endpoint: Uri,
    pub org_id: String,
    pub token: OrgTokenSource,
    pub templates: Templates,
    /// One HTTP attempt: connect, send, and read the answer.
    pub http_timeout: Duration,
    /// HTTP attempts per record per invocation (5xx, 408, 429, timeouts).
    pub http_attempts: u32,
    /// Backoff before the second attempt; doubled after each.
    pub backoff: Duration,
    /// How long a claimed push is reserved for its invocation.
    pub lease: Duration,
    /// Invocations that may try a task before it is dead-lettered as
    /// `retries_exhausted`.
    pub max_deliveries: u32,
    /// TTL of the campaign record (`expires_at`).
    pub retention_days: i64,
}

/// Longest a live invocation may hold a claim besides its HTTP attempts:
/// three DynamoDB/SQS calls at the SDK's 6 s operation timeout.
const CLAIM_OVERHEAD: Duration = Duration::from_secs(18);

impl CampaignConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |name: &'static str| get(name).ok_or(ConfigError::Missing(name));
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => {
                    v.parse().map_err(|_| ConfigError::Invalid { name, reason: format!("{v:?} is not a number") })
                }
            }
        };

        let endpoint = endpoint(&required("TRUECALLER_CAMPAIGN_URL")?)?;
        let token = match (get("TRUECALLER_ORG_TOKEN_PARAM"), lookup("TRUECALLER_ORG_TOKEN").and_then(OrgToken::new)) {
            (Some(name), _) => OrgTokenSource::SsmParameter(name),
            (None, Some(token)) => OrgTokenSource::Inline(token),
            (None, None) => return Err(ConfigError::NoToken),
        };
        let templates = Templates::from_json(&required("CAMPAIGN_TEMPLATES")?).map_err(ConfigError::Templates)?;
        let http_attempts = number("CAMPAIGN_HTTP_ATTEMPTS", 3)?.clamp(1, 10) as u32;
        let http_timeout = Duration::from_millis(number("CAMPAIGN_HTTP_TIMEOUT_MS", 5_000)?.max(100));
        let backoff = Duration::from_millis(number("CAMPAIGN_BACKOFF_MS", 200)?);
        let lease = Duration::from_secs(number("CAMPAIGN_LEASE_SECONDS", 120)?);
        let config = Self {
            events_table: required("EVENTS_TABLE")?,
            dlq_url: required("CAMPAIGN_DLQ_URL")?,
            endpoint,
            org_id: required("TRUECALLER_ORG_ID")?,
            token,
            templates,
            http_timeout,
            http_attempts,
            backoff,
            lease,
            max_deliveries: number("CAMPAIGN_MAX_DELIVERIES", 5)?.max(1) as u32,
            retention_days: number("EVENT_RETENTION_DAYS", 90)? as i64,
        };
        if config.lease < config.longest_hold() {
            return Err(ConfigError::Invalid {
                name: "CAMPAIGN_LEASE_SECONDS",
                reason: format!(
                    "a lease of {} s is shorter than one push may take ({} s: attempts x timeout + backoff + store calls)",
                    config.lease.as_secs(),
                    config.longest_hold().as_secs_f64().ceil()
                ),
            });
        }
        Ok(config)
    }

    /// The longest a live invocation may hold a claim: every HTTP attempt
    /// timing out, every backoff, and the store calls. A lease longer than
    /// this expires only when its holder is gone.
    pub fn longest_hold(&self) -> Duration {
        let backoffs: Duration = (0..self.http_attempts.saturating_sub(1)).map(|i| self.backoff * 2u32.pow(i)).sum();
        self.http_timeout * self.http_attempts + backoffs * 3 / 2 + CLAIM_OVERHEAD
    }
}

/// The campaign endpoint: `https://` only, except plain `http://` to the
/// loopback interface (the local stand-in in tests and `cargo lambda`).
fn endpoint(url: &str) -> Result<Uri, ConfigError> {
    let name = "TRUECALLER_CAMPAIGN_URL";
    let uri: Uri = url.parse().map_err(|e| ConfigError::Invalid { name, reason: format!("not a URL: {e}") })?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(uri),
        Some("http") if ["127.0.0.1", "localhost", "[::1]", "::1"].contains(&host) => Ok(uri),
        _ => Err(ConfigError::Invalid { name, reason: "must be an https:// URL".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(overrides: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut vars: Vec<(String, String)> = vec![
            ("EVENTS_TABLE".into(), "events".into()),
            ("CAMPAIGN_DLQ_URL".into(), "https://sqs.example/campaign-dlq".into()),
            ("TRUECALLER_CAMPAIGN_URL".into(), "https://campaigns.example.com/webhook".into()),
            ("TRUECALLER_ORG_ID".into(), "org-1".into()),
            ("TRUECALLER_ORG_TOKEN".into(), "secret-token".into()),
            ("CAMPAIGN_TEMPLATES".into(), "{}".into()),
        ];
        for (k, v) in overrides {
            vars.retain(|(name, _)| name != k);
            vars.push(((*k).into(), (*v).into()));
        }
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn defaults_hold_and_the_token_never_prints() {
        let config = CampaignConfig::from_lookup(env(&[])).expect("valid");
        assert_eq!(config.http_attempts, 3);
        assert_eq!(config.lease, Duration::from_secs(120));
        assert!(config.lease > config.longest_hold());
        assert!(!format!("{config:?}").contains("secret-token"));
    }

    #[test]
    fn the_parameter_wins_over_an_inline_token_and_none_refuses_to_start() {
        let config = CampaignConfig::from_lookup(env(&[("TRUECALLER_ORG_TOKEN_PARAM", "/tc/org-token")])).unwrap();
        assert!(matches!(config.token, OrgTokenSource::SsmParameter(ref n) if n == "/tc/org-token"));
        let err = CampaignConfig::from_lookup(env(&[("TRUECALLER_ORG_TOKEN", " ")])).unwrap_err();
        assert!(matches!(err, ConfigError::NoToken));
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        assert!(CampaignConfig::from_lookup(env(&[("TRUECALLER_CAMPAIGN_URL", "http://127.0.0.1:9000/c")])).is_ok());
        let err = CampaignConfig::from_lookup(env(&[("TRUECALLER_CAMPAIGN_URL", "http://example.com/c")])).unwrap_err();
        assert!(err.to_string().contains("https"));
    }

    #[test]
    fn a_lease_shorter_than_one_push_is_refused() {
        let err = CampaignConfig::from_lookup(env(&[("CAMPAIGN_LEASE_SECONDS", "10")])).unwrap_err();
        assert!(err.to_string().contains("CAMPAIGN_LEASE_SECONDS"), "{err}");
    }

    #[test]
    fn missing_settings_are_named() {
        let err = CampaignConfig::from_lookup(env(&[("CAMPAIGN_DLQ_URL", "")])).unwrap_err();
        assert_eq!(err.to_string(), "CAMPAIGN_DLQ_URL is required");
    }
}
