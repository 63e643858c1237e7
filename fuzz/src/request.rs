//! The request decoding path: fuzz bytes → an API Gateway (HTTP API, payload
//! 2.0) event as JSON text → `lambda_http::request::from_str` (what the
//! runtime does with each invocation) → `IncomingRequest::from_lambda` →
//! `delivery()` → the provider's parser.
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
//! Only what a client controls is fuzzed: API Gateway itself guarantees a
//! `rawPath` starting with `/`, a valid `Host` and valid base64 when
//! `isBase64Encoded` is set (raw mode skips events that break these, since
//! `lambda_http` panics on them by design and API Gateway never sends them).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use payloads::ProviderParser;
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use pipeline::request::IncomingRequest;
use serde_json::{Value, json};

pub const TOKEN: &str = "fuzz-token";

const PROVIDERS: [(&str, &dyn ProviderParser); 4] = [
    ("truecaller", &Truecaller),
    ("curious-thing", &CuriousThing),
    ("smartflo", &Smartflo),
    ("wavix", &Wavix),
];

const METHODS: [&str; 4] = ["POST", "GET", "post", "DELETE"];

const URI_UNSAFE: &[u8] = b"\"<>\\^`{|}";

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
    // What can stand in an HTTP request line: visible ASCII as sent,
    // anything else percent-encoded (a space or a newline would end the
    // request line; API Gateway never passes one through). RFC 3986's
    // unsafe characters are encoded too: lambda_http 1.3 panics on a raw
    // `"` in the query ("failed to build request: InvalidUriChar", found by
    // this target, pinned in tests/hostile.rs); encoding them lets the
    // fuzzer get past it to our code.
    let query: String = query
        .iter()
        .map(|&b| if b.is_ascii_graphic() && !URI_UNSAFE.contains(&b) { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect();
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
    let Ok(request) = lambda_http::request::from_str(&event.to_string()) else {
        // lambda_http refuses some events (a header value it cannot hold):
        // the runtime answers those itself, our code never sees them.
        return;
    };
    let incoming = IncomingRequest::from_lambda(request);

    // Decoding is faithful: the body the parser sees is the body sent.
    let expected_body: &[u8] = if base64 { body } else { event["body"].as_str().unwrap_or_default().as_bytes() };
    assert_eq!(incoming.body, expected_body, "the body reaches the parser unchanged");
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

/// The event text itself is fuzzed; events API Gateway cannot send are skipped.
fn raw_mode(parser: &dyn ProviderParser, rest: &[u8]) {
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(event) = serde_json::from_str::<Value>(text) else { return };
    if !api_gateway_could_send(&event) {
        return;
    }
    let Ok(request) = lambda_http::request::from_str(text) else { return };
    let incoming = IncomingRequest::from_lambda(request);
    crate::check_parse(parser, &incoming.delivery());
}

fn api_gateway_could_send(event: &Value) -> bool {
    let base64_ok = match (event.get("isBase64Encoded"), event.get("body")) {
        (Some(Value::Bool(true)), Some(Value::String(body))) => STANDARD.decode(body).is_ok(),
        _ => true,
    };
    let path_ok = match event.get("rawPath") {
        None | Some(Value::Null) => true,
        Some(Value::String(p)) => p.starts_with('/') && p.bytes().all(|b| b.is_ascii_graphic()),
        Some(_) => true,
    };
    let host_ok = [event.pointer("/headers/host"), event.pointer("/requestContext/domainName")].into_iter().all(|h| match h {
        Some(Value::String(h)) => !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'),
        _ => true,
    });
    let proto_ok = match event.pointer("/headers/x-forwarded-proto") {
        Some(Value::String(p)) => p == "https" || p == "http",
        _ => true,
    };
    base64_ok && path_ok && host_ok && proto_ok
}
