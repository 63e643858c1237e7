//! One pass over a JSON object that keeps only the members a parser reads,
//! borrowed from the body where it can (issue 6: a parser that first builds
//! a `serde_json::Value` of the body costs more than the whole floor).
//!
//! The result is the same as reading the members of the object's `Value`:
//! every member is parsed and checked as `Value` would check it (string
//! escapes, numbers out of range), only not kept, so a body is refused with
//! the same error at the same position; a name sent twice keeps its last
//! value, as a `Map` does.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// One member's value: scalars as `Value` holds them, text borrowed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    Number(Number),
    Text(Cow<'de, str>),
    /// An array (with its length) or an object: read through, not kept.
    Array(usize),
    Object,
    /// A member read whole, for the few a parser looks into ([`Kind::Value`]).
    Value(Box<Value>),
}

impl<'de> Scalar<'de> {
    /// `lenient::scalar_str` of the member's `Value`: trimmed text, numbers
    /// and booleans as `Value` prints them; null, blank, arrays, objects absent.
    pub(crate) fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Text(s) => {
                let s = crate::lenient::trim(s);
                (!s.is_empty()).then_some(Cow::Borrowed(s))
            }
            Scalar::Number(n) => Some(Cow::Owned(n.to_string())),
            Scalar::Bool(b) => Some(Cow::Owned(b.to_string())),
            Scalar::Value(v) => crate::lenient::scalar_str(v).map(|s| Cow::Owned(s.into_owned())),
            Scalar::Null | Scalar::Array(_) | Scalar::Object => None,
        }
    }
}

/// How a member is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Scalars kept, arrays and objects read through.
    Scalar,
    /// Read whole into a `Value` (nested objects a parser looks into).
    Value,
}

/// The members named in `names` of one JSON object, by slot (the name's
/// index). `None` for a name the object does not have.
pub(crate) struct Members<'de, const N: usize> {
    pub(crate) slots: [Option<Scalar<'de>>; N],
}

impl<'de, const N: usize> Members<'de, N> {
    pub(crate) fn get(&self, slot: usize) -> Option<&Scalar<'de>> {
        self.slots[slot].as_ref()
    }
}

/// What a body is: an object's members, or some other JSON value (read
/// through and checked, not kept).
pub(crate) enum Shape<'de, const N: usize> {
    Object(Members<'de, N>),
    Other,
}

/// Reads one JSON value: the members of `names` if it is an object.
pub(crate) struct ObjectSeed<'n, const N: usize> {
    pub(crate) names: &'n [&'static str; N],
    pub(crate) index: &'n NameIndex<N>,
    pub(crate) kinds: &'n [Kind; N],
}

impl<'de, const N: usize> DeserializeSeed<'de> for ObjectSeed<'_, N> {
    type Value = Shape<'de, N>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for ObjectSeed<'_, N> {
    type Value = Shape<'de, N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = [const { None }; N];
        while let Some(slot) = map.next_key_seed(SlotOf { names: self.names, index: self.index })? {
            match slot {
                None => {
                    map.next_value::<Checked>()?;
                }
                Some(i) => {
                    slots[i] = Some(match self.kinds[i] {
                        Kind::Scalar => map.next_value::<Scalar<'de>>()?,
                        Kind::Value => Scalar::Value(Box::new(map.next_value::<Value>()?)),
                    });
                }
            }
        }
        Ok(Shape::Object(Members { slots }))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Shape::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Shape::Other)
    }
}

/// A member name's slot, compared without copying the name.
struct SlotOf<'n, const N: usize> {
    names: &'n [&'static str; N],
    index: &'n NameIndex<N>,
}

impl<'de, const N: usize> DeserializeSeed<'de> for SlotOf<'_, N> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for SlotOf<'_, N> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.index.find(self.names, key.as_bytes()))
    }
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

pub(crate) struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        // `Value` keeps a non-finite float as `null`.
        Ok(Number::from_f64(n).map_or(Scalar::Null, Scalar::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(s)))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut len = 0;
        while seq.next_element::<Checked>()?.is_some() {
            len += 1;
        }
        Ok(Scalar::Array(len))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

/// Any JSON value, parsed and checked as `Value` would be, and dropped.
/// (`IgnoredAny` checks less: it accepts a lone surrogate escape or a
/// number out of range that `Value` refuses.)
pub(crate) struct Checked;

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Checked)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// A table of names grouped by length, so a name is compared only with the
/// few of its length (built at compile time; at most 255 names of up to 32
/// bytes).
pub(crate) struct NameIndex<const N: usize> {
    /// Slots in order of name length.
    by_length: [u8; N],
    /// `by_length[starts[len]..starts[len + 1]]` are the names of `len` bytes.
    starts: [u8; 34],
}

