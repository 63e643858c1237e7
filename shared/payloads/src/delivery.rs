//! One HTTP delivery as the parsers see it, and what they make of it.

use chrono::{DateTime, FixedOffset, Utc};

use crate::{EventKey, NormalisedEvent, PhoneRegion, Provider};

/// The parts of an HTTP request a provider parser may look at. Built by the
/// pipeline after authentication and body decoding (base64, size limit).
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// The request path (without stage).
    pub path: &'a str,
    /// The `{trigger}` path parameter, when the route has one.
    pub trigger: Option<&'a str>,
    /// Query parameters in order, auth parameter (`key`) already removed.
    pub query: &'a [(String, String)],
    /// Media type, lower case, without parameters (`application/json`).
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Delivery<'_> {
    /// JSON bodies: no content type, `application/json`, `*/*+json` and
    /// `text/plain` (some senders label JSON as text) are accepted.
    pub fn require_json(&self) -> Result<(), DecodeError> {
        match self.content_type {
            None => Ok(()),
            Some(ct)
                if ct == "application/json" || ct == "text/plain" || ct == "text/json" || ct.ends_with("+json") =>
            {
                Ok(())
            }
            Some(other) => Err(DecodeError::UnsupportedContentType(other.to_owned())),
        }
    }

    pub fn require_post(&self) -> Result<(), DecodeError> {
        if self.method == "POST" { Ok(()) } else { Err(DecodeError::MethodNotAllowed(self.method.to_owned())) }
    }
}

/// Settings that shape parsing, fixed at cold start.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    pub default_region: PhoneRegion,
    pub received_at: DateTime<Utc>,
    /// Zone of provider timestamps that carry none (Smartflo's
    /// `2021-08-09 17:58:44`); India (UTC+05:30) by default.
    pub local_offset: FixedOffset,
}

impl ParseContext {
    pub fn new(received_at: DateTime<Utc>) -> Self {
        Self {
            default_region: PhoneRegion::default(),
            received_at,
            local_offset: FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("valid offset"),
        }
    }
}

/// The delivery as a whole cannot be read: nothing is stored.
/// Each variant maps to one HTTP status in the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("body is not valid JSON: {0}")]
    NotJson(String),
    #[error("body has the wrong shape: {0}")]
    WrongShape(String),
    #[error("body is not valid form encoding")]
    BadForm,
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("content type {0} is not accepted")]
    UnsupportedContentType(String),
    #[error("method {0} is not allowed")]
    MethodNotAllowed(String),
    #[error("unknown route {0}")]
    UnknownRoute(String),
}

/// Authentic and decodable, but invalid: stored as a rejected record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Short machine-readable code, used as a metric dimension
    /// (`missing_event_id`, `invalid_timestamp`, ...).
    pub reason: &'static str,
    /// Human-readable detail naming the field; never contains a full value
    /// that could be a phone number or a secret.
    pub detail: String,
    /// The provider's event type, when it could be read.
    pub event_type: Option<String>,
}

impl Rejection {
    pub fn new(reason: &'static str, detail: impl Into<String>) -> Self {
        Self { reason, detail: detail.into(), event_type: None }
    }

    pub fn with_event_type(mut self, event_type: Option<&str>) -> Self {
        self.event_type = event_type.map(str::to_owned);
        self
    }
}

/// One event of a delivery (a delivery may be a batch).
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEvent {
    /// The event's own bytes as received: the whole body, or for a batch
    /// the element's exact JSON text. Stored verbatim as `raw_body`.
    pub raw: String,
    pub outcome: Result<NormalisedEvent, Rejection>,
}

/// A provider's parser: the only provider-specific piece of the pipeline.
pub trait ProviderParser: Send + Sync {
    fn provider(&self) -> Provider;

    /// The methods the provider's route takes (the `Allow` header of a 405).
    fn allowed_methods(&self) -> &'static str {
        "POST"
    }

    /// Reads one delivery into its events, in order.
    fn parse(&self, delivery: &Delivery<'_>, ctx: &ParseContext) -> Result<Vec<ParsedEvent>, DecodeError>;
}

/// Maps a key error to a rejection of the given field.
pub fn key_rejection(field: &str, err: crate::InvalidEventKey) -> Rejection {
    Rejection::new("invalid_event_key", format!("{field}: {err}"))
}

/// Convenience for parsers: a key from one field.
pub fn key_from(field: &str, value: &str) -> Result<EventKey, Rejection> {
    EventKey::parse(value).map_err(|e| key_rejection(field, e))
}
