//! Hostile input, end to end: a table of malformed, oversized, mistyped and
//! mislabelled deliveries for every provider, through the real pipeline
//! against moto.
//!
//! Every case asserts its documented status (DESIGN.md's status table) and
//! that nothing panics (each case runs in its own task, a panic is reported
//! by case name). Then the table and the queue are reconciled against every
//! answer, so nothing is lost and nothing is invented:
//!
//! - every event a 200 or 422 lists has its record: `{provider}#{key}` for
//!   stored and duplicate events, a rejected record
//!   `{provider}#rejected#{sha256 of the raw body}` holding the raw body for
//!   rejected ones;
//! - every record in the table was announced by some 200/422 answer, and no
//!   record holds the body of a case answered with another 4xx;
//! - every queued task belongs to a case derived from a recorded event that
//!   gives a task, goes to a number that recorded event carries, and is
//!   queued once; every task a 200 announces for a newly stored event is on
//!   the queue.
//!
//! Wrong-type cases are generated from the recorded events: each field of
//! the JSON body (at every depth) replaced in turn by a number, an object,
//! an array, null and a boolean.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use e2e::{Answer, Stack, deliver, fixture_text, report};
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use pipeline::{DynamoEventStore, Pipeline, SqsTaskQueue};
use serde_json::{Value, json};
use sha2::Digest;

const LIMIT: usize = 262_144;

/// What a case may be answered.
#[derive(Debug, Clone)]
enum Expect {
    Status(u16),
    /// Decodable JSON whose verdict depends on the field: accepted or
    /// rejected, never undecodable, never a retry.
    Verdict,
}

impl Expect {
    fn allows(&self, status: u16) -> bool {
        match self {
            Expect::Status(s) => *s == status,
            Expect::Verdict => status == 200 || status == 422,
        }
    }
}

struct Case {
    provider: &'static str,
    name: String,
    /// The recorded event the case was derived from.
    base: &'static str,
    event: Value,
    /// The body as the pipeline sees it (after base64).
    body: Vec<u8>,
    /// What a rejected record of the whole delivery holds: the body, or for
    /// a Smartflo GET the query re-encoded (here: empty).
    stored_as: Vec<u8>,
    expect: Expect,
}

/// A recorded event chosen as a base, and what it gives untouched.
struct Base {
    provider: &'static str,
    fixture: &'static str,
    gives_task: bool,
    /// Top-level fields any wrong value of which must be rejected (422).
    identity: &'static [&'static str],
    /// A field kept in the normalised event (for the huge-value case).
    kept_text: &'static str,
}

const BASES: &[Base] = &[
    Base {
        provider: "truecaller",
        fixture: "truecaller/cmb-happy-flow.json",
        gives_task: true,
        identity: &["event_id"],
        kept_text: "/cmb_payload/feature_set",
    },
    Base {
        provider: "truecaller",
        fixture: "truecaller/user-feedback.json",
        gives_task: false,
        identity: &["event_id"],
        kept_text: "/survey_payload/name",
    },
    Base {
        provider: "curious-thing",
        fixture: "curious-thing/call-complete-human-requested.json",
        gives_task: true,
        identity: &[],
        kept_text: "/0/data/campaignId",
    },
    Base {
        provider: "curious-thing",
        fixture: "curious-thing/call-attempted.json",
        gives_task: false,
        identity: &[],
        kept_text: "/0/data/note",
    },
    Base {
        provider: "smartflo",
        fixture: "smartflo/call-hangup-missed.json",
        gives_task: true,
        identity: &[],
        kept_text: "/hangup_cause",
    },
    Base {
        provider: "smartflo",
        fixture: "smartflo/call-hangup-answered.json",
        gives_task: false,
        identity: &[],
        kept_text: "/hangup_cause",
    },
    Base {
        provider: "wavix",
        fixture: "wavix/post-call-inbound-missed-noanswer.json",
        gives_task: true,
        identity: &["uuid"],
        kept_text: "/destination",
    },
    Base {
        provider: "wavix",
        fixture: "wavix/on-call-answered.json",
        gives_task: false,
        identity: &["uuid"],
        kept_text: "/tag",
    },
];

