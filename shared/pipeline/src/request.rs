//! Reads an API Gateway (HTTP API, payload format 2.0) event into the parts
//! the pipeline needs: the presented token, and a [`payloads::Delivery`].
//!
//! The event is deserialised into [`ApiGatewayRequest`], our own narrow
//! type, instead of going through `lambda_http`'s conversion to
//! `http::Request`: that conversion panics on query strings API Gateway
//! does pass through (a raw `"` in `rawQueryString` fails `http::Uri`), which
//! turned a bad delivery into a 500 the provider retries. It is also the
//! cheaper path: only the fields below are read, nothing is re-parsed.

use std::collections::HashMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer};

/// Query parameter carrying the token (Truecaller's documented method).
pub const TOKEN_QUERY_PARAM: &str = "key";
/// Header carrying the token.
pub const TOKEN_HEADER: &str = "x-webhook-token";

/// The fields of an HTTP API (payload 2.0) event the pipeline reads. Every
/// field is optional and `null` reads as absent: a strange event becomes a
/// 4xx from the pipeline, never a runtime error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ApiGatewayRequest {
    #[serde(deserialize_with = "nullable")]
    pub raw_path: String,
    #[serde(deserialize_with = "nullable")]
    pub raw_query_string: String,
    /// API Gateway joins repeated headers with commas; names are matched
    /// case-insensitively.
    #[serde(deserialize_with = "nullable")]
    pub headers: HashMap<String, String>,
    #[serde(deserialize_with = "nullable")]
    pub path_parameters: HashMap<String, String>,
    pub body: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub is_base64_encoded: bool,
    #[serde(deserialize_with = "nullable")]
    pub request_context: RequestContext,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub http: HttpContext,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpContext {
    #[serde(deserialize_with = "nullable")]
    pub method: String,
    #[serde(deserialize_with = "nullable")]
    pub path: String,
    pub source_ip: Option<String>,
}

/// `null` reads as the type's default.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(deserializer: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl ApiGatewayRequest {
    /// A header's value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// The body's bytes; `None` when API Gateway said base64 and it is not.
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        let body = self.body.as_deref().unwrap_or_default();
        if self.is_base64_encoded {
            base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()
        } else {
            Some(body.as_bytes().to_vec())
        }
    }
}

/// The owned parts of a request; a [`payloads::Delivery`] borrows from it.
#[derive(Debug)]
pub struct IncomingRequest {
    pub method: String,
    pub path: String,
    pub trigger: Option<String>,
    /// Query parameters in order, without the token parameter.
    pub query: Vec<(String, String)>,
    pub token: Option<String>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub source_ip: Option<String>,
    pub request_id: Option<String>,
    /// `None` when the event's base64 body does not decode.
    pub body: Option<Vec<u8>>,
}

impl IncomingRequest {
    pub fn from_api_gateway(event: ApiGatewayRequest) -> Self {
        let method = event.request_context.http.method.to_ascii_uppercase();
        let path = if event.raw_path.is_empty() { &event.request_context.http.path } else { &event.raw_path };
        let path = path.clone();
        let trigger = event.path_parameters.get("trigger").cloned();
        let mut token = None;
        let mut query = Vec::new();
        // form_urlencoded takes any bytes: quotes, spaces, bad escapes.
        for (k, v) in form_urlencoded::parse(event.raw_query_string.as_bytes()) {
            if k == TOKEN_QUERY_PARAM {
                token.get_or_insert_with(|| v.into_owned());
            } else {
                query.push((k.into_owned(), v.into_owned()));
            }
        }
        let header = |name: &str| event.header(name).map(str::trim);
        if token.is_none() {
            token = header(TOKEN_HEADER).map(str::to_owned);
        }
        let content_type = header("content-type")
            .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .filter(|ct| !ct.is_empty());
        let content_encoding = header("content-encoding").map(str::to_ascii_lowercase);
        let body = event.body_bytes();
        let RequestContext { request_id, http } = event.request_context;
        Self {
            method,
            path,
            trigger,
            query,
            token,
            content_type,
            content_encoding,
            source_ip: http.source_ip,
            request_id,
            body,
        }
    }

    pub fn delivery(&self) -> payloads::Delivery<'_> {
        payloads::Delivery {
            method: &self.method,
            path: &self.path,
            trigger: self.trigger.as_deref(),
            query: &self.query,
            content_type: self.content_type.as_deref(),
            body: self.body.as_deref().unwrap_or_default(),
        }
    }
}
