//! Parser cost per recorded event, next to the floor of reading the same
//! bytes generically (issue 6; figures in docs/performance.md).
//!
//! For every provider and every recorded event in `events/<provider>/*.json`
//! that authenticates and decodes, two benchmarks in the group `<provider>`:
//!
//! - `parse/<event>`: `ProviderParser::parse` (decode + validate + normalise,
//!   phone numbers included) and `CallbackTask::for_event` on each Ok event;
//! - `floor_json/<event>`: `serde_json::from_slice::<serde_json::Value>` of
//!   the same body, or, for Smartflo's GET and form deliveries,
//!   `floor_form/<event>`: the form pairs (`form_urlencoded`) of the body,
//!   or of the query string without `key` when the fields come from there,
//!   collected into a `Vec<(String, String)>`.
//!
//! Deliveries with a wrong or missing token, and those the parser refuses
//! as a whole (400/404/405/415), are skipped: the pipeline never parses
//! the former, and the latter stop at the first error.
//!
//! `scripts/bench-ratio.py` prints the ratio table from criterion's output.
//! Run: `cargo bench -p payloads --bench parsers` (about 4 minutes).
//! Filter: `cargo bench -p payloads --bench parsers -- truecaller/`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use payloads::{CallbackTask, Delivery, ParseContext, PhoneNumber, ProviderParser};
use serde_json::Value;

#[path = "../tests/support/recorded.rs"]
mod recorded;
use recorded::Recorded;

/// What the floor parses for one delivery.
enum Floor {
    Json,
    /// Form pairs of the body.
    FormBody,
    /// Form pairs of the query string (GET, or POST with an empty body).
    FormQuery,
}

impl Floor {
    fn name(&self) -> &'static str {
        match self {
            Floor::Json => "floor_json",
            Floor::FormBody | Floor::FormQuery => "floor_form",
        }
    }
}

impl Recorded {
    fn floor(&self) -> Floor {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            Floor::FormQuery
        } else if self.content_type.as_deref() == Some("application/x-www-form-urlencoded") {
            Floor::FormBody
        } else {
            Floor::Json
        }
    }
}

/// The parser's work for one delivery: parse, then the task decision for
/// each accepted event. Returns a count so nothing is optimised away.
fn parse_and_decide(parser: &dyn ProviderParser, delivery: &Delivery<'_>, ctx: &ParseContext) -> usize {
    match parser.parse(delivery, ctx) {
        Ok(events) => events
            .iter()
            .filter_map(|e| e.outcome.as_ref().ok())
            .map(|event| black_box(CallbackTask::for_event(event)).map_or(1, |_| 2))
            .sum(),
        Err(_) => 0,
    }
}

fn floor_json(body: &[u8]) -> Value {
    serde_json::from_slice::<Value>(body).expect("the floor parses what the parser accepted")
}

fn floor_form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn bench_provider(c: &mut Criterion, provider: &str, parser: &dyn ProviderParser) {
    let expected_token = format!("dev-token-{provider}");

    let mut group = c.benchmark_group(provider);
    for path in recorded::files(provider) {
        let recorded = Recorded::load(&path);
        if recorded.token.as_deref() != Some(expected_token.as_str()) {
            eprintln!("skip {provider}/{}: wrong or missing token", recorded.name);
            continue;
        }
        let ctx = ParseContext::new(recorded.received_at);
        let delivery = recorded.delivery();
        if let Err(err) = parser.parse(&delivery, &ctx) {
            eprintln!("skip {provider}/{}: not decodable ({err})", recorded.name);
            continue;
        }
        let floor = recorded.floor();
        group.throughput(Throughput::Bytes(recorded.body.len().max(recorded.query_string.len()) as u64));
        group.bench_with_input(BenchmarkId::new("parse", &recorded.name), &delivery, |b, delivery| {
            b.iter(|| parse_and_decide(parser, black_box(delivery), black_box(&ctx)))
        });
        group.bench_with_input(BenchmarkId::new(floor.name(), &recorded.name), &recorded, |b, r| match floor {
            Floor::Json => b.iter(|| floor_json(black_box(&r.body))),
            Floor::FormBody => b.iter(|| floor_form(black_box(&r.body))),
            Floor::FormQuery => b.iter(|| floor_form(black_box(r.query_string.as_bytes()))),
        });
    }
    group.finish();
}