impl<const N: usize> NameIndex<N> {
    pub(crate) const fn new(names: &[&str; N]) -> Self {
        assert!(N < 256, "too many names");
        let mut starts = [0u8; 34];
        let mut by_length = [0u8; N];
        let mut filled = 0;
        let mut len = 0;
        while len <= 32 {
            starts[len] = filled as u8;
            let mut i = 0;
            while i < N {
                assert!(names[i].len() <= 32, "a name longer than 32 bytes");
                if names[i].len() == len {
                    by_length[filled] = i as u8;
                    filled += 1;
                }
                i += 1;
            }
            len += 1;
        }
        starts[33] = filled as u8;
        Self { by_length, starts }
    }

    /// The slot of `key` in `names` (the table this index was built from).
    pub(crate) fn find(&self, names: &[&str; N], key: &[u8]) -> Option<usize> {
        if key.len() > 32 {
            return None;
        }
        let (from, to) = (usize::from(self.starts[key.len()]), usize::from(self.starts[key.len() + 1]));
        // The first byte before the whole name: most names of a length
        // differ there, and the comparison of the rest is a call.
        self.by_length[from..to].iter().map(|&i| usize::from(i)).find(|&i| {
            let name = names[i].as_bytes();
            name.first() == key.first() && name == key
        })
    }
}

/// The slots of `names` in `all`, at compile time (a name missing from
/// `all` fails the build).
pub(crate) const fn slots<const K: usize, const N: usize>(names: [&str; K], all: &[&str; N]) -> [usize; K] {
    let mut out = [0; K];
    let mut i = 0;
    while i < K {
        let mut j = 0;
        loop {
            assert!(j < N, "a field name missing from the table");
            if bytes_eq(names[i].as_bytes(), all[j].as_bytes()) {
                out[i] = j;
                break;
            }
            j += 1;
        }
        i += 1;
    }
    out
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 4] = ["a", "b", "nested", "list"];
    const KINDS: [Kind; 4] = [Kind::Scalar, Kind::Scalar, Kind::Value, Kind::Scalar];

    fn members(body: &str) -> Result<Shape<'_, 4>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(body);
        let shape = ObjectSeed { names: &NAMES, index: &NameIndex::new(&NAMES), kinds: &KINDS }.deserialize(&mut de)?;
        de.end()?;
        Ok(shape)
    }

    #[test]
    fn names_are_found_as_by_a_scan() {
        const MANY: [&str; 12] = ["time", "type", "data", "from", "to", "id", "tag", "uuid", "", "t", "timer", "times"];
        let index = NameIndex::new(&MANY);
        let keys =
            MANY.iter().map(|k| k.to_string()).chain(["tima", "xime", "ti", "dat", "TIME", "uuie"].map(String::from));
        for key in keys.chain([("x".repeat(33))]) {
            let scan = MANY.iter().position(|n| n.as_bytes() == key.as_bytes());
            assert_eq!(index.find(&MANY, key.as_bytes()), scan, "{key:?}");
        }
    }

    fn value_error(body: &str) -> Option<String> {
        serde_json::from_str::<Value>(body).err().map(|e| e.to_string())
    }

    #[test]
    fn members_read_as_the_object_value_holds_them() {
        let body = r#"{"a": " x ", "z": [1, {"q": 2}], "b": 1.5, "nested": {"k": [1]}, "list": [1, 2, 3], "a": 7}"#;
        let Ok(Shape::Object(m)) = members(body) else { panic!("an object") };
        let value: Value = serde_json::from_str(body).unwrap();
        assert_eq!(m.get(0).unwrap().text().as_deref(), crate::lenient::scalar_str(&value["a"]).as_deref());
        assert_eq!(m.get(1).unwrap().text().as_deref(), Some("1.5"));
        assert_eq!(m.get(2), Some(&Scalar::Value(Box::new(value["nested"].clone()))));
        assert_eq!(m.get(3), Some(&Scalar::Array(3)));
    }

    #[test]
    fn text_is_borrowed_from_the_body_unless_it_has_escapes() {
        let Ok(Shape::Object(m)) = members(r#"{"a": "plain", "b": "esc\"aped"}"#) else { panic!("an object") };
        assert!(matches!(m.get(0), Some(Scalar::Text(Cow::Borrowed("plain")))));
        assert!(matches!(m.get(1), Some(Scalar::Text(Cow::Owned(s))) if s == "esc\"aped"));
    }

    #[test]
    fn bodies_value_refuses_are_refused_with_the_same_error() {
        for body in [
            r#"{"z": "\ud800"}"#,
            r#"{"z": [1e400]}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} x"#,
            "{\"z\": \"tab\tinside\"}",
            r#"{"z": {"y": nul}}"#,
            &format!("{{\"z\": {}1{}}}", "[".repeat(200), "]".repeat(200)),
        ] {
            let ours = members(body).err().map(|e| e.to_string());
            assert!(ours.is_some(), "{body}");
            assert_eq!(ours, value_error(body), "{body}");
        }
    }

    #[test]
    fn other_json_values_are_read_through_and_not_an_object() {
        for body in ["[1, {\"a\": 2}]", "\"text\"", "12", "true", "null"] {
            assert!(matches!(members(body), Ok(Shape::Other)), "{body}");
        }
    }
}
