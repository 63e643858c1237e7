//! Phone numbers in E.164, normalised with libphonenumber's metadata.
//!
//! The metadata (every region's calling code, prefixes and number patterns)
//! is read from the `phonenumber` crate at build time (`build.rs`) into
//! static tables; at run time a number costs its own region's few regular
//! expressions (`regex-lite`, compiled on first use per region and pattern)
//! and no metadata load. The reading is the one `phonenumber::parse` and
//! `phonenumber::is_valid` (0.3) make for the characters accepted here,
//! quirks included (see `normalise` and `read`); `tests/phone_oracle.rs`
//! proves it against the library on every region's example numbers and the
//! recorded events.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use regex_lite::Regex;

/// No pattern / no value in the generated tables.
const NONE: u16 = u16::MAX;

/// One `<territory>` of the metadata, as `build.rs` writes it. Pattern
/// fields are indices into `PATTERN_SOURCES`.
struct Region {
    id: &'static str,
    code: u16,
    /// The general descriptor: any number of the region matches it.
    general: u16,
    /// Possible lengths of the general descriptor (bit n: n digits; 0: none listed).
    general_lengths: u32,
    general_local: u32,
    /// Per national number length (last slot: longer than 17), the union of
    /// the number-type patterns admitting that length; `NONE` if no type does.
    valid: [u16; 19],
    /// International (IDD) prefix, e.g. `00`.
    idd: u16,
    national_prefix: Option<&'static str>,
    prefix_for_parsing: u16,
    transform: Option<&'static str>,
    /// For regions sharing a calling code: the leading digits that pick it.
    leading_digits: u16,
}

mod tables {
    use super::{NONE, Region};
    include!(concat!(env!("OUT_DIR"), "/phone_tables.rs"));
}
use tables::{CODES, PATTERN_SOURCES, REGIONS};

static COMPILED: [OnceLock<Regex>; PATTERN_SOURCES.len()] = [const { OnceLock::new() }; PATTERN_SOURCES.len()];

mod digit_dfa;
use digit_dfa::LazyDfa;

/// Each pattern's digit DFA, for `is_match` (`find`, `captures` and
/// `replace` stay with regex-lite: they are not on every number's path).
static DFAS: [LazyDfa; PATTERN_SOURCES.len()] = [const { LazyDfa::new() }; PATTERN_SOURCES.len()];

/// A pattern, compiled on first use, anchored at the start only: the
/// library matches with `find` and requires the match to start at 0.
fn pattern(index: u16) -> &'static Regex {
    let i = usize::from(index);
    COMPILED[i].get_or_init(|| {
        Regex::new(&format!("^(?:{})", PATTERN_SOURCES[i])).expect("libphonenumber patterns compile with regex-lite")
    })
}

/// Which patterns are plain digits, worked out at compile time.
static LITERAL: [bool; PATTERN_SOURCES.len()] = {
    let mut literal = [false; PATTERN_SOURCES.len()];
    let mut i = 0;
    while i < PATTERN_SOURCES.len() {
        let source = PATTERN_SOURCES[i].as_bytes();
        let mut digits = !source.is_empty();
        let mut j = 0;
        while j < source.len() {
            digits &= source[j].is_ascii_digit();
            j += 1;
        }
        literal[i] = digits;
        i += 1;
    }
    literal
};

/// A pattern that is plain digits (an IDD `00`, a national prefix `0`):
/// the anchored regex matches exactly that prefix, so no regex is run.
fn literal(index: u16) -> Option<&'static str> {
    let i = usize::from(index);
    LITERAL[i].then_some(PATTERN_SOURCES[i])
}

/// Where pattern `index`'s match at the start of `s` ends (`find`). The
/// digit DFA first: most numbers do not match at all (Australia's `0` or
/// `183[12]` before a mobile number), and then no regex is run.
fn match_end(index: u16, s: &str) -> Option<usize> {
    match literal(index) {
        Some(prefix) => s.starts_with(prefix).then_some(prefix.len()),
        None if !is_match(index, s) => None,
        None => pattern(index).find(s).map(|m| m.end()),
    }
}

/// Whether pattern `index` matches at the start of `s`.
fn is_match(index: u16, s: &str) -> bool {
    match literal(index) {
        Some(prefix) => s.starts_with(prefix),
        None => DFAS[usize::from(index)]
            .is_match(PATTERN_SOURCES[usize::from(index)], s)
            .unwrap_or_else(|| pattern(index).is_match(s)),
    }
}

fn has_length(mask: u32, len: usize) -> bool {
    len < 32 && mask & (1 << len) != 0
}

/// For each calling code below 1000, its index in `CODES` (`u8::MAX`: none).
static CODE_INDEX: [u8; 1000] = {
    assert!(CODES.len() < u8::MAX as usize);
    let mut index = [u8::MAX; 1000];
    let mut i = 0;
    while i < CODES.len() {
        index[CODES[i].0 as usize] = i as u8;
        i += 1;
    }
    index
};

/// The regions of a calling code, main country first.
fn regions_of(code: u16) -> Option<&'static [Region]> {
    let i = *CODE_INDEX.get(usize::from(code))?;
    let (_, first, n) = *CODES.get(usize::from(i))?;
    Some(&REGIONS[usize::from(first)..usize::from(first + n)])
}

