//! Campaign templates per provider and reason (`CAMPAIGN_TEMPLATES`), read
//! and checked once at cold start: a template that could never render a
//! valid campaign stops the function from starting, naming its fields.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use payloads::campaign::{CampaignTemplate, FieldProblem, Problem};
use payloads::{CallbackReason, CallbackTask, PhoneNumber, PhoneRegion, Provider};
use serde_json::{Map, Value};

/// Every callback reason (queue contract).
pub const REASONS: [CallbackReason; 3] =
    [CallbackReason::CallbackRequested, CallbackReason::HumanRequested, CallbackReason::MissedCall];

/// A template's key: provider and reason, `None` for `*`.
type Key = (Option<Provider>, Option<CallbackReason>);

/// The configured templates. Keys are `provider:reason`, either side may be
/// `*`; the most specific match wins: `provider:reason`, `*:reason`,
/// `provider:*`, `*:*`.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    by_key: HashMap<Key, (String, Arc<CampaignTemplate>)>,
}

impl Templates {
    /// Reads and checks every template; on failure, every problem of every
    /// template, each naming its key and field.
    pub fn from_json(json: &str) -> Result<Self, Vec<String>> {
        let object: Map<String, Value> = match serde_json::from_str(json) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return Err(vec!["CAMPAIGN_TEMPLATES must be a JSON object of \"provider:reason\" keys".into()]),
            Err(err) => return Err(vec![format!("CAMPAIGN_TEMPLATES is not valid JSON: {err}")]),
        };
        let mut problems = Vec::new();
        let mut by_key = HashMap::new();
        // Sorted, so the problems read the same on every start.
        let sorted: BTreeMap<_, _> = object.into_iter().collect();
        for (key, value) in sorted {
            let parsed_key = match parse_key(&key) {
                Ok(parsed) => parsed,
                Err(problem) => {
                    problems.push(format!("template {key:?}: {problem}"));
                    continue;
                }
            };
            let template = match serde_json::from_value::<CampaignTemplate>(value) {
                Ok(template) => template,
                Err(err) => {
                    problems.push(format!("template {key:?}: {err}"));
                    continue;
                }
            };
            let config_problems = check(&template, parsed_key);
            if config_problems.is_empty() {
                by_key.insert(parsed_key, (key, Arc::new(template)));
            } else {
                problems.extend(config_problems.into_iter().map(|p| format!("template {key:?}: {p}")));
            }
        }
        if problems.is_empty() { Ok(Self { by_key }) } else { Err(problems) }
    }

    /// The template for a task's provider and reason, with the key that
    /// matched.
    pub fn find(&self, provider: Provider, reason: CallbackReason) -> Option<(&str, &CampaignTemplate)> {
        [(Some(provider), Some(reason)), (None, Some(reason)), (Some(provider), None), (None, None)]
            .iter()
            .find_map(|key| self.by_key.get(key))
            .map(|(key, template)| (key.as_str(), template.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

fn parse_key(key: &str) -> Result<Key, String> {
    let Some((provider, reason)) = key.split_once(':') else {
        return Err("key must be \"provider:reason\" (either may be *)".into());
    };
    let provider = match provider {
        "*" => None,
        name => Some(Provider::ALL.into_iter().find(|p| p.name() == name).ok_or_else(|| {
            format!("unknown provider {name:?}; one of truecaller, curious-thing, smartflo, wavix or *")
        })?),
    };
    let reason = match reason {
        "*" => None,
        name => Some(REASONS.into_iter().find(|r| r.as_str() == name).ok_or_else(|| {
            format!("unknown reason {name:?}; one of callback_requested, human_requested, missed_call or *")
        })?),
    };
    Ok((provider, reason))
}

/// The text of each templated field, by its JSON path.
fn fields(template: &CampaignTemplate) -> [(&'static str, Option<&str>); 11] {
    let (p, c) = (&template.profile, &template.content);
    [
        ("profile.campaign_name", p.campaign_name.as_deref()),
        ("profile.campaign_id", p.campaign_id.as_deref()),
        ("profile.campaign_type", p.campaign_type.as_deref()),
        ("content.display_unit", c.display_unit.as_deref()),
        ("content.theme_color", c.theme_color.as_deref()),
        ("content.text_color", c.text_color.as_deref()),
        ("content.title", c.title.as_deref()),
        ("content.sub_title", c.sub_title.as_deref()),
        ("content.call_to_action", c.call_to_action.as_deref()),
        ("content.deeplink", c.deeplink.as_deref()),
        ("content.image_url", c.image_url.as_deref()),
    ]
}

/// The `{name}` placeholders in a text (`{{` and `}}` are literal braces;
/// malformed ones are left to `render`, which reports them).
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            rest = after;
            continue;
        }
        match tail[1..].find('}') {
            Some(end) => {
                let name = &tail[1..=end];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    names.push(name);
                }
                rest = &tail[end + 2..];
            }
            None => break,
        }
    }
    names
}

