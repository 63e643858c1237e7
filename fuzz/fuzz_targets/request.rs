//! The request decoding path (see `src/request.rs`): API Gateway event JSON
//! → `ApiGatewayRequest` → `IncomingRequest::from_api_gateway` → `delivery()` → parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webhooks_fuzz::request::run(data);
});
