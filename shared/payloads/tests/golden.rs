//! Golden results of every recorded event (`events/<provider>/*.json`):
//! what each parser makes of it (the normalised event as stored, the task
//! JSON, the rejection or the decode error), compared with the snapshots in
//! `tests/golden/<provider>.json`. They pin the parsers' behaviour while
//! their insides change for speed (issue 6).
//!
//! Regenerate after a deliberate change of behaviour (and review the diff):
//! `UPDATE_GOLDEN=1 cargo test -p payloads --test golden`.

use std::path::{Path, PathBuf};

use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use payloads::{CallbackTask, ParseContext, ProviderParser};
use serde_json::{Value, json};

#[path = "support/recorded.rs"]
mod recorded;
use recorded::Recorded;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Everything a parser decides for one delivery, as JSON.
fn parse_result(parser: &dyn ProviderParser, recorded: &Recorded) -> Value {
    let ctx = ParseContext::new(recorded.received_at);
    match parser.parse(&recorded.delivery(), &ctx) {
        Err(err) => json!({ "decode_error": format!("{err:?}") }),
        Ok(events) => Value::Array(
            events
                .iter()
                .map(|parsed| match &parsed.outcome {
                    Ok(event) => json!({
                        "raw": parsed.raw,
                        "event": event.to_json(),
                        "callback": format!("{:?}", event.callback),
                        "task": CallbackTask::for_event(event)
                            .map(|task| serde_json::from_str::<Value>(&task.to_json()).expect("task JSON")),
                    }),
                    Err(rejection) => json!({
                        "raw": parsed.raw,
                        "rejection": {
                            "reason": rejection.reason,
                            "detail": rejection.detail,
                            "event_type": rejection.event_type,
                        },
                    }),
                })
                .collect(),
        ),
    }
}

/// Every recorded event of `provider`, by file name, whatever its token.
fn results(provider: &str, parser: &dyn ProviderParser) -> Value {
    let mut out = serde_json::Map::new();
    for path in recorded::files(provider) {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.insert(name, parse_result(parser, &Recorded::load(&path)));
    }
    Value::Object(out)
}

fn check(provider: &str, parser: &dyn ProviderParser) {
    let actual = results(provider, parser);
    let snapshot = root().join("tests/golden").join(format!("{provider}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        std::fs::write(&snapshot, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
        return;
    }
    let text = std::fs::read_to_string(&snapshot).expect("golden snapshot (UPDATE_GOLDEN=1 writes it)");
    let expected: Value = serde_json::from_str(&text).expect("snapshot is JSON");
    let (Value::Object(expected), Value::Object(actual)) = (&expected, &actual) else { unreachable!() };
    assert_eq!(expected.keys().collect::<Vec<_>>(), actual.keys().collect::<Vec<_>>(), "{provider}: recorded events");
    for (name, want) in expected {
        assert_eq!(&actual[name], want, "{provider}/{name} differs from its golden result");
    }
}

#[test]
fn truecaller_events_match_their_golden_results() {
    check("truecaller", &Truecaller);
}

#[test]
fn curious_thing_events_match_their_golden_results() {
    check("curious-thing", &CuriousThing);
}

#[test]
fn smartflo_events_match_their_golden_results() {
    check("smartflo", &Smartflo);
}

#[test]
fn wavix_events_match_their_golden_results() {
    check("wavix", &Wavix);
}
