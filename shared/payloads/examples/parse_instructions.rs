//! Instructions per parse and per floor, for `valgrind --tool=callgrind`
//! (deterministic, unlike wall time on a shared machine; issue 6).
//!
//! For every recorded event the parser bench measures (same skips, same
//! floor), runs `ProviderParser::parse` + `CallbackTask::for_event` N times
//! inside `measured_parse`, then the floor N times inside `measured_floor`,
//! after one untimed parse so first-use costs (phone patterns compiling)
//! stay out. Prints one line per measured loop, in call order, for
//! `scripts/parse-instructions.py`, which runs this under callgrind with a
//! dump after each `checkpoint` and each `measured_*` call, so every
//! second dump is one loop alone.
//!
//! Run: `python3 scripts/parse-instructions.py [--filter SUBSTRING]`.
//! Alone (no valgrind) it is a quick check that every event still parses:
//! `cargo run --profile bench -p payloads --example parse_instructions -- 1`.

use std::hint::black_box;

use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use payloads::{CallbackTask, Delivery, ParseContext, PhoneNumber, ProviderParser};

#[path = "../tests/support/recorded.rs"]
mod recorded;
use recorded::Recorded;

/// Marks the start of a measured loop: callgrind dumps after it, so the
/// dump after the loop holds the loop alone.
#[inline(never)]
fn checkpoint() {
    black_box(());
}

#[inline(never)]
fn measured_parse(parser: &dyn ProviderParser, delivery: &Delivery<'_>, ctx: &ParseContext, n: usize) -> usize {
    let mut count = 0;
    for _ in 0..n {
        if let Ok(events) = parser.parse(black_box(delivery), black_box(ctx)) {
            for event in events.iter().filter_map(|e| e.outcome.as_ref().ok()) {
                count += black_box(CallbackTask::for_event(event)).map_or(1, |_| 2);
            }
        }
    }
    count
}

#[inline(never)]
fn measured_floor(recorded: &Recorded, n: usize) -> usize {
    let mut count = 0;
    for _ in 0..n {
        count += if recorded.body.iter().all(u8::is_ascii_whitespace) {
            let pairs: Vec<(String, String)> =
                form_urlencoded::parse(black_box(recorded.query_string.as_bytes())).into_owned().collect();
            black_box(pairs).len()
        } else if recorded.content_type.as_deref() == Some("application/x-www-form-urlencoded") {
            let pairs: Vec<(String, String)> = form_urlencoded::parse(black_box(&recorded.body)).into_owned().collect();
            black_box(pairs).len()
        } else {
            let value: serde_json::Value = serde_json::from_slice(black_box(&recorded.body)).expect("floor parses");
            usize::from(black_box(value).is_object())
        };
    }
    count
}

fn floor_kind(recorded: &Recorded) -> &'static str {
    let form = recorded.body.iter().all(u8::is_ascii_whitespace)
        || recorded.content_type.as_deref() == Some("application/x-www-form-urlencoded");
    if form { "form" } else { "json" }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100, |a| a.parse().expect("N: iterations per loop"));
    let filter = args.next().unwrap_or_default();
    PhoneNumber::warm_up();
    let parsers: [(&str, &dyn ProviderParser); 4] =
        [("truecaller", &Truecaller), ("curious-thing", &CuriousThing), ("smartflo", &Smartflo), ("wavix", &Wavix)];
    for (provider, parser) in parsers {
        let expected_token = format!("dev-token-{provider}");
        for path in recorded::files(provider) {
            let recorded = Recorded::load(&path);
            let id = format!("{provider}/{}", recorded.name);
            if !id.contains(&filter) || recorded.token.as_deref() != Some(expected_token.as_str()) {
                continue;
            }
            let ctx = ParseContext::new(recorded.received_at);
            let delivery = recorded.delivery();
            if parser.parse(&delivery, &ctx).is_err() {
                continue;
            }
            let kind = floor_kind(&recorded);
            println!("{id} parse {n}");
            checkpoint();
            black_box(measured_parse(parser, &delivery, &ctx, n));
            println!("{id} floor_{kind} {n}");
            checkpoint();
            black_box(measured_floor(&recorded, n));
        }
    }
}