impl Region {
    /// `Descriptor::is_match` of the general descriptor.
    fn general_match(&self, national: &str) -> bool {
        (self.general_lengths == 0 || has_length(self.general_lengths, national.len()))
            && is_match(self.general, national)
    }

    /// `validator::length(.., Type::Unknown)` is `TooShort`.
    fn too_short(&self, len: usize) -> bool {
        self.general_lengths != 0
            && !has_length(self.general_local, len)
            && len < self.general_lengths.trailing_zeros() as usize
    }

    /// `validator::length(.., Type::Unknown).is_possible()`.
    fn possible(&self, len: usize) -> bool {
        self.general_lengths != 0 && (has_length(self.general_local, len) || has_length(self.general_lengths, len))
    }

    /// `validator::number_type(..) != Type::Unknown`.
    /// The number types' pattern first: narrower than the general one, it
    /// turns most invalid numbers away within a digit or two.
    fn valid(&self, national: &str) -> bool {
        let slot = self.valid[national.len().min(18)];
        slot != NONE && is_match(slot, national) && self.general_match(national)
    }

    /// `helper::national_number` then the second strip of the national
    /// prefix that `parser::parse` makes.
    fn strip_national_prefix<'a>(&self, national: &'a str) -> Cow<'a, str> {
        let mut out = match (self.prefix_for_parsing, self.transform) {
            (NONE, _) => Cow::Borrowed(national),
            (index, None) => Cow::Borrowed(match_end(index, national).map_or(national, |end| &national[end..])),
            (index, Some(rule)) => {
                let re = pattern(index);
                match re.captures(national) {
                    None => Cow::Borrowed(national),
                    Some(caps) if caps.get(caps.len() - 1).is_none() => Cow::Borrowed(&national[caps[0].len()..]),
                    Some(_) => {
                        let transformed = re.replace(national, rule);
                        if self.general_match(national) && !self.general_match(&transformed) {
                            Cow::Borrowed(national)
                        } else {
                            Cow::Owned(transformed.into_owned())
                        }
                    }
                }
            }
        };
        // Without a pattern for parsing, the library strips the national
        // prefix once in `national_number` and once more in `parse`.
        let strips = if self.prefix_for_parsing == NONE { 2 } else { 1 };
        if let Some(prefix) = self.national_prefix {
            for _ in 0..strips {
                if out.starts_with(prefix) {
                    out = skip(out, prefix.len());
                }
            }
        }
        out
    }
}

/// `validator::source_for`: the region whose rules a number of `code`
/// follows, and whether it was picked because the number is valid there
/// (then `is_valid` of the same digits is known to be true).
fn source_for(code: u16, national: &str) -> Option<(&'static Region, bool)> {
    let regions = regions_of(code)?;
    if let [only] = regions {
        return Some((only, false));
    }
    regions.iter().find_map(|r| match r.leading_digits {
        NONE => r.valid(national).then_some((r, true)),
        leading => is_match(leading, national).then_some((r, false)),
    })
}

/// The region assumed for numbers that arrive without a country code
/// (`DEFAULT_PHONE_REGION`, default `IN`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(u16);

impl PhoneRegion {
    pub const INDIA: PhoneRegion = PhoneRegion(tables::INDIA);

    fn region(self) -> &'static Region {
        &REGIONS[usize::from(self.0)]
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self::INDIA
    }
}

impl fmt::Debug for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneRegion({})", self.region().id)
    }
}

impl FromStr for PhoneRegion {
    type Err = PhoneError;
    /// A region id of the metadata (`IN`, `au`); not the non-geographic `001`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let id = s.trim().to_ascii_uppercase();
        REGIONS
            .iter()
            .position(|r| r.id == id && r.id != "001")
            .map(|i| PhoneRegion(i as u16))
            .ok_or(PhoneError::UnknownRegion)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no phone number given")]
    Missing,
    #[error("not a phone number")]
    NotANumber,
    #[error("phone number has an impossible length for its country")]
    ImpossibleLength,
    #[error("unknown phone region")]
    UnknownRegion,
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), checked against
/// its country's possible lengths. Cannot hold anything else.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// Values providers put in number fields when they have no number.
const SENTINELS: &[&str] =
    &["na", "n/a", "null", "none", "unknown", "anonymous", "private", "phone number not available"];

/// What `PhoneNumber::read` knows of its result's `is_valid`.
enum Known {
    Valid(bool),
    /// `read(None, ..)` of the result's E.164 form is the reading the
    /// result was written from (`code`, and the digits after it), not yet
    /// checked; `known_valid` as that reading has it.
    Reading {
        code: u16,
        known_valid: bool,
    },
    Nothing,
}

/// A number read the way `phonenumber::parse` reads it: calling code and
/// national significant number (digits, leading zeros kept), borrowed from
/// the text read when it is there as it is.
#[derive(Debug)]
struct Reading<'a> {
    code: u16,
    national: Cow<'a, str>,
    /// Reading it already found the number valid (`source_for` picked its
    /// region by validity, for these very digits).
    known_valid: bool,
    /// Read in a region, the digits began with the region's calling code
    /// and the reading took it off (`911234567890` in India).
    code_taken: bool,
}