const SMARTFLO_FORM: &str = "smartflo/call-hangup-missed-form-body.json";

fn recorded(fixture: &str) -> Value {
    serde_json::from_str(&fixture_text(fixture)).expect("fixture JSON")
}

fn recorded_body(fixture: &str) -> Vec<u8> {
    let event = recorded(fixture);
    let body = event["body"].as_str().unwrap_or_default();
    if event["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD.decode(body).expect("base64 body")
    } else {
        body.as_bytes().to_vec()
    }
}

/// The recorded event with another body (base64 when it is not UTF-8, as
/// API Gateway does) and header changes (`None` removes a header).
fn with_body(fixture: &str, body: &[u8], headers: &[(&str, Option<&str>)]) -> Value {
    let mut event = recorded(fixture);
    match std::str::from_utf8(body) {
        Ok(text) => {
            event["body"] = text.into();
            event["isBase64Encoded"] = false.into();
        }
        Err(_) => {
            event["body"] = base64::engine::general_purpose::STANDARD.encode(body).into();
            event["isBase64Encoded"] = true.into();
        }
    }
    let map = event["headers"].as_object_mut().expect("headers");
    for (name, value) in headers {
        match value {
            Some(v) => map.insert((*name).to_owned(), (*v).into()),
            None => map.remove(*name),
        };
    }
    event
}

/// Every JSON pointer in a value (objects' members and arrays' elements, at
/// every depth), parents before children.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

fn nulls_everywhere(value: &mut Value) {
    match value {
        Value::Object(map) => map.values_mut().for_each(nulls_everywhere),
        Value::Array(items) => items.iter_mut().for_each(nulls_everywhere),
        leaf => *leaf = Value::Null,
    }
}

