//! A delivery's fields under their normalised keys, and the lookups by
//! spelling that read them.

use std::borrow::Cow;

use super::body::{parse_json_object, parse_json_value};
use super::keys::{WRAPPERS, normalise_key};

/// A field's value as received: JSON scalars become text with their exact
/// digits (`1628512094.7228905` keeps every digit), objects and arrays keep
/// their shape. Text is borrowed from the body unless an escape (JSON) or a
/// percent sign (form) forced a decoded copy.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FieldValue<'a> {
    Text(Cow<'a, str>),
    Object(Fields<'a>),
    Array(Vec<FieldValue<'a>>),
    Null,
}

/// Fields in lookup order: the body's top level, then the members of its
/// wrapper objects, then (on POST) the query string. A key may come more
/// than once (`$call_id` and `callId` are both `call_id`): every value is
/// kept, in that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Fields<'a>(Vec<(Cow<'a, str>, FieldValue<'a>)>);

impl<'a> Fields<'a> {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Adds a field under `key`'s normalised spelling.
    pub(super) fn push(&mut self, key: Cow<'a, str>, value: FieldValue<'a>) {
        let key = match key {
            Cow::Borrowed(k) => normalise_key(k),
            Cow::Owned(k) => Cow::Owned(normalise_key(&k).into_owned()),
        };
        self.0.push((key, value));
    }

    pub(super) fn extend(&mut self, other: Fields<'a>) {
        self.0.extend(other.0);
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }

    /// The top level followed by the members of its wrapper objects
    /// (in [`WRAPPERS`] order).
    pub(super) fn with_wrappers(mut self) -> Self {
        let wrapped: Vec<_> = WRAPPERS
            .iter()
            .flat_map(|wrapper| self.0.iter().filter(move |(key, _)| key == wrapper))
            .filter_map(|(_, value)| match value {
                FieldValue::Object(inner) => Some(inner.0.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        self.0.extend(wrapped);
        self
    }

    /// Every value under one of `spellings` (a list of `keys`), preferred
    /// spelling first, each spelling's values in lookup order.
    pub(super) fn values<'f, 's>(&'f self, spellings: &'s [&'s str]) -> impl Iterator<Item = &'f FieldValue<'a>> {
        spellings.iter().flat_map(move |s| self.0.iter().filter(move |(key, _)| key == s).map(|(_, v)| v))
    }

    /// The first filled text under `spellings`.
    pub(super) fn text<'f>(&'f self, spellings: &[&str]) -> Option<&'f str> {
        self.values(spellings).find_map(filled_text)
    }

    /// The first object under `spellings` (also a JSON object sent as text).
    pub(super) fn object<'f>(&'f self, spellings: &[&str]) -> Option<Cow<'f, Fields<'f>>> {
        self.values(spellings).find_map(|v| match v {
            FieldValue::Object(f) => Some(Cow::Borrowed(f)),
            FieldValue::Text(t) if t.trim_start().starts_with('{') => match parse_json_object(t) {
                Ok(f) => Some(Cow::Owned(f)),
                Err(_) => None,
            },
            _ => None,
        })
    }

    /// The objects of the first array under `spellings` (a single object
    /// counts as an array of one; also an array sent as text).
    pub(super) fn objects<'f>(&'f self, spellings: &[&str]) -> Vec<Cow<'f, Fields<'f>>> {
        let items: Option<Cow<'f, [FieldValue<'f>]>> = self.values(spellings).find_map(|v| match v {
            FieldValue::Array(items) => Some(Cow::Borrowed(items.as_slice())),
            FieldValue::Object(_) => Some(Cow::Borrowed(std::slice::from_ref(v))),
            FieldValue::Text(t) if t.trim_start().starts_with('[') => match parse_json_value(t) {
                Ok(FieldValue::Array(items)) => Some(Cow::Owned(items)),
                _ => None,
            },
            _ => None,
        });
        match items {
            None => Vec::new(),
            Some(Cow::Borrowed(items)) => items
                .iter()
                .filter_map(|item| match item {
                    FieldValue::Object(f) => Some(Cow::Borrowed(f)),
                    _ => None,
                })
                .collect(),
            Some(Cow::Owned(items)) => items
                .into_iter()
                .filter_map(|item| match item {
                    FieldValue::Object(f) => Some(Cow::Owned(f)),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// Text that Smartflo actually filled in (see [`is_unfilled`]), trimmed.
pub(super) fn filled_text<'f>(v: &'f FieldValue<'_>) -> Option<&'f str> {
    match v {
        FieldValue::Text(t) => Some(t.trim()).filter(|t| !is_unfilled(t)),
        _ => None,
    }
}

/// True for values that mean "Smartflo had nothing for this variable":
/// blank, a sentinel (`null`, `NA`, ...), `nil`, an empty `{}`/`[]`, or a
/// template variable left as typed (`$caller_id_number`, `${call_id}`).
pub fn is_unfilled(value: &str) -> bool {
    let v = value.trim();
    if crate::lenient::is_sentinel(v) || v == "{}" || v == "[]" || v.eq_ignore_ascii_case("nil") {
        return true;
    }
    let name = v.strip_prefix('$').map(|n| n.trim_start_matches('{').trim_end_matches('}'));
    matches!(name, Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}
