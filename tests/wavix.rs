//! Wavix end to end: recorded on-call and post-call deliveries through the
//! real pipeline, against moto's DynamoDB and SQS.

use e2e::{Pk, Recorded, Stack, deliver, fixture, fixture_body, replay_recorded, sha256_hex};
use payloads::providers::Wavix;
use serde_json::Value;

/// The answered inbound call.
const ANSWERED: &str = "5dccb6b0-f35c-488c-867b-86fb012c4415";
/// The missed inbound call (no answer).
const MISSED: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const CALLER: &str = "+14155550123";
const MISSED_POST_CALL: &str = "wavix/post-call-inbound-missed-noanswer.json";
const MISSED_PK: &str = "wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#post-call";
const RINGING_PK: &str = "wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#ringing#2025-09-22T12:56:30.845Z";

const RECORDED: &[Recorded] = &[
    Recorded {
        name: "batch-on-call-and-post-call",
        status: 200,
        records: &[
            (Pk::Key("wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#ringing#2025-09-22T13:03:53.001Z"), "stored"),
            (Pk::Key(MISSED_PK), "task_enqueued"),
        ],
        tasks: &[CALLER],
    },
    Recorded { name: "invalid-event-time", status: 422, records: &[(Pk::RejectedBody, "rejected")], tasks: &[] },
    Recorded { name: "invalid-missing-uuid", status: 422, records: &[(Pk::RejectedBody, "rejected")], tasks: &[] },
    Recorded { name: "malformed-body", status: 400, records: &[], tasks: &[] },
    Recorded { name: "missing-token", status: 401, records: &[], tasks: &[] },
    Recorded {
        name: "on-call-answered",
        status: 200,
        records: &[(Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#answered#2025-09-22T12:56:38.547Z"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-busy",
        status: 200,
        records: &[(Pk::Key("wavix#1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b#busy#2025-09-22T13:10:05.277Z"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-call-setup",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#call_setup#2025-09-22T12:56:30.112Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-cancelled",
        status: 200,
        records: &[(
            Pk::Key("wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#cancelled#2025-09-22T13:04:21.901Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-completed-answered",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#completed#2025-09-22T12:59:02.318Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-completed-unanswered",
        status: 200,
        records: &[(
            Pk::Key("wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#completed#2025-09-22T13:04:21.930Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-early-media",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#early_media#2025-09-22T12:56:31.020Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-event-audio",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#on_call_event#2025-09-22T12:56:41.302Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-event-collect",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#on_call_event#2025-09-22T12:56:49.760Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-failed",
        status: 200,
        records: &[(Pk::Key("wavix#3c2e9d71-0a4b-4f6e-9b8d-7e5f1a2c4d60#failed#2025-09-22T13:20:10.660Z"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-rejected",
        status: 200,
        records: &[(Pk::Key("wavix#9f8c2a4e-6b1d-4c3e-8f7a-2d5e1b0c9a84#rejected#2025-09-22T13:15:44.081Z"), "stored")],
        tasks: &[],
    },
    Recorded { name: "on-call-ringing", status: 200, records: &[(Pk::Key(RINGING_PK), "stored")], tasks: &[] },
    Recorded {
        name: "on-call-transfer",
        status: 200,
        records: &[(Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#transfer#2025-09-22T12:56:52.004Z"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-unknown-event-type",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#recording_ready#2025-09-22T12:59:05.007Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-variant-call-finished-no-direction",
        status: 200,
        records: &[(Pk::Key(RINGING_PK), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-variant-call-id-caller-callee",
        status: 200,
        records: &[(Pk::Key(RINGING_PK), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-variant-epoch-millis-event-time",
        status: 200,
        records: &[(Pk::Key(RINGING_PK), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "on-call-variant-event-payload-as-string",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#on_call_event#2025-09-22T12:56:41.302Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "on-call-variant-legacy-in-call-event",
        status: 200,
        records: &[(
            Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#in_call_event#2024-04-11T09:12:44.318Z"),
            "stored",
        )],
        tasks: &[],
    },
    Recorded {
        name: "post-call-inbound-answered",
        status: 200,
        records: &[(Pk::Key("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#post-call"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "post-call-inbound-missed-anonymous-caller",
        status: 200,
        records: &[(Pk::Key("wavix#9f8c2a4e-6b1d-4c3e-8f7a-2d5e1b0c9a84#post-call"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "post-call-inbound-missed-busy",
        status: 200,
        records: &[(Pk::Key("wavix#1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b#post-call"), "task_enqueued")],
        tasks: &["+919876543210"],
    },
    Recorded {
        name: "post-call-inbound-missed-failed",
        status: 200,
        records: &[(Pk::Key("wavix#3c2e9d71-0a4b-4f6e-9b8d-7e5f1a2c4d60#post-call"), "task_enqueued")],
        tasks: &[CALLER],
    },
    Recorded {
        name: "post-call-inbound-missed-noanswer-base64",
        status: 200,
        records: &[(Pk::Key(MISSED_PK), "task_enqueued")],
        tasks: &[CALLER],
    },
    Recorded {
        name: "post-call-inbound-missed-noanswer-redelivery",
        status: 200,
        records: &[(Pk::Key(MISSED_PK), "task_enqueued")],
        tasks: &[CALLER],
    },
    Recorded {
        name: "post-call-inbound-missed-noanswer",
        status: 200,
        records: &[(Pk::Key(MISSED_PK), "task_enqueued")],
        tasks: &[CALLER],
    },
    Recorded {
        name: "post-call-outbound-noanswer",
        status: 200,
        records: &[(Pk::Key("wavix#f47ac10b-58cc-4372-a567-0e02b2c3d479#post-call"), "stored")],
        tasks: &[],
    },
    Recorded {
        name: "post-call-variant-legacy-cdr-no-direction",
        status: 200,
        records: &[(Pk::Key("wavix#aa566501-c591-4a8b-b3b9-cc1295398b72#post-call"), "stored")],
        tasks: &[],
    },
    Recorded { name: "wrong-token", status: 401, records: &[], tasks: &[] },
];

#[tokio::test(flavor = "multi_thread")]
async fn every_recorded_event_is_answered_stored_and_queued_as_the_contract_says() {
    replay_recorded("wavix", Wavix, RECORDED).await;
}

const ON_CALL_TYPES: &[(&str, &str)] = &[
    ("on-call-call-setup", "call_setup"),
    ("on-call-ringing", "ringing"),
    ("on-call-early-media", "early_media"),
    ("on-call-answered", "answered"),
    ("on-call-event-audio", "on_call_event"),
    ("on-call-event-collect", "on_call_event"),
    ("on-call-transfer", "transfer"),
    ("on-call-completed-answered", "completed"),
    ("on-call-completed-unanswered", "completed"),
    ("on-call-cancelled", "cancelled"),
    ("on-call-busy", "busy"),
    ("on-call-rejected", "rejected"),
    ("on-call-failed", "failed"),
    ("on-call-unknown-event-type", "recording_ready"),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_on_call_event_type_is_stored_once_without_a_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let mut keys = Vec::new();
    for (file, event_type) in ON_CALL_TYPES {
        let answer = deliver(&pipeline, fixture(&format!("wavix/{file}.json"))).await;
        assert_eq!(answer.status, 200, "{file}: {}", answer.body);
        assert_eq!(answer.outcomes(), ["stored"], "{file}");
        assert_eq!(answer.body["events"][0]["event_type"], *event_type, "{file}");
        assert!(answer.body["events"][0].get("task_id").is_none(), "{file}");
        keys.push(answer.body["events"][0]["event_key"].as_str().unwrap().to_owned());
    }
    for (file, _) in ON_CALL_TYPES {
        let again = deliver(&pipeline, fixture(&format!("wavix/{file}.json"))).await;
        assert_eq!(again.outcomes(), ["duplicate"], "{file}");
    }

    let items = stack.items().await;
    assert_eq!(items.len(), ON_CALL_TYPES.len());
    for ((file, event_type), key) in ON_CALL_TYPES.iter().zip(&keys) {
        let item = items.iter().find(|i| i["event_key"] == key.as_str()).unwrap();
        assert_eq!(item["event_type"], *event_type, "{file}");
        assert_eq!(item["status"], "stored", "{file}");
        assert_eq!(item["event"]["attributes"]["kind"], "on-call", "{file}");
        assert_eq!(item["raw_body"].as_str(), Some(fixture_body(&format!("wavix/{file}.json")).as_str()));
    }
    let missed = |file: &str| {
        let key = &keys[ON_CALL_TYPES.iter().position(|(f, _)| *f == file).unwrap()];
        items.iter().find(|i| i["event_key"] == key.as_str()).unwrap()["event"]["attributes"]["missed"].clone()
    };
    for file in
        ["on-call-cancelled", "on-call-busy", "on-call-rejected", "on-call-failed", "on-call-completed-unanswered"]
    {
        assert_eq!(missed(file), true, "{file}: stored as missed, still no task");
    }
    assert_eq!(missed("on-call-completed-answered"), false);
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_event_type_is_stored_and_acknowledged() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let answer = deliver(&pipeline, fixture("wavix/on-call-unknown-event-type.json")).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    let item = stack
        .item("wavix#5dccb6b0-f35c-488c-867b-86fb012c4415#recording_ready#2025-09-22T12:59:05.007Z")
        .await
        .expect("stored under its own type");
    assert_eq!(item["event_type"], "recording_ready");
    assert_eq!(item["event"]["attributes"]["unknown_event_type"], true);
    assert_eq!(item["occurred_at"], "2025-09-22T12:59:05Z");
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_inbound_call_queues_one_missed_call_task_for_the_caller() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let answer = deliver(&pipeline, fixture(MISSED_POST_CALL)).await;

    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["stored"]);
    let item = stack.item(MISSED_PK).await.expect("record stored");
    assert_eq!(item["status"], "task_enqueued");
    assert_eq!(item["event_type"], "post-call");
    assert_eq!(item["occurred_at"], "2025-09-22T13:03:52Z");
    assert_eq!(item["raw_body"].as_str(), Some(fixture_body(MISSED_POST_CALL).as_str()));
    assert_eq!(item["event"]["attributes"]["missed"], true);
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    let task = &messages[0];
    assert_eq!(task["schema"], "callback-request/v1");
    assert_eq!(task["provider"], "wavix");
    assert_eq!(task["event_key"], format!("{MISSED}#post-call"));
    assert_eq!(task["reason"], "missed_call");
    assert_eq!(task["phone"], CALLER);
    assert_eq!(task["business_phone"], "+17653889567");
    assert_eq!(task["alternate_phone"], Value::Null);
    assert_eq!(task["window"], Value::Null);
    assert_eq!(task["requested_at"], "2025-09-22T13:03:52Z");
    assert_eq!(task["context"]["call_uuid"], MISSED);
    assert_eq!(task["context"]["source"], "post-call");
    assert_eq!(task["context"]["disposition"], "noanswer");
    assert_eq!(task["task_id"], item["task_id"]);
    assert_eq!(task["_group"], CALLER);
    assert_eq!(task["_dedup"], task["task_id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answered_inbound_call_and_an_unanswered_outbound_call_give_no_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let answered = deliver(&pipeline, fixture("wavix/post-call-inbound-answered.json")).await;
    let outbound = deliver(&pipeline, fixture("wavix/post-call-outbound-noanswer.json")).await;
    let legacy = deliver(&pipeline, fixture("wavix/post-call-variant-legacy-cdr-no-direction.json")).await;

    for answer in [&answered, &outbound, &legacy] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.outcomes(), ["stored"]);
        assert!(answer.body["events"][0].get("task_id").is_none(), "{}", answer.body);
    }
    let items = stack.items().await;
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["status"] == "stored"));
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_missed_call_plain_or_base64_is_a_duplicate_with_one_record_and_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let first = deliver(&pipeline, fixture(MISSED_POST_CALL)).await;
    let again = deliver(&pipeline, fixture("wavix/post-call-inbound-missed-noanswer-redelivery.json")).await;
    let base64 = deliver(&pipeline, fixture("wavix/post-call-inbound-missed-noanswer-base64.json")).await;

    for answer in [&again, &base64] {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.outcomes(), ["duplicate"]);
        assert_eq!(answer.body["events"][0]["task_id"], first.body["events"][0]["task_id"]);
        assert_eq!(answer.metrics.payload_conflicts, 0);
    }
    assert_eq!(stack.items().await.len(), 1);
    assert_eq!(stack.messages().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_missed_call_delivered_event_by_event_gives_exactly_one_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);
    let sequence = [
        "batch-on-call-and-post-call",
        "on-call-cancelled",
        "on-call-completed-unanswered",
        "post-call-inbound-missed-noanswer",
        "post-call-inbound-missed-noanswer-redelivery",
    ];

    for file in sequence {
        let answer = deliver(&pipeline, fixture(&format!("wavix/{file}.json"))).await;
        assert_eq!(answer.status, 200, "{file}: {}", answer.body);
    }

    let items = stack.items().await;
    // The batch's post-call element and the lone post-call delivery differ in
    // bytes only (one line vs pretty-printed): kept as a conflict record.
    let keys: Vec<&str> =
        items.iter().filter(|i| i.get("conflict_of").is_none()).map(|i| i["pk"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#cancelled#2025-09-22T13:04:21.901Z",
            "wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#completed#2025-09-22T13:04:21.930Z",
            MISSED_PK,
            "wavix#7c9e6679-7425-40de-944b-e07fc1f90ae7#ringing#2025-09-22T13:03:53.001Z",
        ]
    );
    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert_eq!(messages[0]["event_key"], format!("{MISSED}#post-call"));
    assert_eq!(messages[0]["phone"], CALLER);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_answered_call_delivered_event_by_event_gives_no_task() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);
    let sequence = [
        "on-call-call-setup",
        "on-call-ringing",
        "on-call-early-media",
        "on-call-answered",
        "on-call-event-audio",
        "on-call-event-collect",
        "on-call-transfer",
        "on-call-completed-answered",
        "post-call-inbound-answered",
    ];

    for file in sequence {
        let answer = deliver(&pipeline, fixture(&format!("wavix/{file}.json"))).await;
        assert_eq!(answer.status, 200, "{file}: {}", answer.body);
        assert_eq!(answer.outcomes(), ["stored"], "{file}");
    }

    let items = stack.items().await;
    assert_eq!(items.len(), sequence.len());
    assert!(items.iter().all(|i| i["event_key"].as_str().unwrap().starts_with(ANSWERED)));
    assert!(stack.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_call_reported_on_call_and_post_call_gives_one_task_from_the_post_call_event() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    deliver(&pipeline, fixture("wavix/on-call-busy.json")).await;
    deliver(&pipeline, fixture("wavix/post-call-inbound-missed-busy.json")).await;

    let messages = stack.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["phone"], "+919876543210");
    assert_eq!(messages[0]["context"]["disposition"], "busy");
    assert_eq!(messages[0]["event_key"], "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b#post-call");
}

#[tokio::test(flavor = "multi_thread")]
async fn textual_variants_of_one_on_call_event_are_one_event() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let first = deliver(&pipeline, fixture("wavix/on-call-ringing.json")).await;
    let mut later = Vec::new();
    for file in [
        "on-call-variant-epoch-millis-event-time",
        "on-call-variant-call-id-caller-callee",
        "on-call-variant-call-finished-no-direction",
    ] {
        later.push(deliver(&pipeline, fixture(&format!("wavix/{file}.json"))).await);
    }

    assert_eq!(first.outcomes(), ["stored"]);
    assert!(later.iter().all(|a| a.status == 200 && a.outcomes() == ["duplicate"]));
    let events: Vec<Value> = stack.items().await.into_iter().filter(|i| i.get("conflict_of").is_none()).collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["pk"], RINGING_PK);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_event_is_answered_422_and_kept_as_a_rejected_record() {
    let stack = Stack::new().await;
    let pipeline = stack.pipeline(Wavix);

    let answer = deliver(&pipeline, fixture("wavix/invalid-event-time.json")).await;

    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.outcomes(), ["rejected"]);
    let body = fixture_body("wavix/invalid-event-time.json");
    let item = stack.item(&format!("wavix#rejected#{}", sha256_hex(body.as_bytes()))).await.expect("rejected record");
    assert_eq!(item["reason"], "invalid_timestamp");
    assert_eq!(item["raw_body"].as_str(), Some(body.as_str()));
    assert_eq!(stack.items().await.len(), 1);
    assert!(stack.messages().await.is_empty());
}