/// A gzip member holding `data` in one stored (uncompressed) deflate block.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut crc: u32 = !0;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    let len = u16::try_from(data.len()).expect("small body");
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&(!crc).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn pad_to(body: &[u8], len: usize) -> Vec<u8> {
    let mut padded = body.to_vec();
    padded.resize(len, b' ');
    padded
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mk = |base: &Base, name: String, body: Vec<u8>, headers: &[(&str, Option<&str>)], expect: Expect| {
        let event = with_body(base.fixture, &body, headers);
        Case {
            provider: base.provider,
            name: format!("{}: {name}", base.fixture),
            base: base.fixture,
            event,
            stored_as: body.clone(),
            body,
            expect,
        }
    };
    for base in BASES {
        let body = recorded_body(base.fixture);
        let text = String::from_utf8(body.clone()).expect("UTF-8 fixture");
        let json: Value = serde_json::from_str(&text).expect("JSON fixture");
        let batch = base.provider == "curious-thing";
        let ok = Expect::Status(200);
        let bad = Expect::Status(400);

        cases.push(mk(base, "as recorded".into(), body.clone(), &[], ok.clone()));
        cases.push(mk(
            base,
            "text/plain label".into(),
            body.clone(),
            &[("content-type", Some("text/plain; charset=utf-8"))],
            ok.clone(),
        ));
        cases.push(mk(base, "no content type".into(), body.clone(), &[("content-type", None)], ok.clone()));
        cases.push(mk(
            base,
            "Content-Encoding: identity".into(),
            body.clone(),
            &[("content-encoding", Some("identity"))],
            ok.clone(),
        ));

        // Truncated and deeply nested JSON.
        cases.push(mk(base, "truncated in half".into(), text.as_bytes()[..text.len() / 2].to_vec(), &[], bad.clone()));
        cases.push(mk(
            base,
            "last brace missing".into(),
            text.trim_end().as_bytes()[..text.trim_end().len() - 1].to_vec(),
            &[],
            bad.clone(),
        ));
        cases.push(mk(base, "10 000 [".into(), "[".repeat(10_000).into_bytes(), &[], bad.clone()));
        let deep_array = if batch { Expect::Status(422) } else { bad.clone() };
        cases.push(mk(
            base,
            "10 000 nested arrays, closed".into(),
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes(),
            &[],
            deep_array,
        ));
        // Valid JSON nested beyond serde_json's 128 levels: undecodable where
        // the body is decoded whole (Wavix, Smartflo), an invalid element of
        // a batch (Curious Thing), an envelope without its fields (Truecaller,
        // whose decoder skips unknown members without a depth limit).
        let deep_object = match base.provider {
            "truecaller" => Expect::Status(422),
            "curious-thing" => Expect::Status(422),
            _ => bad.clone(),
        };
        cases.push(mk(
            base,
            "10 000 nested objects".into(),
            format!("{}1{}", "{\"a\":".repeat(10_000), "}".repeat(10_000)).into_bytes(),
            &[],
            deep_object,
        ));
        let mut deep = json.clone();
        let target = if batch { &mut deep[0] } else { &mut deep };
        target["deep"] = json!("PLACEHOLDER");
        let deep =
            deep.to_string().replace("\"PLACEHOLDER\"", &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)));
        let deep_member = match base.provider {
            // An unknown member is skipped, not decoded: the event stands.
            "truecaller" => Expect::Status(200),
            "curious-thing" => Expect::Status(422),
            _ => bad.clone(),
        };
        cases.push(mk(base, "10 000 nested arrays inside the event".into(), deep.into_bytes(), &[], deep_member));

        // Invalid UTF-8: raw bytes in a string, and a lone surrogate escape.
        let quote = text.find(":").and_then(|i| text[i..].find('"').map(|j| i + j + 1)).expect("a string value");
        let mut invalid = body.clone();
        invalid.splice(quote..quote, [0xff, 0xfe, 0xc3]);
        cases.push(mk(base, "invalid UTF-8 in a string".into(), invalid, &[], bad.clone()));
        let mut latin1 = body.clone();
        latin1.extend_from_slice(b" \xe9");
        cases.push(mk(base, "Latin-1 byte after the JSON".into(), latin1, &[], bad.clone()));
        let surrogate = if batch { Expect::Status(422) } else { bad.clone() };
        cases.push(mk(
            base,
            "lone surrogate escape".into(),
            text.replacen(":", ": \"\\ud800\", \"x\":", 1).into_bytes(),
            &[],
            surrogate,
        ));

        // Wrong types for every field, at every depth.
        let mut paths = Vec::new();
        pointers(&json, String::new(), &mut paths);
        let replacements = [
            ("a number", json!(42)),
            ("an object", json!({"x": 1})),
            ("an array", json!([1])),
            ("null", Value::Null),
            ("a boolean", json!(true)),
        ];
        for path in &paths {
            for (label, replacement) in &replacements {
                let mut mutated = json.clone();
                *mutated.pointer_mut(path).expect("pointer") = replacement.clone();
                let identity = base.identity.iter().any(|f| path == &format!("/{f}"));
                let expect = if identity { Expect::Status(422) } else { Expect::Verdict };
                cases.push(mk(base, format!("{path} as {label}"), mutated.to_string().into_bytes(), &[], expect));
            }
        }

        // Nulls everywhere; duplicate keys.
        let mut nulls = json.clone();
        nulls_everywhere(&mut nulls);
        let expect = if batch { Expect::Verdict } else { Expect::Status(422) };
        cases.push(mk(base, "null in every field".into(), nulls.to_string().into_bytes(), &[], expect));
        let object = if batch { &json[0] } else { &json };
        let (first_key, first_value) = object.as_object().and_then(|m| m.iter().next()).expect("a member");
        let other = match first_value {
            Value::String(s) => json!(format!("{s}0")),
            _ => json!("other"),
        };
        let member = format!("{}:{},", Value::from(first_key.as_str()), other);
        let duplicated = text.replacen('{', &format!("{{{member}"), 1);
        cases.push(mk(
            base,
            format!("duplicate key {first_key}"),
            duplicated.clone().into_bytes(),
            &[],
            Expect::Verdict,
        ));
        let same = format!("{}:{},", Value::from(first_key.as_str()), first_value);
        cases.push(mk(
            base,
            format!("duplicate key {first_key}, same value"),
            text.replacen('{', &format!("{{{same}"), 1).into_bytes(),
            &[],
            Expect::Verdict,
        ));

        // Huge strings within and over the limit.
        let mut padded = json.clone();
        let target = if batch { &mut padded[0] } else { &mut padded };
        target["padding"] = json!("x".repeat(200_000));
        cases.push(mk(base, "200 KB unknown field".into(), padded.to_string().into_bytes(), &[], ok.clone()));
        let mut kept = json.clone();
        *kept.pointer_mut(base.kept_text).expect("kept field") = json!("y".repeat(120_000));
        cases.push(mk(base, format!("120 KB in {}", base.kept_text), kept.to_string().into_bytes(), &[], ok.clone()));
        let mut huge_kept = json.clone();
        let room = LIMIT - text.len() - 16;
        *huge_kept.pointer_mut(base.kept_text).expect("kept field") = json!("z".repeat(room));
        // Was a known gap (503 forever: the text stored twice pushed the item
        // past 400 KB); the normalised copy is now bounded, the raw body whole.
        let gap = ok.clone();
        cases.push(mk(
            base,
            format!("{room} bytes in {}", base.kept_text),
            huge_kept.to_string().into_bytes(),
            &[],
            gap,
        ));
        cases.push(mk(base, "padded to exactly the limit".into(), pad_to(&body, LIMIT), &[], ok.clone()));
        cases.push(mk(base, "one byte over the limit".into(), pad_to(&body, LIMIT + 1), &[], Expect::Status(413)));
        cases.push(mk(base, "1 MiB".into(), pad_to(&body, 1 << 20), &[], Expect::Status(413)));
        cases.push(mk(
            base,
            "over the limit and gzip".into(),
            pad_to(&body, LIMIT + 1),
            &[("content-encoding", Some("gzip"))],
            Expect::Status(413),
        ));

        // Content types and encodings never sent.
        for ct in
            ["application/xml", "text/xml", "multipart/form-data; boundary=x", "application/octet-stream", "image/png"]
        {
            cases.push(mk(
                base,
                format!("labelled {ct}"),
                body.clone(),
                &[("content-type", Some(ct))],
                Expect::Status(415),
            ));
        }
        cases.push(mk(
            base,
            "gzip body".into(),
            gzip(&body),
            &[("content-encoding", Some("gzip"))],
            Expect::Status(415),
        ));
        cases.push(mk(
            base,
            "Content-Encoding: br".into(),
            body.clone(),
            &[("content-encoding", Some("br"))],
            Expect::Status(415),
        ));

        // Empty and scalar bodies.
        cases.push(mk(base, "empty body".into(), Vec::new(), &[], bad.clone()));
        cases.push(mk(base, "whitespace body".into(), b" \n\t ".to_vec(), &[], bad.clone()));
        for scalar in ["42", "-0.5e10", "\"text\"", "true", "null", "1e999"] {
            cases.push(mk(base, format!("JSON scalar {scalar}"), scalar.as_bytes().to_vec(), &[], bad.clone()));
        }
        // An empty batch is a delivery of no events for Curious Thing
        // (documented); everyone else refuses an array of no events.
        cases.push(mk(base, "[]".into(), b"[]".to_vec(), &[], if batch { ok.clone() } else { bad.clone() }));
        cases.push(mk(
            base,
            "[1, \"a\", null]".into(),
            b"[1, \"a\", null]".to_vec(),
            &[],
            if batch { Expect::Status(422) } else { bad.clone() },
        ));
        cases.push(mk(base, "{}".into(), b"{}".to_vec(), &[], if batch { ok.clone() } else { Expect::Status(422) }));

        // Method and token are checked before anything else.
        let mut get = with_body(base.fixture, &body, &[]);
        get["requestContext"]["http"]["method"] = "GET".into();
        // Smartflo reads a GET from its query alone: with no fields there it
        // is a rejected event whose raw body is the (empty) query.
        let (expect, stored_as) = if base.provider == "smartflo" {
            (Expect::Status(422), Vec::new())
        } else {
            (Expect::Status(405), body.clone())
        };
        cases.push(Case {
            provider: base.provider,
            name: format!("{}: GET with a body", base.fixture),
            base: base.fixture,
            event: get,
            body: body.clone(),
            stored_as,
            expect,
        });
        let mut put = with_body(base.fixture, &body, &[]);
        put["requestContext"]["http"]["method"] = "PUT".into();
        cases.push(Case {
            provider: base.provider,
            name: format!("{}: PUT", base.fixture),
            base: base.fixture,
            event: put,
            body: body.clone(),
            stored_as: body.clone(),
            expect: Expect::Status(405),
        });
    }

    // Smartflo's form bodies.
    let form_base =
        &Base { provider: "smartflo", fixture: SMARTFLO_FORM, gives_task: true, identity: &[], kept_text: "" };
    let form_case = |name: &str, body: Vec<u8>, headers: &[(&str, Option<&str>)], expect: Expect| {
        let event = with_body(SMARTFLO_FORM, &body, headers);
        Case {
            provider: "smartflo",
            name: format!("{SMARTFLO_FORM}: {name}"),
            base: form_base.fixture,
            event,
            stored_as: body.clone(),
            body,
            expect,
        }
    };
    let form = recorded_body(SMARTFLO_FORM);
    let form_text = String::from_utf8(form.clone()).expect("UTF-8 form");
    cases.push(form_case("as recorded", form.clone(), &[], Expect::Status(200)));
    let cut = form_text.find("%2B").expect("an escape") + 2;
    cases.push(form_case("truncated inside an escape", form[..cut].to_vec(), &[], Expect::Status(400)));
    cases.push(form_case("bad escape %ZZ", format!("{form_text}&x=%ZZ").into_bytes(), &[], Expect::Status(400)));
    cases.push(form_case(
        "escape of invalid UTF-8",
        format!("{form_text}&x=%FF%FE").into_bytes(),
        &[],
        Expect::Status(400),
    ));
    let mut raw_invalid = form.clone();
    raw_invalid.extend_from_slice(b"&x=\xff");
    cases.push(form_case("raw invalid UTF-8", raw_invalid, &[], Expect::Status(400)));
    cases.push(form_case("duplicate keys", format!("call_id=1.1&{form_text}").into_bytes(), &[], Expect::Status(200)));
    // JSON text is well-formed form encoding (one odd key): no call id.
    cases.push(form_case(
        "JSON labelled as a form",
        recorded_body("smartflo/call-hangup-missed.json"),
        &[],
        Expect::Status(422),
    ));
    cases.push(form_case(
        "200 KB value",
        format!("{form_text}&padding={}", "x".repeat(200_000)).into_bytes(),
        &[],
        Expect::Status(200),
    ));
    cases.push(form_case("one byte over the limit", pad_to(&form, LIMIT + 1), &[], Expect::Status(413)));
    cases.push(form_case("empty form, no query", Vec::new(), &[], Expect::Status(400)));
    cases.push(form_case("separators only", b"&&&=&=".to_vec(), &[], Expect::Status(422)));
    cases.push(form_case("gzip", gzip(&form), &[("content-encoding", Some("gzip"))], Expect::Status(415)));
    cases
}

