//! `{placeholder}`s in a template's text, filled from a task.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::{FieldProblem, Problem};
use crate::CallbackTask;

/// A placeholder's value for a task.
enum Lookup {
    Value(String),
    /// A known task field this task has no value for.
    Absent,
    Unknown,
}

fn lookup(name: &str, task: &CallbackTask) -> Lookup {
    match name {
        "provider" => Lookup::Value(task.provider.name().to_owned()),
        "reason" => Lookup::Value(task.reason.as_str().to_owned()),
        "task_id" => Lookup::Value(task.task_id.clone()),
        "business_phone" => {
            task.business_phone.as_ref().map_or(Lookup::Absent, |p| Lookup::Value(p.as_str().to_owned()))
        }
        _ => match task.context.get(name) {
            Some(Value::String(s)) => Lookup::Value(s.clone()),
            Some(Value::Number(n)) => Lookup::Value(n.to_string()),
            Some(Value::Bool(b)) => Lookup::Value(b.to_string()),
            Some(Value::Null) => Lookup::Absent,
            Some(_) | None => Lookup::Unknown,
        },
    }
}

/// Fills `{name}` placeholders; `{{` and `}}` are literal braces. Problems
/// are recorded against `field`; the returned text keeps a bad placeholder
/// as written.
pub(super) fn substitute(
    field: &str,
    text: &str,
    task: &CallbackTask,
    encode: bool,
    problems: &mut Vec<FieldProblem>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            let reason = "has a lone }; write }} for a literal brace";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push('}');
            rest = after;
            continue;
        }
        let Some(end) = tail.find('}') else {
            let reason = "has a { without its closing }; write {{ for a literal brace";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push_str(tail);
            rest = "";
            break;
        };
        let name = &tail[1..end];
        let written = &tail[..=end];
        rest = &tail[end + 1..];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let reason = "has a placeholder that is not {name} with letters, digits and _";
            problems.push(FieldProblem::new(field, Problem::PlaceholderSyntax { reason }));
            out.push_str(written);
            continue;
        }
        match lookup(name, task) {
            Lookup::Value(v) if encode => out.extend(utf8_percent_encode(&v, NOT_UNRESERVED)),
            Lookup::Value(v) => out.push_str(&v),
            Lookup::Absent => {
                problems.push(FieldProblem::new(field, Problem::PlaceholderWithoutValue { name: name.to_owned() }));
                out.push_str(written);
            }
            Lookup::Unknown => {
                problems.push(FieldProblem::new(field, Problem::UnknownPlaceholder { name: name.to_owned() }));
                out.push_str(written);
            }
        }
    }
    out.push_str(rest);
    out
}

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// is percent-encoded, so a filled value is safe in a URL's path and query
/// alike.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
