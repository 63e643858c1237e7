//! The request decoding path (see `src/request.rs`): API Gateway event JSON
//! → lambda_http → `IncomingRequest::from_lambda` → `delivery()` → parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webhooks_fuzz::request::run(data);
});
