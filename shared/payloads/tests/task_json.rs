//! The task JSON of every recorded event, byte for byte as the owned task
//! (before it borrowed from its event, issue 6) wrote it, and read back to
//! the same bytes.

use chrono::{DateTime, Utc};
use payloads::providers::{CuriousThing, Smartflo, Truecaller, Wavix};
use payloads::{
    CallbackReason, CallbackTask, CallbackWindow, NormalisedEvent, ParseContext, PhoneNumber, Provider, ProviderParser,
};
use serde::Serialize;
use serde_json::{Map, Value};

#[path = "support/recorded.rs"]
mod recorded;
use recorded::Recorded;

/// The task as it was: every field owned, the context a `Map`.
#[derive(Serialize)]
struct OwnedTask {
    schema: &'static str,
    task_id: String,
    provider: Provider,
    event_key: String,
    reason: CallbackReason,
    phone: PhoneNumber,
    alternate_phone: Option<PhoneNumber>,
    business_phone: Option<PhoneNumber>,
    window: Option<CallbackWindow>,
    #[serde(serialize_with = "secs")]
    requested_at: DateTime<Utc>,
    context: Map<String, Value>,
}

fn secs<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&payloads::event::rfc3339(*at))
}

fn owned_task_json(event: &NormalisedEvent) -> Option<String> {
    let request = event.callback.request()?;
    let task = OwnedTask {
        schema: payloads::task::SCHEMA,
        task_id: payloads::task::task_id(event.provider, event.event_key.as_str()),
        provider: event.provider,
        event_key: event.event_key.as_str().to_owned(),
        reason: request.reason,
        phone: request.phone.clone(),
        alternate_phone: request.alternate_phone.clone(),
        business_phone: request.business_phone.clone(),
        window: request.window,
        requested_at: request.requested_at,
        context: request.context.to_map(),
    };
    Some(serde_json::to_string(&task).unwrap())
}

#[test]
fn every_recorded_task_is_written_as_the_owned_task_was_and_reads_back_the_same() {
    let parsers: [(&str, &dyn ProviderParser); 4] =
        [("truecaller", &Truecaller), ("curious-thing", &CuriousThing), ("smartflo", &Smartflo), ("wavix", &Wavix)];
    let mut tasks = 0;
    for (provider, parser) in parsers {
        for path in recorded::files(provider) {
            let recorded = Recorded::load(&path);
            let ctx = ParseContext::new(recorded.received_at);
            let Ok(events) = parser.parse(&recorded.delivery(), &ctx) else { continue };
            for event in events.iter().filter_map(|e| e.outcome.as_ref().ok()) {
                let task = CallbackTask::for_event(event);
                let json = task.as_ref().map(CallbackTask::to_json);
                assert_eq!(json, owned_task_json(event), "{}", path.display());
                let Some(json) = json else { continue };
                tasks += 1;
                let stored = CallbackTask::from_json(&json).expect("a task reads back");
                assert_eq!(stored.to_json(), json, "{}", path.display());
                let task = task.unwrap();
                let mut changed = task.clone();
                changed.context.to_mut();
                assert_eq!(changed, task, "{}", path.display());
                assert_eq!(changed.to_json(), json, "{}", path.display());
                assert_eq!(task.into_owned().to_json(), json, "{}", path.display());
            }
        }
    }
    assert!(tasks >= 10, "only {tasks} recorded tasks");
}
