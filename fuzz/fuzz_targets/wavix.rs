//! The Wavix parser on arbitrary deliveries (see `src/lib.rs` for the
//! input layout): no panic, and every invariant of `check_parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webhooks_fuzz::run(&payloads::providers::Wavix, "/webhooks/wavix", data);
});
