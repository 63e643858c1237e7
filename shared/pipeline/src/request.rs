//! Reads an API Gateway (HTTP API, payload 2.0) request into the parts the
//! pipeline needs: the presented token, and a [`payloads::Delivery`].

use lambda_http::{Body, Request, RequestExt};

/// Query parameter carrying the token (Truecaller's documented method).
pub const TOKEN_QUERY_PARAM: &str = "key";
/// Header carrying the token.
pub const TOKEN_HEADER: &str = "x-webhook-token";

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
    pub body: Vec<u8>,
}

impl IncomingRequest {
    /// lambda_http has already decoded API Gateway's base64 bodies.
    pub fn from_lambda(req: Request) -> Self {
        let method = req.method().as_str().to_ascii_uppercase();
        let path = req.raw_http_path().to_owned();
        let path = if path.is_empty() { req.uri().path().to_owned() } else { path };
        let trigger = req.path_parameters_ref().and_then(|p| p.first("trigger")).map(str::to_owned);
        let mut token = None;
        let mut query = Vec::new();
        if let Some(raw) = req.uri().query() {
            for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
                if k == TOKEN_QUERY_PARAM {
                    token.get_or_insert_with(|| v.into_owned());
                } else {
                    query.push((k.into_owned(), v.into_owned()));
                }
            }
        }
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        if token.is_none() {
            token = header(TOKEN_HEADER).map(str::to_owned);
        }
        let content_type = header("content-type")
            .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .filter(|ct| !ct.is_empty());
        let content_encoding = header("content-encoding").map(str::to_ascii_lowercase);
        let context = req.request_context_ref();
        let (source_ip, request_id) = match context {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
                (ctx.http.source_ip.clone(), ctx.request_id.clone())
            }
            _ => (None, None),
        };
        let body = match req.into_body() {
            Body::Empty => Vec::new(),
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            _ => Vec::new(),
        };
        Self { method, path, trigger, query, token, content_type, content_encoding, source_ip, request_id, body }
    }

    pub fn delivery(&self) -> payloads::Delivery<'_> {
        payloads::Delivery {
            method: &self.method,
            path: &self.path,
            trigger: self.trigger.as_deref(),
            query: &self.query,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}
