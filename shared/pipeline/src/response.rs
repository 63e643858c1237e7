//! HTTP responses: the status table of DESIGN.md, in one place.

use std::collections::BTreeMap;

use lambda_http::http::StatusCode;
use payloads::DecodeError;
use serde::{Serialize, Serializer};

/// The answer in API Gateway's HTTP API (payload 2.0) response format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGatewayResponse {
    #[serde(serialize_with = "status_code")]
    pub status_code: StatusCode,
    pub headers: BTreeMap<&'static str, String>,
    pub body: String,
    pub is_base64_encoded: bool,
    /// Always empty; sent because clients of the format (cargo lambda's
    /// emulator, aws_lambda_events) require the field.
    pub cookies: Vec<String>,
}

fn status_code<S: Serializer>(status: &StatusCode, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u16(status.as_u16())
}

impl ApiGatewayResponse {
    /// A JSON answer.
    fn json(status: StatusCode, body: &serde_json::Value) -> Self {
        let headers = BTreeMap::from([("content-type", "application/json".to_owned())]);
        Self { status_code: status, headers, body: body.to_string(), is_base64_encoded: false, cookies: Vec::new() }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.insert(name, value.to_owned());
        self
    }
}

/// Why a delivery was not accepted as a whole.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("token missing or wrong")]
    Unauthorized,
    #[error("body is over the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content encoding {0} is not accepted")]
    UnsupportedEncoding(String),
    /// API Gateway marked the body base64 and it is not.
    #[error("body is marked base64 but does not decode")]
    UndecodableBody,
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A dependency (DynamoDB, SQS) failed; the provider should retry.
    #[error("a dependency failed: {0}")]
    Dependency(String),
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unauthorized => StatusCode::UNAUTHORIZED,
            Failure::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::UnsupportedEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::UndecodableBody => StatusCode::BAD_REQUEST,
            Failure::Decode(err) => match err {
                DecodeError::NotJson(_) | DecodeError::WrongShape(_) | DecodeError::BadForm | DecodeError::NotUtf8 => {
                    StatusCode::BAD_REQUEST
                }
                DecodeError::UnsupportedContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                DecodeError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
                DecodeError::UnknownRoute(_) => StatusCode::NOT_FOUND,
            },
            Failure::Dependency(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// Short code for the body and the logs.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Unauthorized => "unauthorized",
            Failure::PayloadTooLarge { .. } => "payload_too_large",
            Failure::UnsupportedEncoding(_) => "unsupported_media_type",
            Failure::Decode(DecodeError::UnsupportedContentType(_)) => "unsupported_media_type",
            Failure::Decode(DecodeError::MethodNotAllowed(_)) => "method_not_allowed",
            Failure::Decode(DecodeError::UnknownRoute(_)) => "not_found",
            Failure::Decode(_) | Failure::UndecodableBody => "bad_request",
            Failure::Dependency(_) => "unavailable",
        }
    }

    /// What the caller is told. Dependency causes stay in the log.
    fn public_message(&self) -> String {
        match self {
            Failure::Dependency(_) => "a dependency is unavailable; retry later".into(),
            other => other.to_string(),
        }
    }

    /// The response; `allow` is the route's methods, sent with a 405.
    pub fn into_response(self, allow: &str) -> ApiGatewayResponse {
        let body = serde_json::json!({"error": self.code(), "message": self.public_message()});
        let response = ApiGatewayResponse::json(self.status(), &body);
        match self {
            Failure::Decode(DecodeError::MethodNotAllowed(_)) => response.with_header("allow", allow),
            Failure::Dependency(_) => response.with_header("retry-after", "5"),
            _ => response,
        }
    }
}

/// One event's outcome in a 200 (or 422/503) body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventOutcome {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Stored,
    Duplicate,
    Rejected,
    /// Not completed because a dependency failed; the retry completes it.
    Failed,
}

/// The body for a delivery that was read: every event with its outcome.
pub fn events_response(status: StatusCode, events: &[EventOutcome]) -> ApiGatewayResponse {
    let label = match status {
        StatusCode::OK => "accepted",
        StatusCode::UNPROCESSABLE_ENTITY => "rejected",
        _ => "retry",
    };
    let response = ApiGatewayResponse::json(status, &serde_json::json!({"status": label, "events": events}));
    if status == StatusCode::SERVICE_UNAVAILABLE { response.with_header("retry-after", "5") } else { response }
}

#[cfg(test)]
mod tests {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;

    use super::*;

    #[test]
    fn a_response_reads_back_as_api_gateways_payload_2_response() {
        // Arrange
        let response = Failure::Decode(DecodeError::MethodNotAllowed("PUT".into())).into_response("POST");

        // Act
        let json = serde_json::to_string(&response).expect("serialises");
        let read: ApiGatewayV2httpResponse = serde_json::from_str(&json).expect("the payload 2.0 response shape");

        // Assert
        assert_eq!(read.status_code, 405);
        assert_eq!(read.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
        assert_eq!(read.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
        assert!(!read.is_base64_encoded);
        let body: serde_json::Value = match read.body {
            Some(lambda_http::Body::Text(text)) => serde_json::from_str(&text).expect("JSON body"),
            other => panic!("a text body, got {other:?}"),
        };
        assert_eq!(body["error"], "method_not_allowed");
    }
}