/// Every message on the queue, each deleted once read: FIFO holds back the
/// rest of a message group while one of its messages is in flight, so
/// reading without deleting can miss a second task to the same number.
async fn drain(stack: &Stack) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut empty_polls = 0;
    while empty_polls < 3 {
        let output = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive messages");
        if output.messages().is_empty() {
            empty_polls += 1;
            continue;
        }
        for message in output.messages() {
            messages.push(serde_json::from_str(message.body().unwrap_or("null")).expect("JSON task"));
            let handle = message.receipt_handle().expect("receipt handle");
            stack.sqs.delete_message().queue_url(&stack.queue_url).receipt_handle(handle).send().await.expect("delete");
        }
    }
    messages
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

type Pipelines = HashMap<&'static str, Pipeline<DynamoEventStore, SqsTaskQueue>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_deliveries_get_their_documented_status_and_lose_or_invent_nothing() {
    let started = Instant::now();
    let stack = Stack::new().await;
    let pipelines: Arc<Pipelines> = Arc::new(HashMap::from([
        ("truecaller", stack.pipeline(Truecaller)),
        ("curious-thing", stack.pipeline(CuriousThing)),
        ("smartflo", stack.pipeline(Smartflo)),
        ("wavix", stack.pipeline(Wavix)),
    ]));
    let cases = cases();
    let count = cases.len();

    // Each case in its own task: a panic is caught and named, not fatal.
    let mut handles = Vec::new();
    let trace = std::env::var_os("HOSTILE_TRACE").is_some();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(if trace { 1 } else { 8 }));
    for case in &cases {
        let pipelines = Arc::clone(&pipelines);
        let semaphore = Arc::clone(&semaphore);
        let provider = case.provider;
        let event = case.event.to_string();
        let name = case.name.clone();
        handles.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore");
            if trace {
                eprintln!("case {name}");
            }
            let request: pipeline::ApiGatewayRequest = serde_json::from_str(&event).expect("a valid API Gateway event");
            deliver(&pipelines[provider], request).await
        }));
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut failures = Vec::new();
    for (case, handle) in cases.iter().zip(handles) {
        match handle.await {
            Ok(answer) => {
                if !case.expect.allows(answer.status) {
                    failures.push(format!(
                        "{}: expected {:?}, got {} {}",
                        case.name, case.expect, answer.status, answer.body
                    ));
                }
                answers.push(answer);
            }
            Err(err) => {
                failures.push(format!("{}: PANICKED: {err}", case.name));
                answers.push(Answer { status: 0, body: Value::Null, metrics: Default::default() });
            }
        }
    }
    let elapsed_cases = started.elapsed();

    // Reconcile the table and the queue against every answer.
    let items = stack.items().await;
    let messages = drain(&stack).await;
    let by_pk: HashMap<&str, &Value> = items.iter().map(|i| (i["pk"].as_str().unwrap_or_default(), i)).collect();
    let stored_raw: HashSet<&str> = items.iter().filter_map(|i| i["raw_body"].as_str()).collect();
    let mut announced: HashSet<String> = HashSet::new();
    // Bodies some case legitimately had stored (a 4xx case may share one).
    let accepted_bodies: HashSet<&[u8]> = cases
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.status == 200 || a.status == 422)
        .flat_map(|(c, _)| [c.body.as_slice(), c.stored_as.as_slice()])
        .collect();
    let mut task_cases: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut new_tasks: BTreeSet<String> = BTreeSet::new();
    for (index, (case, answer)) in cases.iter().zip(&answers).enumerate() {
        let body_text = String::from_utf8_lossy(&case.body);
        if answer.status != 200 && answer.status != 422 {
            let stored = stored_raw.contains(body_text.as_ref())
                || by_pk.contains_key(format!("{}#rejected#{}", case.provider, sha256_hex(&case.body)).as_str());
            if stored
                && !accepted_bodies
                    .iter()
                    .any(|b| b == &case.body.as_slice() || String::from_utf8_lossy(b).contains(body_text.as_ref()))
            {
                failures.push(format!("{}: answered {} yet its body was stored", case.name, answer.status));
            }
            continue;
        }
        let events = answer.body["events"].as_array().cloned().unwrap_or_default();
        if answer.status == 422 && (events.is_empty() || events.iter().any(|e| e["outcome"] != "rejected")) {
            failures.push(format!("{}: a 422 lists an event that was not rejected: {}", case.name, answer.body));
        }
        let mut rejected = 0;
        for event in &events {
            match event["outcome"].as_str() {
                Some("stored" | "duplicate") => {
                    let key = event["event_key"].as_str().unwrap_or_default();
                    let pk = format!("{}#{key}", case.provider);
                    match by_pk.get(pk.as_str()) {
                        Some(item) if item["status"] != "rejected" => {}
                        _ => failures.push(format!(
                            "{}: event {key} answered {} but has no record",
                            case.name, event["outcome"]
                        )),
                    }
                    announced.insert(pk);
                    // A duplicate names the task of the event it repeats:
                    // only the case that stored the event created the task.
                    if let Some(task) = event["task_id"].as_str()
                        && event["outcome"] == "stored"
                    {
                        task_cases.entry(task.to_owned()).or_default().push(index);
                        new_tasks.insert(task.to_owned());
                    }
                }
                Some("rejected") => rejected += 1,
                other => failures.push(format!("{}: unexpected outcome {other:?}", case.name)),
            }
        }
        // Rejected records: the body's, or (batches) each element's.
        let holders: Vec<&Value> = items
            .iter()
            .filter(|i| i["status"] == "rejected" && i["provider"] == case.provider)
            .filter(|i| {
                i["raw_body"].as_str().is_some_and(|raw| {
                    (!raw.is_empty() && body_text.contains(raw)) || raw.as_bytes() == case.stored_as.as_slice()
                })
            })
            .collect();
        for holder in &holders {
            announced.insert(holder["pk"].as_str().unwrap_or_default().to_owned());
        }
        if rejected > 0 {
            let whole = format!("{}#rejected#{}", case.provider, sha256_hex(&case.stored_as));
            let stored_text = String::from_utf8_lossy(&case.stored_as);
            let whole_ok =
                by_pk.get(whole.as_str()).is_some_and(|i| i["raw_body"].as_str() == Some(stored_text.as_ref()));
            if !whole_ok && holders.is_empty() {
                failures
                    .push(format!("{}: {rejected} rejected event(s) but no rejected record holds the body", case.name));
            }
            for holder in &holders {
                let raw = holder["raw_body"].as_str().unwrap_or_default();
                if holder["pk"].as_str() != Some(&format!("{}#rejected#{}", case.provider, sha256_hex(raw.as_bytes())))
                {
                    failures.push(format!("{}: rejected record key is not the SHA-256 of its raw body", case.name));
                }
                if holder["reason"].as_str().is_none_or(str::is_empty) {
                    failures.push(format!("{}: rejected record without a reason", case.name));
                }
            }
        }
    }
    for item in &items {
        let pk = item["pk"].as_str().unwrap_or_default();
        let conflict_of = item["conflict_of"].as_str();
        if !announced.contains(pk) && !conflict_of.is_some_and(|of| announced.contains(of)) {
            failures.push(format!("record {pk} was stored but no answer announced it"));
        }
    }
    let base_of = |fixture: &str| BASES.iter().find(|b| b.fixture == fixture).is_none_or(|b| b.gives_task);
    let mut queued: BTreeSet<String> = BTreeSet::new();
    for message in &messages {
        let task = message["task_id"].as_str().unwrap_or_default().to_owned();
        if !queued.insert(task.clone()) {
            failures.push(format!("task {task} queued twice"));
        }
        let Some(indexes) = task_cases.get(&task) else {
            failures.push(format!("task {task} queued but no answer announced it"));
            continue;
        };
        let phone = message["phone"].as_str().unwrap_or_default();
        for &i in indexes {
            let case = &cases[i];
            if !base_of(case.base) {
                failures.push(format!("{}: a task from a recorded event that gives none", case.name));
            }
            let allowed = e2e::audit::phone_numbers(&String::from_utf8_lossy(&recorded_body(case.base)));
            if !allowed.iter().any(|p| p == phone) {
                failures.push(format!("{}: task to a number the recorded event does not carry", case.name));
            }
        }
    }
    for task in new_tasks.difference(&queued) {
        let names: Vec<&str> = task_cases[task].iter().map(|&i| cases[i].name.as_str()).collect();
        let record = items.iter().find(|i| i["task_id"] == task.as_str()).map(|i| (&i["pk"], &i["status"]));
        failures
            .push(format!("task {task} announced for a stored event but not queued ({names:?}, record {record:?})"));
    }

    let statuses: BTreeMap<u16, usize> = answers.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a.status).or_default() += 1;
        m
    });
    report(format_args!(
        "hostile corpus: {count} cases in {elapsed_cases:?} (statuses {statuses:?}); {} records, {} tasks",
        items.len(),
        messages.len()
    ));
    assert!(failures.is_empty(), "{} of {count} cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(count > 500, "the corpus has {count} cases");
}

