//! Generates `phone_tables.rs` (in OUT_DIR): the part of libphonenumber's
//! metadata that `src/phone.rs` needs, read through the `phonenumber` crate
//! (a build-dependency only) so the tables always match the library the
//! oracle tests compare against.
//!
//! Per region (every `<territory>`, including the non-geographic `001`
//! entries, grouped by country calling code with the main country first, as
//! `phonenumber::metadata::Database::by_code` orders them): id, calling
//! code, national prefix, national prefix for parsing and its transform
//! rule, international (IDD) prefix, leading digits, the general
//! descriptor's pattern and possible (local) lengths, and for validity one
//! pattern per national-number length: the union of the number-type
//! patterns (fixed line, mobile, toll free, …, the types
//! `phonenumber::is_valid` tries) whose possible lengths admit that length.
//!
//! Patterns are kept as text (whitespace removed: the library compiles them
//! with `ignore_whitespace`) and compiled lazily at run time with
//! `regex-lite`, one region at a time. Identical patterns are stored once.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};

/// Longest national significant number the library accepts.
const MAX_NSN: u16 = 17;

#[derive(Default)]
struct Patterns {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Patterns {
    fn add(&mut self, pattern: &str) -> usize {
        let clean: String = pattern.chars().filter(|c| !c.is_whitespace()).collect();
        // `ignore_whitespace` would also make `#` a comment and `\ ` a space.
        assert!(!clean.contains('#') && !pattern.contains("\\ "), "unexpected pattern syntax: {pattern}");
        if let Some(&i) = self.index.get(&clean) {
            return i;
        }
        self.list.push(clean.clone());
        self.index.insert(clean, self.list.len() - 1);
        self.list.len() - 1
    }
}

/// Possible lengths as a bit mask (bit n = length n); 0 when the list is
/// empty (the library then checks no length).
fn mask(lengths: &[u16]) -> u32 {
    assert!(lengths.windows(2).all(|w| w[0] < w[1]), "possible lengths not ascending: {lengths:?}");
    lengths.iter().fold(0, |m, &l| {
        assert!(l <= 31);
        m | (1 << l)
    })
}

/// The descriptors `phonenumber::validator::number_type` tries, in its
/// order; a number is valid when the general descriptor and one of these
/// match.
fn type_descriptors(meta: &Metadata) -> Vec<&Descriptor> {
    let d = meta.descriptors();
    [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(v) => write!(out, "Some({v:?})").unwrap(),
        None => out.push_str("None"),
    }
}

fn opt_pattern(out: &mut String, patterns: &mut Patterns, value: Option<&str>) {
    match value {
        Some(v) => write!(out, "{}", patterns.add(v)).unwrap(),
        None => out.push_str("NONE"),
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut patterns = Patterns::default();
    let mut regions = String::new();
    let mut count = 0usize;
    let mut india = None;
    let mut by_code: Vec<(u16, usize, usize)> = Vec::new();
    for code in 1..1000u16 {
        let Some(metas) = DATABASE.by_code(&code) else { continue };
        let ids = DATABASE.region(&code).expect("regions of a known code");
        assert_eq!(ids, metas.iter().map(|m| m.id()).collect::<Vec<_>>());
        by_code.push((code, count, metas.len()));
        for meta in metas {
            let general = meta.descriptors().general();
            // Slot n: national numbers of n digits; the last slot: longer
            // than MAX_NSN (only types without possible lengths admit them).
            let mut valid = [usize::MAX; MAX_NSN as usize + 2];
            let types = type_descriptors(meta);
            for d in &types {
                assert!(d.possible_length().iter().all(|&l| l <= MAX_NSN));
            }
            for (len, slot) in valid.iter_mut().enumerate() {
                let mut admitted: Vec<String> = Vec::new();
                for d in &types {
                    let fits = d.possible_length().is_empty() || d.possible_length().contains(&(len as u16));
                    let alternative = format!("(?:{})", d.national_number().as_str());
                    // Some types share a pattern (fixed line and mobile in
                    // NANPA): once is enough for "any type matches".
                    if fits && !admitted.contains(&alternative) {
                        admitted.push(alternative);
                    }
                }
                if !admitted.is_empty() {
                    *slot = patterns.add(&admitted.join("|"));
                }
            }
            write!(
                regions,
                "    Region {{ id: {:?}, code: {}, general: {}, general_lengths: {}, general_local: {}, valid: [",
                meta.id(),
                meta.country_code(),
                patterns.add(general.national_number().as_str()),
                mask(general.possible_length()),
                mask(general.possible_local_length()),
            )
            .unwrap();
            for v in valid {
                if v == usize::MAX {
                    regions.push_str("NONE, ");
                } else {
                    write!(regions, "{v}, ").unwrap();
                }
            }
            regions.push_str("], idd: ");
            opt_pattern(&mut regions, &mut patterns, meta.international_prefix().map(|r| r.as_str()));
            regions.push_str(", national_prefix: ");
            opt_str(&mut regions, meta.national_prefix());
            regions.push_str(", prefix_for_parsing: ");
            opt_pattern(&mut regions, &mut patterns, meta.national_prefix_for_parsing().map(|r| r.as_str()));
            regions.push_str(", transform: ");
            opt_str(&mut regions, meta.national_prefix_transform_rule());
            regions.push_str(", leading_digits: ");
            opt_pattern(&mut regions, &mut patterns, meta.leading_digits().map(|r| r.as_str()));
            regions.push_str(" },\n");
            if meta.id() == "IN" {
                india = Some(count);
            }
            count += 1;
        }
    }

    let mut out = String::new();
    writeln!(out, "// Generated by shared/payloads/build.rs from the phonenumber crate's metadata. Do not edit.")
        .unwrap();
    writeln!(out, "pub(crate) static PATTERN_SOURCES: [&str; {}] = [", patterns.list.len()).unwrap();
    for p in &patterns.list {
        writeln!(out, "    {p:?},").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(out, "pub(crate) static REGIONS: [Region; {count}] = [\n{regions}];").unwrap();
    writeln!(out, "pub(crate) const INDIA: u16 = {};", india.expect("IN in the metadata")).unwrap();
    writeln!(out, "/// (calling code, first index in REGIONS, number of regions), sorted by code.").unwrap();
    writeln!(out, "pub(crate) static CODES: [(u16, u16, u16); {}] = [", by_code.len()).unwrap();
    for (code, first, n) in by_code {
        writeln!(out, "    ({code}, {first}, {n}),").unwrap();
    }
    writeln!(out, "];").unwrap();
    let path = Path::new(&std::env::var("OUT_DIR").unwrap()).join("phone_tables.rs");
    std::fs::write(path, out).unwrap();
}