/// Problems a template has whatever the task: it is rendered for a probe
/// task whose context holds every placeholder it names (value `x`), and a
/// problem counts unless it may depend on the values filled in (a field
/// holding a placeholder can fail a length or format rule only for some
/// tasks; that is caught per task at render time and dead-lettered).
fn check(template: &CampaignTemplate, key: Key) -> Vec<FieldProblem> {
    let fields = fields(template);
    let mut context = Map::new();
    for (_, text) in fields {
        for name in placeholders(text.unwrap_or_default()) {
            context.insert(name.to_owned(), Value::from("x"));
        }
    }
    let phone = PhoneNumber::parse("+911234567890", PhoneRegion::INDIA).expect("a valid probe number");
    let probe = CallbackTask {
        schema: payloads::task::SCHEMA,
        task_id: "00000000-0000-5000-8000-000000000000".into(),
        provider: key.0.unwrap_or(Provider::Truecaller),
        event_key: "probe".into(),
        reason: key.1.unwrap_or(CallbackReason::CallbackRequested),
        phone: Cow::Borrowed(&phone),
        alternate_phone: None,
        business_phone: Some(Cow::Borrowed(&phone)),
        window: None,
        requested_at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
        context: context.into(),
    };
    let Err(problems) = template.render(&probe) else { return Vec::new() };
    problems
        .into_iter()
        .filter(|problem| {
            let templated = fields
                .iter()
                .find(|(path, _)| *path == problem.field)
                .and_then(|(_, text)| *text)
                .is_some_and(|text| !placeholders(text).is_empty());
            !templated
                || matches!(
                    problem.problem,
                    Problem::Missing
                        | Problem::MandatoryFor { .. }
                        | Problem::NotApplicableTo { .. }
                        | Problem::PlaceholderSyntax { .. }
                )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn valid() -> Value {
        json!({
            "profile": {"campaign_name": "Callback {cmb_config_name}", "campaign_id": "cb-{task_id}",
                        "campaign_type": "lifecycle"},
            "content": {"display_unit": "acs_missed", "template_style": 1, "ttl": 86400,
                        "theme_color": "#0A84FF", "text_color": "white",
                        "title": "We will call you back", "sub_title": "About {feature_set}",
                        "call_to_action": "Reschedule",
                        "deeplink": "https://example.com/cb?fs={feature_set}&from={business_phone}"}
        })
    }

    #[test]
    fn the_most_specific_template_wins() {
        let mut other = valid();
        other["profile"]["campaign_name"] = json!("Missed");
        let config = json!({"truecaller:callback_requested": valid(), "*:missed_call": other, "*:*": valid()});
        let templates = Templates::from_json(&config.to_string()).expect("valid templates");

        assert_eq!(templates.len(), 3);
        assert_eq!(
            templates.find(Provider::Truecaller, CallbackReason::CallbackRequested).unwrap().0,
            "truecaller:callback_requested"
        );
        assert_eq!(templates.find(Provider::Wavix, CallbackReason::MissedCall).unwrap().0, "*:missed_call");
        assert_eq!(templates.find(Provider::Wavix, CallbackReason::HumanRequested).unwrap().0, "*:*");
        let only = Templates::from_json(&json!({"truecaller:callback_requested": valid()}).to_string()).unwrap();
        assert!(only.find(Provider::Smartflo, CallbackReason::MissedCall).is_none());
    }

    #[test]
    fn every_problem_of_every_template_is_named_by_key_and_field() {
        let mut bad_values = valid();
        bad_values["content"]["theme_color"] = json!("blue");
        bad_values["content"]["call_to_action"] = json!("A call to action far too long");
        bad_values["content"]["image_url"] = json!("https://cdn.example.com/x.png");
        let mut misspelt = valid();
        misspelt["content"]["subtitle"] = json!("typo");
        let config = json!({
            "truecaller:callback_requested": bad_values,
            "wavix:missed_call": misspelt,
            "acme:missed_call": valid(),
            "truecaller": valid(),
        });

        let problems = Templates::from_json(&config.to_string()).unwrap_err().join("\n");

        assert!(problems.contains("\"truecaller:callback_requested\": content.theme_color"), "{problems}");
        assert!(problems.contains("content.call_to_action: has 29 characters"), "{problems}");
        assert!(problems.contains("content.image_url: is not used by display unit acs_missed"), "{problems}");
        assert!(problems.contains("\"wavix:missed_call\": unknown field `subtitle`"), "{problems}");
        assert!(problems.contains("unknown provider \"acme\""), "{problems}");
        assert!(problems.contains("\"truecaller\": key must be"), "{problems}");
    }

    #[test]
    fn fields_whose_value_depends_on_the_task_are_checked_per_task_not_at_start() {
        let mut templated = valid();
        // Only some feature-set names would make this title too long.
        templated["content"]["title"] = json!("{feature_set} {feature_set} {feature_set} {feature_set}");
        templated["content"]["theme_color"] = json!("{brand_colour}");
        assert!(Templates::from_json(&json!({"*:*": templated}).to_string()).is_ok());

        let mut broken = valid();
        broken["content"]["title"] = json!("Hello {unclosed");
        let problems = Templates::from_json(&json!({"*:*": broken}).to_string()).unwrap_err();
        assert!(problems[0].contains("content.title"), "{problems:?}");
    }

    #[test]
    fn placeholders_are_found_and_escaped_braces_are_not() {
        assert_eq!(placeholders("a {x} {{y}} {z_1}{bad name} {"), ["x", "z_1"]);
    }

    #[test]
    fn configuration_that_is_not_an_object_is_refused() {
        assert!(Templates::from_json("[]").unwrap_err()[0].contains("JSON object"));
        assert!(Templates::from_json("{").unwrap_err()[0].contains("not valid JSON"));
    }
}