/// Where a parser's time goes: phone numbers on the shapes the recorded
/// events carry, and for reference the `phonenumber` crate's steps (the
/// test oracle; no longer used at run time).
fn phone_numbers(c: &mut Criterion) {
    use phonenumber::country::Id;
    PhoneNumber::warm_up();
    let region = payloads::PhoneRegion::INDIA;
    let mut group = c.benchmark_group("phone");
    for raw in [
        "+911234567890", // E.164
        "911234567890",  // Truecaller: country code, no +
        "09876543210",   // national with trunk 0 (Smartflo caller_id_number)
        "910987654321",  // Truecaller's business number: refused after a second reading
        "14155550123",   // Wavix: US without + (invalid in IN, re-read as +1)
    ] {
        group.bench_with_input(BenchmarkId::new("PhoneNumber::parse", raw), raw, |b, raw| {
            b.iter(|| PhoneNumber::parse(black_box(raw), region))
        });
    }
    let raw = "+911234567890";
    group.bench_function(BenchmarkId::new("phonenumber::parse", raw), |b| {
        b.iter(|| phonenumber::parse(Some(Id::IN), black_box(raw)))
    });
    let parsed = phonenumber::parse(Some(Id::IN), raw).expect("a valid number");
    group.bench_function(BenchmarkId::new("phonenumber::is_valid", raw), |b| {
        b.iter(|| phonenumber::is_valid(black_box(&parsed)))
    });
    group.bench_function(BenchmarkId::new("format_e164", raw), |b| {
        b.iter(|| black_box(&parsed).format().mode(phonenumber::Mode::E164).to_string())
    });
    group.finish();
}

/// One-shot costs criterion cannot show: the very first number (cold: the
/// region's patterns compile), the rest of `PhoneNumber::warm_up` (paid at
/// init), and the first number of each further shape or country after it
/// (paid by the first request that carries one).
fn first_use_costs() {
    let timed = |label: &str, raw: &str| {
        let start = Instant::now();
        let ok = PhoneNumber::parse(raw, payloads::PhoneRegion::INDIA).is_ok();
        eprintln!("first use: {label:<44} {:>9.3} ms (ok: {ok})", start.elapsed().as_secs_f64() * 1e3);
    };
    timed("first number, cold (+91 E.164)", "+911234567890");
    let start = Instant::now();
    PhoneNumber::warm_up();
    eprintln!(
        "first use: {:<44} {:>9.3} ms",
        "PhoneNumber::warm_up (after the first number)",
        start.elapsed().as_secs_f64() * 1e3
    );
    timed("+91 again (warm)", "+919876543210");
    timed("+91 national with trunk 0", "09876543210");
    timed("91 without + (Truecaller)", "911234567890");
    timed("91 refused business number", "910987654321");
    timed("first US number, no + (Wavix)", "14155550123");
    timed("US again", "17653889567");
    timed("first AU number", "+61491573087");
    timed("first GB number", "+447946095812");
}

fn parsers(c: &mut Criterion) {
    // Phone patterns compile on first use (a region at a time): the
    // functions warm up at init, so the benchmark does before measuring.
    first_use_costs();
    bench_provider(c, "truecaller", &Truecaller);
    bench_provider(c, "curious-thing", &CuriousThing);
    bench_provider(c, "smartflo", &Smartflo);
    bench_provider(c, "wavix", &Wavix);
}

criterion_group! {
    name = benches;
    // Short runs: ~80 events x 2 benchmarks stay within a few minutes.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
        .without_plots();
    targets = parsers, phone_numbers
}
criterion_main!(benches);