impl PartialEq for Reading<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.national == other.national
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '.' | '(' | ')')
}

/// The ASCII digits of `s`: borrowed when they are `s` after its leading
/// `+`s (how most numbers arrive), copied otherwise.
fn digits(s: &str) -> Cow<'_, str> {
    let body = s.trim_start_matches('+');
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(s.len());
    out.extend(s.bytes().filter(u8::is_ascii_digit).map(char::from));
    Cow::Owned(out)
}

/// `s` without its first `n` bytes (ASCII digits), copying nothing when borrowed.
fn skip(s: Cow<'_, str>, n: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(s) => Cow::Borrowed(&s[n..]),
        Cow::Owned(mut s) => {
            s.drain(..n);
            Cow::Owned(s)
        }
    }
}

/// The value of 1 to 3 ASCII digits (a calling code), as `str::parse`
/// gives it for such text, without the parsing machinery.
fn code_value(digits: &[u8]) -> u16 {
    digits.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0'))
}

/// How many digits a calling code (1 to 999) has.
fn code_len(code: u16) -> usize {
    if code >= 100 {
        3
    } else if code >= 10 {
        2
    } else {
        1
    }
}

/// A calling code's digits (1 to 3), without the formatting machinery.
fn code_text(code: u16) -> ([u8; 5], usize) {
    let mut buf = [0u8; 5];
    let mut n = code;
    let mut len = 0;
    loop {
        buf[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf[..len].reverse();
    (buf, len)
}

/// The library's first step for the characters `parse` lets through
/// (digits, `+ - ( ) .`, space, no-break space): the national part and, for
/// the RFC 3966 form, the country code written after `+`.
///
/// RFC 3966 (`tel:` without the scheme) is tried first: without spaces,
/// `+` then everything up to the first `-.()` is the country code
/// (`+91-98765-43210` → `91`; `+9198765-43210` → `9198765`, refused), and
/// the rest must be digits and `-.()`. Otherwise the natural form: from the
/// first `+` or digit to the last digit.
fn split(s: &str) -> Option<(&str, Option<&str>)> {
    let rfc3966 = || {
        if s.contains(' ') {
            return None;
        }
        let (prefix, rest) = match s.strip_prefix('+') {
            Some(after) if after.chars().next().is_some_and(|c| !is_separator(c)) => {
                let end = after.find(is_separator).unwrap_or(after.len());
                (Some(&after[..end]), &after[end..])
            }
            _ => (None, s),
        };
        let national_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || is_separator(c));
        national_ok.then_some((rest, prefix))
    };
    let natural = || {
        let start = s.find(|c: char| c == '+' || c.is_ascii_digit())?;
        let from = &s[start..];
        let end = from.rfind(|c: char| c.is_ascii_digit())? + 1;
        Some((&from[..end], None))
    };
    rfc3966().or_else(natural)
}

/// `is_viable`: two digits alone, or leading `+`s then at least three
/// digits and no further `+`.
fn viable(national: &str) -> bool {
    if national.len() < 2 {
        return false;
    }
    if national.len() == 2 && national.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let body = national.trim_start_matches('+');
    !body.contains('+') && body.bytes().filter(u8::is_ascii_digit).count() >= 3
}

/// Digits, or `+` and digits (how most numbers arrive): `split` gives the
/// whole text as the national part, `viable` is a matter of length, and
/// the digits are those after the `+`. `None` for any other text, and for
/// such text that is not viable.
fn plain_digits(s: &str) -> Option<&str> {
    let plain = s.strip_prefix('+').unwrap_or(s);
    let viable = plain.len() >= 3 || (plain.len() == 2 && plain.len() == s.len());
    (viable && plain.bytes().all(|b| b.is_ascii_digit())).then_some(plain)
}

/// A number's text as `read_text` takes it.
#[derive(Clone, Copy)]
enum Text<'a> {
    /// `plain_digits`: the digits, and whether a `+` came before them.
    Plain {
        digits: &'a str,
        plus: bool,
    },
    Other(&'a str),
}

impl<'a> Text<'a> {
    fn of(s: &'a str) -> Self {
        match plain_digits(s) {
            Some(digits) => Text::Plain { digits, plus: digits.len() != s.len() },
            None => Text::Other(s),
        }
    }
}

/// `phonenumber::parse(region, s)` for the accepted characters: `None`
/// where the library returns an error.
fn read<'a>(region: Option<&'static Region>, s: &'a str) -> Option<Reading<'a>> {
    read_text(region, Text::of(s))
}

/// `read` of a text already told plain or not.
fn read_text<'a>(region: Option<&'static Region>, text: Text<'a>) -> Option<Reading<'a>> {
    let (plus, raw_prefix, mut national) = match text {
        Text::Plain { digits, plus } => (plus, None, Cow::Borrowed(digits)),
        Text::Other(s) => {
            let (raw_national, raw_prefix) = split(s)?;
            if !viable(raw_national) {
                return None;
            }
            (raw_national.starts_with('+'), raw_prefix, digits(raw_national))
        }
    };
    let mut code_taken = false;
    // `helper::country_code` and `helper::international_prefix`.
    let code = if let Some(prefix) = raw_prefix {
        if national.len() <= 2 {
            return None;
        }
        let code: u16 = digits(prefix).parse().ok()?;
        regions_of(code)?;
        code
    } else {
        let idd = region.filter(|r| r.idd != NONE).and_then(|r| match_end(r.idd, &national));
        let mut international = plus;
        if let Some(end) = idd
            && !national[end..].starts_with('0')
        {
            international = true;
            national = skip(national, end);
        }
        if international {
            if national.len() <= 2 || national.starts_with('0') {
                return None;
            }
            // `national` is digits alone, at least three of them.
            let leading = national.as_bytes();
            let len = (1..=3).find(|&len| regions_of(code_value(&leading[..len])).is_some())?;
            let code = code_value(&leading[..len]);
            national = skip(national, len);
            code
        } else {
            let r = region?;
            // The digits begin with the code's: as many digits as it has,
            // of its value (no leading zero, as the code has none).
            let len = code_len(r.code);
            if national.len() >= len
                && code_value(&national.as_bytes()[..len]) == r.code
                && (!r.possible(national.len()) || !r.general_match(&national))
            {
                national = skip(national, len);
                code_taken = true;
            }
            r.code
        }
    };
    // `parser::parse`: the national prefix, with the given region's rules
    // (even for a number with another country code, as the library does).
    let (rules, mut known_valid) = match region {
        Some(r) => (Some(r), false),
        None => match source_for(code, national.trim_start_matches('0')) {
            Some((r, valid)) => (Some(r), valid && !national.starts_with('0')),
            None => (None, false),
        },
    };
    if let Some(rules) = rules {
        let stripped = rules.strip_national_prefix(&national);
        // A borrowed result is a suffix of the digits: changed if shorter.
        let changed = match &stripped {
            Cow::Borrowed(rest) => rest.len() != national.len(),
            Cow::Owned(transformed) => transformed != national.as_ref(),
        };
        if !rules.too_short(stripped.len()) && changed {
            national = match stripped {
                // Borrowed, it is what is left of the digits after a prefix.
                Cow::Borrowed(rest) => {
                    let taken = national.len() - rest.len();
                    skip(national, taken)
                }
                Cow::Owned(transformed) => Cow::Owned(transformed),
            };
            known_valid = false;
        }
    }
    if !(2..=17).contains(&national.len()) {
        return None;
    }
    if !fits(&national) {
        return None;
    }
    Some(Reading { code, national, known_valid, code_taken })
}

/// `NationalNumber::from_str` accepts `national`: leading zeros, then a
/// value below 2^56 (any 1 to 16 digits are).
fn fits(national: &str) -> bool {
    let significant = national.trim_start_matches('0');
    if significant.len() <= 16 && significant.bytes().all(|b| b.is_ascii_digit()) {
        !significant.is_empty()
    } else {
        significant.parse::<u64>().is_ok_and(|value| value < 1 << 56)
    }
}

/// E.164: `+`, the code, the national number with its leading zeros
/// (Italy's fixed lines), as `phonenumber`'s E.164 formatter writes it.
fn e164_of(code: u16, national: &str) -> String {
    let mut e164 = String::with_capacity(1 + 3 + national.len());
    let (code, len) = code_text(code);
    e164.push('+');
    e164.extend(code[..len].iter().map(|&d| char::from(d)));
    e164.push_str(national);
    e164
}

/// `phonenumber::is_valid` of a reading.
fn is_valid(reading: &Reading) -> bool {
    reading.known_valid || national_valid(reading.code, &reading.national)
}

/// `phonenumber::is_valid` of the number `code` and `national` (digits).
fn national_valid(code: u16, national: &str) -> bool {
    source_for(code, national).is_some_and(|(r, valid)| valid || r.valid(national))
}

impl PhoneNumber {
    /// Parses what a provider sends: `+911234567890`, `911234567890`,
    /// `09876543210`, `98765 43210`, `+1 (415) 555-0100`. Numbers without
    /// a country code are read in `region`.
    pub fn parse(raw: &str, region: PhoneRegion) -> Result<Self, PhoneError> {
        Self::read(raw, region).map(|(number, _)| number)
    }

    /// `parse`, and whether the number is valid (`is_valid` of the result),
    /// reusing what the reading already found: callers that need both never
    /// read or match the number twice.
    pub(crate) fn parse_with_validity(raw: &str, region: PhoneRegion) -> Result<(Self, bool), PhoneError> {
        let (number, known) = Self::read(raw, region)?;
        let valid = match known {
            Known::Valid(valid) => valid,
            Known::Reading { code, known_valid } => {
                known_valid || national_valid(code, &number.0[1 + code_len(code)..])
            }
            Known::Nothing => number.is_valid(),
        };
        Ok((number, valid))
    }

    /// `parse`, with what is known of the result's `is_valid`.
    fn read(raw: &str, region: PhoneRegion) -> Result<(Self, Known), PhoneError> {
        let trimmed = crate::lenient::trim(raw);
        if trimmed.is_empty() {
            return Err(PhoneError::Missing);
        }
        // Digits, or `+` and digits, are no sentinel and only characters
        // a number may have: the checks would pass.
        let text = Text::of(trimmed);
        if let Text::Other(_) = text {
            if SENTINELS.iter().any(|s| trimmed.eq_ignore_ascii_case(s)) {
                return Err(PhoneError::Missing);
            }
            if !trimmed.chars().any(|c| c.is_ascii_digit())
                || trimmed.chars().any(|c| !matches!(c, '0'..='9' | ' ' | '+' | '-' | '(' | ')' | '.' | '\u{a0}'))
            {
                return Err(PhoneError::NotANumber);
            }
        }
        // "00" is the international prefix in most regions; libphonenumber
        // only applies the default region's own prefix, so normalise it.
        let with_plus;
        let (candidate, text) = match trimmed.strip_prefix("00") {
            Some(rest) if rest.len() > 8 => {
                with_plus = format!("+{rest}");
                (with_plus.as_str(), Text::of(&with_plus))
            }
            _ => (trimmed, text),
        };
        let region = region.region();
        let reading = read_text(Some(region), text).ok_or(PhoneError::NotANumber)?;
        // Providers often send international numbers without the `+`
        // (`61491573087`). Read in the default region such a number is
        // wrong (`+9161491573087`), so when that reading is not a valid
        // number and the `+` reading is, take the `+` reading. The `+`
        // reading is checked first: when it is invalid (or the same), the
        // region reading stands without checking it.
        // (Digits that read are viable: `Text::of` has them as plain.)
        let bare_digits = matches!(text, Text::Plain { plus: false, .. }) && !candidate.starts_with('0');
        // What is known of `read(None, "+{candidate}")`: the result's
        // `is_valid` when the E.164 form is that very string.
        let mut plus = Known::Nothing;
        let reading = if !bare_digits {
            reading
        } else if reading.code_taken && matches!(regions_of(reading.code), Some([only]) if std::ptr::eq(only, region)) {
            // The digits began with the region's own calling code, which
            // is no other region's and, calling codes being prefix-free,
            // the code the `+` reading finds: that reading takes the same
            // code off the same digits and reads the rest with the same
            // region's rules, so it is this reading (not read again).
            plus = Known::Reading { code: reading.code, known_valid: false };
            reading
        } else {
            // `read(None, "+{candidate}")`: `+` and digits are plain from
            // three digits on, and shorter they are no number.
            let plus_form = Text::Plain { digits: candidate, plus: true };
            match (candidate.len() >= 3).then(|| read_text(None, plus_form)).flatten() {
                Some(international) if international != reading => {
                    let valid = is_valid(&international);
                    plus = Known::Valid(valid);
                    if valid && !is_valid(&reading) { international } else { reading }
                }
                Some(international) => {
                    plus = Known::Reading { code: international.code, known_valid: international.known_valid };
                    reading
                }
                None => {
                    plus = Known::Valid(false);
                    reading
                }
            }
        };
        // `+` and digits read as `+`, code and all the digits after it (no
        // IDD or national prefix taken off: each shortens them) are the
        // E.164 form already: the code's digits are the first ones, which
        // are not a leading zero (a `+0` reading is none).
        let canonical = matches!(text, Text::Plain { plus: true, .. })
            && matches!(reading.national, Cow::Borrowed(_))
            && candidate.len() == 1 + code_len(reading.code) + reading.national.len();
        let e164 = if canonical { candidate.to_owned() } else { e164_of(reading.code, &reading.national) };
        let digits = e164.len() - 1;
        if !(8..=15).contains(&digits) {
            return Err(PhoneError::ImpossibleLength);
        }
        let national_len = reading.national.trim_start_matches('0').len();
        let min_national = if reading.code == 91 { 10 } else { 4 };
        if national_len < min_national {
            return Err(PhoneError::ImpossibleLength);
        }
        let known = if bare_digits && e164[1..] == *candidate { plus } else { Known::Nothing };
        Ok((Self(e164), known))
    }

    /// Compiles the few patterns an Indian number in E.164 and the bare
    /// `91…` form need (the region tables themselves are static). Cheap:
    /// see docs/performance.md.
    pub fn warm_up() {
        let _ = Self::parse("+911234567890", PhoneRegion::INDIA);
        let _ = Self::parse("919876543210", PhoneRegion::INDIA);
    }

    /// `phonenumber::is_valid` of the number read from its E.164 form: it
    /// matches one of its country's number types (fixed line, mobile, …),
    /// not only a possible length.
    pub(crate) fn is_valid(&self) -> bool {
        read(None, &self.0).is_some_and(|r| is_valid(&r))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A form safe for logs: country code and last three digits only.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks any phone-like string for logging: keeps a leading `+` and up to
/// three leading digits, and the last three digits.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 6 {
        return "*".repeat(digits.len().max(3));
    }
    let head: String = digits.iter().take(2).collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    let plus = if number.trim_start().starts_with('+') { "+" } else { "" };
    format!("{plus}{head}{}{tail}", "*".repeat(digits.len() - 5))
}

impl fmt::Debug for PhoneNumber {
    // Debug output ends up in logs; never print the full number there.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(raw: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(raw, PhoneRegion::INDIA).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn truecaller_numbers_without_plus_keep_their_country_code() {
        assert_eq!(e164("911234567890").unwrap(), "+911234567890");
        assert_eq!(e164("919876543210").unwrap(), "+919876543210");
    }

    #[test]
    fn a_zero_after_the_country_code_is_a_national_prefix_and_too_short_a_number_is_refused() {
        // The seed's business number: libphonenumber reads the 0 as India's
        // trunk prefix, leaving 9 digits, which no Indian number has.
        assert_eq!(e164("910987654321"), Err(PhoneError::ImpossibleLength));
        assert_eq!(e164("+910987654321"), Err(PhoneError::ImpossibleLength));
    }

    #[test]
    fn international_numbers_without_plus_are_not_read_as_national() {
        assert_eq!(e164("61491573087").unwrap(), "+61491573087");
        assert_eq!(e164("14155550100").unwrap(), "+14155550100");
        assert_eq!(e164("447946095812").unwrap(), "+447946095812");
    }

    #[test]
    fn national_numbers_are_read_in_the_default_region() {
        assert_eq!(e164("09876543210").unwrap(), "+919876543210");
        assert_eq!(e164("98765 43210").unwrap(), "+919876543210");
        assert_eq!(e164("9876543210").unwrap(), "+919876543210");
    }

    #[test]
    fn international_formats_are_accepted() {
        assert_eq!(e164("+1 (415) 555-0100").unwrap(), "+14155550100");
        assert_eq!(e164("0044 20 7946 0958").unwrap(), "+442079460958");
        let us = PhoneNumber::parse("4155550100", "us".parse().unwrap()).unwrap();
        assert_eq!(us.as_str(), "+14155550100");
    }

    #[test]
    fn sentinels_and_garbage_are_not_numbers() {
        assert_eq!(e164("Phone number not available"), Err(PhoneError::Missing));
        assert_eq!(e164("NA"), Err(PhoneError::Missing));
        assert_eq!(e164(""), Err(PhoneError::Missing));
        assert_eq!(e164("abc123"), Err(PhoneError::NotANumber));
        assert!(e164("12").is_err());
    }

    #[test]
    fn too_short_numbers_are_refused() {
        assert!(e164("12345").is_err());
        assert!(e164("+91 12345").is_err());
    }

    #[test]
    fn masked_form_hides_all_but_the_edges() {
        let p = PhoneNumber::parse("+911234567890", PhoneRegion::INDIA).unwrap();
        assert_eq!(p.masked(), "+91*******890");
        assert!(!format!("{p:?}").contains("1234567890"));
    }

    /// `is_valid` against `phonenumber::is_valid` on every example number
    /// of the metadata, as E.164, and with a digit dropped or added.
    #[test]
    fn validity_is_the_library_validity() {
        use phonenumber::metadata::DATABASE;
        let mut cases = 0;
        for code in 1..1000u16 {
            for meta in DATABASE.by_code(&code).unwrap_or_default() {
                let d = meta.descriptors();
                let descriptors = [
                    Some(d.general()),
                    d.fixed_line(),
                    d.mobile(),
                    d.toll_free(),
                    d.premium_rate(),
                    d.shared_cost(),
                    d.personal_number(),
                    d.voip(),
                    d.pager(),
                    d.uan(),
                    d.voicemail(),
                    d.short_code(),
                ];
                for example in descriptors.into_iter().flatten().filter_map(|d| d.example()) {
                    for national in [example.to_owned(), format!("{example}1"), example[1..].to_owned()] {
                        let e164 = format!("+{code}{national}");
                        let old = phonenumber::parse(None, &e164).is_ok_and(|n| phonenumber::is_valid(&n));
                        let new = PhoneNumber(e164.clone()).is_valid();
                        assert_eq!(new, old, "{e164}");
                        cases += 1;
                    }
                }
            }
        }
        assert!(cases > 1000, "{cases}");
    }

    #[test]
    fn digits_and_code_values_are_the_old_forms() {
        for s in ["", "0", "919876543210", "+91 98765-43210", "(415) 555.0100", "\u{a0}12", "abc", "+", "00"] {
            let old: String = s.chars().filter(char::is_ascii_digit).collect();
            assert_eq!(digits(s), old, "{s:?}");
            assert_eq!(matches!(digits(s), Cow::Borrowed(_)), s.trim_start_matches('+') == old, "{s:?}");
        }
        for n in 1..1000u16 {
            assert_eq!(code_len(n), n.to_string().len(), "{n}");
            let (text, len) = code_text(n);
            assert_eq!(&text[..len], n.to_string().as_bytes(), "{n}");
        }
        for n in 0..1000u16 {
            for text in [n.to_string(), format!("{n:03}"), format!("{n:02}")] {
                if text.len() <= 3 {
                    assert_eq!(code_value(text.as_bytes()), text.parse::<u16>().unwrap(), "{text}");
                }
            }
        }
    }

    /// The E.164 text of `+` and digits taken as it is equals the text
    /// written from the reading.
    #[test]
    fn canonical_plus_numbers_are_their_own_e164() {
        let mut canonical = 0;
        for region in ["IN", "US", "AU", "GB", "IT"] {
            let r = region.parse::<PhoneRegion>().unwrap().region();
            for s in sample_numbers()
                .iter()
                .filter(|s| s.starts_with('+'))
                .chain(&["+0091".into(), "+00919876543210".into()])
            {
                let text = Text::of(s);
                let Some(reading) = read_text(Some(r), text) else { continue };
                if matches!(text, Text::Plain { plus: true, .. })
                    && matches!(reading.national, Cow::Borrowed(_))
                    && s.len() == 1 + code_len(reading.code) + reading.national.len()
                {
                    assert_eq!(*s, e164_of(reading.code, &reading.national), "{s} in {region}");
                    canonical += 1;
                }
            }
        }
        assert!(canonical > 1000, "{canonical}");
    }

    #[test]
    fn digits_begin_with_a_code_as_its_text_says() {
        let samples: Vec<String> = sample_numbers().iter().map(|s| digits(s).into_owned()).collect();
        for &(code, _, _) in CODES.iter() {
            let (text, len) = code_text(code);
            for national in samples.iter().map(String::as_str).chain(["", "0", "00", "091", "910", "9"]) {
                let old = national.as_bytes().starts_with(&text[..len]);
                let new =
                    national.len() >= code_len(code) && code_value(&national.as_bytes()[..code_len(code)]) == code;
                assert_eq!(new, old, "{code} {national}");
            }
        }
    }

    /// The `+` reading of bare digits is skipped when the region reading
    /// took the region's own calling code off them: calling codes must be
    /// prefix-free for the `+` reading to find that same code.
    #[test]
    fn calling_codes_are_prefix_free() {
        let texts: Vec<String> = CODES.iter().map(|&(c, _, _)| c.to_string()).collect();
        for a in &texts {
            for b in &texts {
                assert!(a == b || !b.starts_with(a.as_str()), "{a} is a prefix of {b}");
            }
        }
    }

    /// Numbers of every shape: the recorded events' kinds, each region's
    /// example numbers with and without their code, and hostile strings.
    fn sample_numbers() -> Vec<String> {
        use phonenumber::metadata::DATABASE;
        let mut out: Vec<String> = [
            "918069010148",
            "919876543210",
            "09876543210",
            "+919812345678",
            "9876543210",
            "61491573087",
            "+61491573087",
            "14155550100",
            "447946095812",
            "910987654321",
            "+910987654321",
            "91",
            "919",
            "9100",
            "910",
            "9100000000000",
            "91000000000",
            "++919876543210",
            "+91 98765 43210",
            "0091 98765 43210",
            "00919876543210",
            "91 98765 43210",
            "(91) 9876543210",
            "9198765432",
            "919876543210123456789",
            "9999999999999999999999999",
            "+0091",
            "+",
            "1",
            "12",
            "123",
            "\u{a0}919876543210",
        ]
        .map(str::to_owned)
        .to_vec();
        // Bare digits after India's, Germany's and Singapore's codes (each
        // its code's only region), of every length and varied digits.
        for i in 0..600u64 {
            let digits = format!("{:020}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 3);
            let code = ["91", "49", "65"][(i % 3) as usize];
            out.push(format!("{code}{}", &digits[..(i % 15) as usize + 1]));
        }
        for code in 1..1000u16 {
            for meta in DATABASE.by_code(&code).unwrap_or_default() {
                let d = meta.descriptors();
                for example in [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free(), d.voip()]
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.example())
                {
                    out.extend([format!("{code}{example}"), format!("+{code}{example}"), format!("0{example}")]);
                    out.extend([example.to_owned(), format!("{code}0{example}"), format!("{code}{code}{example}")]);
                }
            }
        }
        out
    }

    #[test]
    fn the_plus_reading_skipped_is_the_region_reading() {
        let mut skipped = 0;
        for region in ["IN", "US", "AU", "GB", "DE", "SG"] {
            let r = region.parse::<PhoneRegion>().unwrap().region();
            for s in sample_numbers() {
                let Some(reading) = read(Some(r), &s) else { continue };
                let bare = s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
                if bare
                    && reading.code_taken
                    && matches!(regions_of(reading.code), Some([only]) if std::ptr::eq(only, r))
                {
                    let plus_form = format!("+{s}");
                    let plus = read(None, &plus_form).expect("the + reading");
                    assert_eq!(plus, reading, "{s} in {region}");
                    assert!(!plus.known_valid, "{s} in {region}");
                    skipped += 1;
                }
            }
        }
        assert!(skipped > 400, "{skipped}");
    }

    #[test]
    fn validity_with_the_reading_is_the_validity_of_the_result() {
        for region in ["IN", "US", "AU", "GB"] {
            let region = region.parse::<PhoneRegion>().unwrap();
            for s in sample_numbers() {
                let with = PhoneNumber::parse_with_validity(&s, region);
                let plain = PhoneNumber::parse(&s, region).map(|n| {
                    let valid = n.is_valid();
                    (n, valid)
                });
                assert_eq!(with, plain, "{s}");
            }
        }
    }

    #[test]
    fn literal_patterns_are_those_of_digits_alone() {
        for (i, source) in PATTERN_SOURCES.iter().enumerate() {
            let old = !source.is_empty() && source.bytes().all(|b| b.is_ascii_digit());
            assert_eq!(literal(i as u16), old.then_some(*source), "{source}");
        }
    }

    #[test]
    fn calling_codes_are_found_as_by_binary_search() {
        for code in 0..1100u16 {
            let old = CODES.binary_search_by_key(&code, |&(c, _, _)| c).ok().map(|i| {
                let (_, first, n) = CODES[i];
                &REGIONS[usize::from(first)..usize::from(first + n)]
            });
            assert_eq!(regions_of(code).map(|r| r.as_ptr()), old.map(|r| r.as_ptr()), "{code}");
            assert_eq!(regions_of(code).map(<[_]>::len), old.map(<[_]>::len), "{code}");
        }
    }

    #[test]
    fn prefix_matches_end_where_regex_lite_finds_them() {
        let mut checked = 0;
        let samples: Vec<String> = sample_numbers().iter().map(|s| digits(s).into_owned()).collect();
        for r in REGIONS.iter() {
            for index in [r.idd, r.prefix_for_parsing, r.leading_digits].into_iter().filter(|&i| i != NONE) {
                for s in &samples {
                    let old = pattern(index).find(s).map(|m| m.end());
                    assert_eq!(match_end(index, s), old, "{} on {s}", PATTERN_SOURCES[usize::from(index)]);
                    checked += 1;
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn plain_digits_are_split_viable_and_digits_as_any_text() {
        let hostile = ["", "+", "++1", "+1", "1", "12", "+12", "123", "+123", "+1 2", "1+2", "++12", "+0", "00"];
        let mut plain = 0;
        for s in sample_numbers().iter().map(String::as_str).chain(hostile) {
            let general = split(s).filter(|&(national, _)| viable(national)).map(|(national, prefix)| {
                assert_eq!(prefix, None, "{s:?}");
                (national, digits(national))
            });
            match plain_digits(s) {
                Some(digits) => {
                    assert_eq!(general, Some((s, Cow::Borrowed(digits))), "{s:?}");
                    plain += 1;
                }
                None => {
                    let body = s.strip_prefix('+').unwrap_or(s);
                    let is_plain = !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit());
                    assert!(!is_plain || general.is_none(), "{s:?}");
                }
            }
        }
        assert!(plain > 1000, "{plain}");
        // The `+` form of bare digits, as `PhoneNumber::read` passes it.
        for digits in (1..20)
            .map(|n| "9".repeat(n))
            .chain(sample_numbers().into_iter().filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())))
        {
            let plus_form = format!("+{digits}");
            assert_eq!(plain_digits(&plus_form), Some(digits.as_str()).filter(|d| d.len() >= 3), "{digits}");
            if digits.len() < 3 {
                assert!(read(None, &plus_form).is_none(), "{digits}");
            }
        }
    }

    #[test]
    fn national_numbers_fit_as_by_parsing() {
        let mut cases: Vec<String> = sample_numbers().iter().map(|s| digits(s).into_owned()).collect();
        cases.extend(
            ["", "0", "000", "72057594037927935", "72057594037927936", "99999999999999999", "+5", "1a"]
                .map(str::to_owned),
        );
        cases.extend((1..=20).map(|n| "9".repeat(n)));
        for national in cases {
            let old = national.trim_start_matches('0').parse::<u64>().is_ok_and(|value| value < 1 << 56);
            assert_eq!(fits(&national), old, "{national:?}");
        }
    }

    #[test]
    fn unknown_regions_are_refused() {
        assert_eq!("XX".parse::<PhoneRegion>(), Err(PhoneError::UnknownRegion));
        assert_eq!("in".parse::<PhoneRegion>(), Ok(PhoneRegion::INDIA));
    }
}

#[cfg(test)]
mod digit_dfa_tests {
    use super::*;

    #[test]
    fn every_metadata_pattern_matches_digits_as_regex_lite_does() {
        // Digit strings of every length a national number has, of varied
        // shapes, plus each pattern's own literal digits as a start.
        let mut inputs: Vec<String> = (0..300u64)
            .map(|i| {
                let n = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
                format!("{n:020}")[..(i % 18 + 1) as usize].to_owned()
            })
            .collect();
        inputs.push(String::new());
        let mut unsupported = 0;
        for (i, source) in PATTERN_SOURCES.iter().enumerate() {
            let regex = Regex::new(&format!("^(?:{source})")).unwrap();
            let seeded: Vec<String> = (0..10)
                .map(|d| {
                    let digits: String = source.chars().filter(char::is_ascii_digit).take(4).collect();
                    format!("{digits}{d}123456789")
                })
                .collect();
            for s in inputs.iter().chain(&seeded) {
                match DFAS[i].is_match(source, s) {
                    Some(dfa) => assert_eq!(dfa, regex.is_match(s), "pattern {i} {source} on {s}"),
                    None => unsupported += 1,
                }
            }
        }
        // Nearly every pattern is digits, classes, groups and counts.
        assert!(unsupported < 40 * 310, "{unsupported} unsupported checks");
    }
}
