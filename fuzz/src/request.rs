//! The request decoding path: fuzz bytes → an API Gateway (HTTP API, payload
//! 2.0) event as JSON text → `ApiGatewayRequest` (what the runtime
//! deserialises each invocation into) → `IncomingRequest::from_api_gateway`
//! → `delivery()` → the provider's parser.
//!
//! Layout:
//!
//! ```text
//! byte 0   bits 0-1 provider, bits 2-3 method, bit 4 base64 body,
//!          bit 5 token in header (else in the query), bit 6 Content-Encoding
//!          header, bit 7 "raw mode": the rest is the event's JSON text itself
//! rest     content-type \0 query string \0 path suffix \0 body
//! ```
//!
//! Only what a client controls is fuzzed in the structured mode; raw mode
//! feeds any JSON text, so events API Gateway would never send are tried
//! too (the decoding path must not panic on them either).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use payloads::ProviderParser;
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use pipeline::request::{ApiGatewayRequest, IncomingRequest};
use serde_json::json;

pub const TOKEN: &str = "fuzz-token";

const PROVIDERS: [(&str, &dyn ProviderParser); 4] = [
    ("truecaller", &Truecaller),
    ("curious-thing", &CuriousThing),
    ("smartflo", &Smartflo),
    ("wavix", &Wavix),
];

const METHODS: [&str; 4] = ["POST", "GET", "post", "DELETE"];

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (route, parser) = PROVIDERS[usize::from(selector & 3)];
    if selector & 0x80 != 0 {
        raw_mode(parser, rest);
        return;
    }
    let method = METHODS[usize::from((selector >> 2) & 3)];
    let base64 = selector & 0x10 != 0;
    let token_in_header = selector & 0x20 != 0;
    let encoding = selector & 0x40 != 0;
    let mut parts = rest.splitn(4, |&b| b == 0);
    let content_type = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let suffix = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let mut headers = serde_json::Map::new();
    headers.insert("host".into(), "abc123.execute-api.ap-south-1.amazonaws.com".into());
    if !content_type.is_empty() {
        headers.insert("content-type".into(), lossy(content_type).into());
    }
    if encoding {
        headers.insert("content-encoding".into(), "gzip".into());
    }
    // What can stand in an HTTP request line: visible ASCII as sent
    // (including `"` and `{`, which API Gateway passes through raw and which
    // made lambda_http 1.3 panic before our own decoding replaced it),
    // anything else percent-encoded: a space or a newline would end the
    // request line.
    let query: String =
        query.iter().map(|&b| if b.is_ascii_graphic() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect();
    let raw_query = if token_in_header {
        headers.insert("x-webhook-token".into(), TOKEN.into());
        query.clone()
    } else if query.is_empty() {
        format!("key={TOKEN}")
    } else {
        format!("key={TOKEN}&{query}")
    };
    // The path as API Gateway gives it: percent-encoded, starting with `/`.
    let suffix: String = form_urlencoded::byte_serialize(suffix).collect();
    let path = if suffix.is_empty() { format!("/webhooks/{route}") } else { format!("/webhooks/{route}/{suffix}") };
    let sent_body = if base64 { STANDARD.encode(body) } else { lossy(body) };
    let event = json!({
        "version": "2.0",
        "routeKey": format!("{method} /webhooks/{route}"),
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.ap-south-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.1", "userAgent": "fuzz"},
            "requestId": "req-fuzz",
            "routeKey": format!("{method} /webhooks/{route}"),
            "stage": "$default",
            "time": "01/Aug/2025:09:00:00 +0000",
            "timeEpoch": 1754038800000u64
        },
        "isBase64Encoded": base64,
        "body": sent_body,
    });
    let mut event = event;
    if route == "smartflo" && !suffix.is_empty() {
        // The `{trigger}` path parameter, as API Gateway decodes it.
        event["pathParameters"] = json!({"trigger": lossy(rest.splitn(4, |&b| b == 0).nth(2).unwrap_or_default())});
    }
    let request: ApiGatewayRequest = serde_json::from_str(&event.to_string()).expect("every API Gateway event reads");
    let incoming = IncomingRequest::from_api_gateway(request);

    // Decoding is faithful: the body the parser sees is the body sent.
    let expected_body: &[u8] = if base64 { body } else { event["body"].as_str().unwrap_or_default().as_bytes() };
    assert_eq!(incoming.body.as_deref(), Some(expected_body), "the body reaches the parser unchanged");
    assert_eq!(incoming.method, method.to_ascii_uppercase());
    // The first `key` query parameter wins over the header.
    let expected_token = form_urlencoded::parse(raw_query.as_bytes())
        .find(|(k, _)| k == pipeline::request::TOKEN_QUERY_PARAM)
        .map(|(_, v)| v.into_owned())
        .or_else(|| token_in_header.then(|| TOKEN.to_owned()));
    assert_eq!(incoming.token, expected_token, "the token is found in the query or the header");
    assert!(incoming.query.iter().all(|(k, _)| k != pipeline::request::TOKEN_QUERY_PARAM), "the token never reaches the parser");
    if let Some(ct) = &incoming.content_type {
        assert!(!ct.is_empty() && !ct.contains(';') && *ct == ct.to_ascii_lowercase() && ct.trim() == ct);
    }
    assert_eq!(incoming.content_encoding.as_deref(), encoding.then_some("gzip"));
    crate::check_parse(parser, &incoming.delivery());
}

/// The event text itself is fuzzed. A JSON object whose fields have the
/// wrong types may be refused by deserialisation (the runtime then reports
/// an invocation error); anything that reads must decode without panicking.
fn raw_mode(parser: &dyn ProviderParser, rest: &[u8]) {
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(request) = serde_json::from_str::<ApiGatewayRequest>(text) else { return };
    let incoming = IncomingRequest::from_api_gateway(request);
    crate::check_parse(parser, &incoming.delivery());
}
