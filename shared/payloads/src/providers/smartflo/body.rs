//! A delivery's bytes as [`Fields`]: JSON bodies (serde_json), form bodies
//! and query strings (`form_urlencoded`, `percent-encoding`), and the text
//! stored as its `raw_body`.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::fields::{FieldValue, Fields};
use super::keys::is_read;
use crate::providers::is_syntax_error;
use crate::{DecodeError, Delivery};

/// The text stored as `raw_body` and the fields of a delivery.
pub(super) fn read<'a>(delivery: &Delivery<'a>) -> Result<(String, Fields<'a>), DecodeError> {
    match delivery.method {
        "GET" => Ok((query_string(delivery.query), query_fields(delivery.query))),
        "POST" => post_fields(delivery),
        other => Err(DecodeError::MethodNotAllowed(other.to_owned())),
    }
}

/// A POST: JSON (with `application/json`, a JSON-like type, or no content
/// type), form encoding, or, with an empty body, form fields in the query
/// string. Query fields also fill gaps a body leaves.
fn post_fields<'a>(delivery: &Delivery<'a>) -> Result<(String, Fields<'a>), DecodeError> {
    let query = query_fields(delivery.query);
    let is_form = delivery.content_type == Some("application/x-www-form-urlencoded");
    if !is_form {
        delivery.require_json()?;
    }
    if delivery.body.iter().all(u8::is_ascii_whitespace) {
        if !query.keys().any(is_read) {
            return Err(if is_form { DecodeError::BadForm } else { DecodeError::NotJson("empty body".into()) });
        }
        return Ok((query_string(delivery.query), query));
    }
    let (text, mut fields) = if is_form {
        let text = std::str::from_utf8(delivery.body).map_err(|_| DecodeError::BadForm)?;
        (text, decode_form(text)?)
    } else {
        let text = std::str::from_utf8(delivery.body).map_err(|_| DecodeError::NotUtf8)?;
        let top = parse_json_object(text).map_err(|err| {
            if is_syntax_error(&err) {
                DecodeError::NotJson(format!("line {} column {}", err.line(), err.column()))
            } else {
                DecodeError::WrongShape("expected a JSON object".into())
            }
        })?;
        (text, top.with_wrappers())
    };
    fields.extend(query);
    Ok((text.to_owned(), fields))
}

fn query_fields(query: &[(String, String)]) -> Fields<'_> {
    let mut fields = Fields::with_capacity(query.len());
    for (k, v) in query {
        fields.push(Cow::Borrowed(k), FieldValue::Text(Cow::Borrowed(v)));
    }
    fields
}

/// `k=v&…` in form encoding: how a GET delivery is stored as `raw_body`.
pub(super) fn query_string(query: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish()
}

/// Strict form decoding: every `%` followed by two hex digits and every
/// decoded key and value UTF-8 (`form_urlencoded::parse` would pass a stray
/// `%` through and replace bad bytes silently; a body is refused instead).
fn decode_form(text: &str) -> Result<Fields<'_>, DecodeError> {
    let escapes_well_formed = text
        .split('%')
        .skip(1)
        .all(|after| after.as_bytes().get(..2).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)));
    if !escapes_well_formed {
        return Err(DecodeError::BadForm);
    }
    let mut fields = Fields::with_capacity(24);
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        fields.push(form_decode(k)?, FieldValue::Text(form_decode(v)?));
    }
    Ok(fields)
}

/// One form-encoded key or value: `+` is a space, `%XX` a byte; text with
/// neither is borrowed.
pub(super) fn form_decode(s: &str) -> Result<Cow<'_, str>, DecodeError> {
    if !s.contains(['+', '%']) {
        return Ok(Cow::Borrowed(s));
    }
    let spaced = s.replace('+', " ");
    let decoded = percent_encoding::percent_decode_str(&spaced).decode_utf8().map_err(|_| DecodeError::BadForm)?;
    Ok(Cow::Owned(decoded.into_owned()))
}

/// Deepest nesting read (serde_json's own limit for the other providers'
/// bodies). Values are read level by level and serde_json skips over a
/// `RawValue` without a depth limit, so without this bound a body of nested
/// objects overflowed the stack (found by `fuzz/` and `tests/hostile.rs`:
/// 10 000 `{"a":`).
pub(super) const MAX_DEPTH: usize = 128;

fn too_deep() -> serde_json::Error {
    serde::de::Error::custom(format_args!("JSON nested more than {MAX_DEPTH} levels deep"))
}

/// A JSON object's fields. Its values are read from their `RawValue` text,
/// so that a number keeps its exact digits (`serde_json::Value` would turn
/// `1628512094.7228905` into a float).
pub(super) fn parse_json_object(text: &str) -> Result<Fields<'_>, serde_json::Error> {
    parse_object_at(text, 0)
}

/// Any JSON value as a [`FieldValue`].
pub(super) fn parse_json_value(text: &str) -> Result<FieldValue<'_>, serde_json::Error> {
    parse_value_at(text, 0)
}

fn parse_object_at(text: &str, depth: usize) -> Result<Fields<'_>, serde_json::Error> {
    if depth >= MAX_DEPTH {
        return Err(too_deep());
    }
    let members: Members<'_> = serde_json::from_str(text)?;
    let mut fields = Fields::with_capacity(members.0.len());
    for (key, raw) in members.0 {
        fields.push(key, parse_value_at(raw.get(), depth + 1)?);
    }
    Ok(fields)
}

fn parse_value_at(text: &str, depth: usize) -> Result<FieldValue<'_>, serde_json::Error> {
    // `text` is one value serde_json has already checked: its first byte
    // says what it is.
    match text.trim_start().as_bytes().first() {
        Some(b'{') => parse_object_at(text, depth).map(FieldValue::Object),
        Some(b'[') => {
            if depth >= MAX_DEPTH {
                return Err(too_deep());
            }
            let items: Vec<&RawValue> = serde_json::from_str(text)?;
            items
                .into_iter()
                .map(|item| parse_value_at(item.get(), depth + 1))
                .collect::<Result<_, _>>()
                .map(FieldValue::Array)
        }
        Some(b'"') => serde_json::from_str::<Text<'_>>(text).map(|Text(t)| FieldValue::Text(t)),
        Some(b'n') => Ok(FieldValue::Null),
        // Numbers and booleans: their exact text.
        _ => Ok(FieldValue::Text(Cow::Borrowed(text.trim()))),
    }
}

/// A JSON string, borrowed from the body when it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A JSON object's members in order, duplicates kept, values as raw text
/// (a `Map` keeps only one value per key).
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some((Text(key), value)) = map.next_entry::<Text<'de>, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(MembersVisitor)
    }
}