/// Found by `fuzz/` (`request` target): API Gateway passes a raw `"` (and
/// `{`, `|`, `<`, `\`, `^`, a backtick) through in `rawQueryString`, and
/// lambda_http 1.3 panicked turning such an event into an `http::Request`
/// (`failed to build request: InvalidUriChar`) before our code ran: a 500
/// the provider retries forever. The functions now read the event
/// themselves (`pipeline::request`); these deliveries get their documented
/// status, and the ones that carry a missed call still queue its task.
#[tokio::test(flavor = "multi_thread")]
async fn query_strings_with_characters_a_uri_cannot_hold_get_their_documented_status() {
    // Arrange
    let stack = Stack::new().await;
    let smartflo = stack.pipeline(Smartflo);
    let get = "smartflo/call-hangup-missed-get-query.json";
    let recorded_query = recorded(get)["rawQueryString"].as_str().expect("query").to_owned();
    let with_query = |query: String| {
        let mut event = recorded(get);
        event["rawQueryString"] = query.into();
        serde_json::from_value::<pipeline::ApiGatewayRequest>(event).expect("an API Gateway event")
    };
    let unsafe_extra = format!("{recorded_query}&note=\"quoted\"{{braces}}|pipe<angle>\\back^caret`tick");
    let bad_escapes = format!("{recorded_query}&x=%zz%&y=%E2%28%A1");
    let quoted_token = recorded_query.replacen("key=dev-token-smartflo", "key=\"dev-token-smartflo\"", 1);
    let only_quotes = "key=dev-token-smartflo&\"\"=\"".to_owned();

    // Act
    let extra = deliver(&smartflo, with_query(unsafe_extra)).await;
    let escapes = deliver(&smartflo, with_query(bad_escapes)).await;
    let token = deliver(&smartflo, with_query(quoted_token)).await;
    let nothing = deliver(&smartflo, with_query(only_quotes)).await;

    // Assert
    assert_eq!(extra.status, 200, "raw unsafe characters in an extra field: {}", extra.body);
    assert_eq!(escapes.status, 200, "bad percent escapes in an extra field: {}", escapes.body);
    assert_eq!(token.status, 401, "a quoted token is not the token: {}", token.body);
    assert!(nothing.status == 400 || nothing.status == 422, "no usable field: {} {}", nothing.status, nothing.body);
    let tasks = stack.messages().await;
    assert_eq!(tasks.len(), 1, "the missed call queued exactly one task across both deliveries: {tasks:?}");
}

/// API Gateway only sets `isBase64Encoded` on valid base64; if an event
/// says base64 and is not, the delivery is refused as unreadable (400), not
/// guessed at, and not a retryable 5xx.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_marked_base64_that_does_not_decode_is_a_bad_request() {
    // Arrange
    let stack = Stack::new().await;
    let truecaller = stack.pipeline(Truecaller);
    let mut event = recorded("truecaller/cmb-happy-flow.json");
    event["isBase64Encoded"] = true.into();
    event["body"] = "{not base64!".into();
    let request: pipeline::ApiGatewayRequest = serde_json::from_value(event).expect("an API Gateway event");

    // Act
    let answer = deliver(&truecaller, request).await;

    // Assert
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["error"], "bad_request");
    assert!(stack.items().await.is_empty(), "nothing stored from an unreadable body");
}

/// Events are read leniently: `null` where API Gateway would put an
/// object, a string or a list reads as absent, so the pipeline answers
/// with a status instead of the runtime failing the invocation.
#[test]
fn an_event_with_nulls_everywhere_still_reads() {
    let mut event = recorded("truecaller/cmb-happy-flow.json");
    for field in ["rawPath", "rawQueryString", "headers", "pathParameters", "body", "isBase64Encoded", "cookies"] {
        event[field] = Value::Null;
    }
    event["requestContext"]["http"] = Value::Null;

    let request: pipeline::ApiGatewayRequest = serde_json::from_value(event).expect("nulls read as absent");

    assert!(request.raw_path.is_empty() && request.headers.is_empty() && request.body.is_none());
}
