//! Whether a libphonenumber pattern matches at the start of a string of
//! digits, with a lazily built DFA instead of regex-lite's PikeVM (issue 6:
//! the PikeVM was a third of a parse on India's long number-type patterns).
//!
//! The patterns are digit classes (`3`, `[2-9]`, `\d`), groups (`(?:…)`,
//! `(…)`), alternation and repetition (`?`, `*`, `+`, `{n}`, `{n,m}`). A
//! pattern is parsed once into a Thompson NFA; its DFA states (sets of NFA
//! states) and their transitions are made the first time a number needs
//! them and kept, so a warm function matches a number with one table step
//! per digit. A pattern with any other syntax, or whose DFA grows past
//! [`MAX_STATES`], is left to regex-lite (`None`).

use std::collections::HashMap;
use std::sync::Mutex;

/// DFA states kept per pattern; numbers that need more fall back.
const MAX_STATES: usize = 4096;
/// A transition not computed yet.
const UNKNOWN: u32 = u32::MAX;
/// The state without NFA states: nothing can match any more.
const DEAD: u32 = 0;

/// A bit per digit 0-9.
type Digits = u16;

enum Node {
    Class(Digits),
    Group(Box<Alternation>),
    Repeat(Box<Node>, u32, Option<u32>),
}

type Alternation = Vec<Vec<Node>>;

/// Parses the supported syntax; `None` for anything else.
fn parse(pattern: &str) -> Option<Alternation> {
    let bytes = pattern.as_bytes();
    let mut at = 0;
    let ast = alternation(bytes, &mut at)?;
    (at == bytes.len()).then_some(ast)
}

fn alternation(b: &[u8], at: &mut usize) -> Option<Alternation> {
    let mut branches = vec![Vec::new()];
    while *at < b.len() {
        match b[*at] {
            b'|' => {
                *at += 1;
                branches.push(Vec::new());
            }
            b')' => break,
            _ => {
                let atom = atom(b, at)?;
                let node = repetition(b, at, atom)?;
                branches.last_mut().expect("one branch at least").push(node);
            }
        }
    }
    Some(branches)
}

fn atom(b: &[u8], at: &mut usize) -> Option<Node> {
    match b[*at] {
        d @ b'0'..=b'9' => {
            *at += 1;
            Some(Node::Class(1 << (d - b'0')))
        }
        b'\\' if b.get(*at + 1) == Some(&b'd') => {
            *at += 2;
            Some(Node::Class(0x3ff))
        }
        b'[' => {
            *at += 1;
            let mut set: Digits = 0;
            while *at < b.len() && b[*at] != b']' {
                let lo = digit(b[*at])?;
                let hi = if b.get(*at + 1) == Some(&b'-') && b.get(*at + 2).is_some_and(|&c| c != b']') {
                    *at += 2;
                    digit(b[*at])?
                } else {
                    lo
                };
                if hi < lo {
                    return None;
                }
                for d in lo..=hi {
                    set |= 1 << d;
                }
                *at += 1;
            }
            if *at >= b.len() || set == 0 {
                return None;
            }
            *at += 1;
            Some(Node::Class(set))
        }
        b'(' => {
            *at += 1;
            if b[*at..].starts_with(b"?:") {
                *at += 2;
            } else if b.get(*at) == Some(&b'?') {
                return None;
            }
            let inner = alternation(b, at)?;
            if b.get(*at) != Some(&b')') {
                return None;
            }
            *at += 1;
            Some(Node::Group(Box::new(inner)))
        }
        _ => None,
    }
}

fn digit(c: u8) -> Option<u8> {
    c.is_ascii_digit().then(|| c - b'0')
}

fn repetition(b: &[u8], at: &mut usize, mut node: Node) -> Option<Node> {
    loop {
        let (min, max) = match b.get(*at) {
            Some(b'?') => (0, Some(1)),
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'{') => {
                let end = *at + b[*at..].iter().position(|&c| c == b'}')?;
                let inner = std::str::from_utf8(&b[*at + 1..end]).ok()?;
                let (min, max) = match inner.split_once(',') {
                    None => {
                        let n = inner.parse().ok()?;
                        (n, Some(n))
                    }
                    Some((lo, "")) => (lo.parse().ok()?, None),
                    Some((lo, hi)) => (lo.parse().ok()?, Some(hi.parse().ok()?)),
                };
                *at = end;
                (min, max)
            }
            _ => return Some(node),
        };
        *at += 1;
        // A lazy `?` after a repetition does not change whether it matches.
        if b.get(*at) == Some(&b'?') {
            *at += 1;
        }
        if max.is_some_and(|max| max < min) || min > 64 || max.is_some_and(|max| max > 64) {
            return None;
        }
        node = Node::Repeat(Box::new(node), min, max);
    }
}

#[derive(Clone, Copy)]
enum State {
    Class(Digits, u32),
    Split(u32, u32),
    Match,
}

/// Thompson NFA: `compile` returns the entry state of a fragment that
/// continues at `next`.
struct Nfa {
    states: Vec<State>,
}

impl Nfa {
    fn push(&mut self, s: State) -> u32 {
        self.states.push(s);
        (self.states.len() - 1) as u32
    }

    fn alternation(&mut self, alt: &Alternation, next: u32) -> u32 {
        let entries: Vec<u32> = alt.iter().map(|seq| self.sequence(seq, next)).collect();
        entries.into_iter().rev().reduce(|rest, first| self.push(State::Split(first, rest))).unwrap_or(next)
    }

    fn sequence(&mut self, seq: &[Node], next: u32) -> u32 {
        seq.iter().rev().fold(next, |next, node| self.node(node, next))
    }

    fn node(&mut self, node: &Node, next: u32) -> u32 {
        match node {
            Node::Class(set) => self.push(State::Class(*set, next)),
            Node::Group(alt) => self.alternation(alt, next),
            Node::Repeat(inner, min, max) => {
                let mut entry = match max {
                    None => {
                        // inner* : a split that loops back through inner.
                        let split = self.push(State::Split(next, next));
                        let body = self.node(inner, split);
                        self.states[split as usize] = State::Split(body, next);
                        split
                    }
                    Some(max) => {
                        // The optional copies: each may stop, straight to `next`.
                        let mut entry = next;
                        for _ in *min..*max {
                            let body = self.node(inner, entry);
                            entry = self.push(State::Split(body, next));
                        }
                        entry
                    }
                };
                for _ in 0..*min {
                    entry = self.node(inner, entry);
                }
                entry
            }
        }
    }
}

/// One pattern's lazily built DFA.
struct Dfa {
    nfa: Vec<State>,
    /// Per DFA state: is the NFA's match state in it, and the transition
    /// per digit (`UNKNOWN` until needed).
    accepting: Vec<bool>,
    next: Vec<[u32; 10]>,
    sets: Vec<Box<[u32]>>,
    index: HashMap<Box<[u32]>, u32>,
    start: u32,
}

impl Dfa {
    fn new(pattern: &str) -> Option<Self> {
        let ast = parse(pattern)?;
        let mut nfa = Nfa { states: vec![State::Match] };
        let entry = nfa.alternation(&ast, 0);
        let mut dfa = Dfa {
            nfa: nfa.states,
            accepting: Vec::new(),
            next: Vec::new(),
            sets: Vec::new(),
            index: HashMap::new(),
            start: 0,
        };
        dfa.state_of(Vec::new()); // DEAD
        let start = dfa.closure(&[entry]);
        dfa.start = dfa.state_of(start);
        Some(dfa)
    }

    /// The class and match states reachable from `from` without a digit.
    fn closure(&self, from: &[u32]) -> Vec<u32> {
        let mut seen = vec![false; self.nfa.len()];
        let mut stack: Vec<u32> = from.to_vec();
        let mut out = Vec::new();
        while let Some(s) = stack.pop() {
            if std::mem::replace(&mut seen[s as usize], true) {
                continue;
            }
            match self.nfa[s as usize] {
                State::Class(..) | State::Match => out.push(s),
                State::Split(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn state_of(&mut self, set: Vec<u32>) -> u32 {
        if let Some(&id) = self.index.get(set.as_slice()) {
            return id;
        }
        let id = self.sets.len() as u32;
        let set: Box<[u32]> = set.into();
        self.accepting.push(set.iter().any(|&s| matches!(self.nfa[s as usize], State::Match)));
        self.next.push([UNKNOWN; 10]);
        self.index.insert(set.clone(), id);
        self.sets.push(set);
        id
    }

    /// `None` when the DFA would grow past its cap.
    fn step(&mut self, from: u32, digit: usize) -> Option<u32> {
        let known = self.next[from as usize][digit];
        if known != UNKNOWN {
            return Some(known);
        }
        if self.sets.len() >= MAX_STATES {
            return None;
        }
        let targets: Vec<u32> = self.sets[from as usize]
            .iter()
            .filter_map(|&s| match self.nfa[s as usize] {
                State::Class(set, next) if set & (1 << digit) != 0 => Some(next),
                _ => None,
            })
            .collect();
        let to = if targets.is_empty() { DEAD } else { self.state_of(self.closure(&targets)) };
        self.next[from as usize][digit] = to;
        Some(to)
    }

    /// Whether the pattern matches a prefix of `text`; `None` when a
    /// character other than an ASCII digit is reached before that is known.
    fn matches_prefix(&mut self, text: &[u8]) -> Option<bool> {
        let mut at = self.start;
        for &b in text {
            if self.accepting[at as usize] {
                return Some(true);
            }
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            at = self.step(at, usize::from(digit))?;
            if at == DEAD {
                return Some(false);
            }
        }
        Some(self.accepting[at as usize])
    }
}

/// One pattern's matcher: built on first use; `None` inside when the
/// pattern's syntax is not supported here.
pub(super) struct LazyDfa(Mutex<Option<Option<Box<Dfa>>>>);

impl LazyDfa {
    pub(super) const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// Whether `pattern` matches at the start of `s`; `None` when this
    /// matcher cannot tell (a character other than a digit reached before
    /// the answer is known, unsupported syntax, too big). Digits a match
    /// or a dead end is known from are all `regex-lite` would read too: a
    /// pattern here matches digits only.
    pub(super) fn is_match(&self, pattern: &str, s: &str) -> Option<bool> {
        let mut guard = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.get_or_insert_with(|| Dfa::new(pattern).map(Box::new)).as_mut()?.matches_prefix(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regex_says(pattern: &str, s: &str) -> bool {
        regex_lite::Regex::new(&format!("^(?:{pattern})")).unwrap().is_match(s)
    }

    #[test]
    fn the_dfa_matches_what_regex_lite_matches_at_the_start() {
        let patterns = [
            r"[2-9]\d{9}|3\d{6}",
            r"(?:900[2-9]\d{6})|(?:8(?:00|33|44|55|66|77|88)[2-9]\d{6})",
            r"1(?:[2-9]\d{3})?\d{4,6}",
            r"(?:6[0-8]|7\d)\d{6,7}",
            r"0?1\d*5",
            r"(?:1[1-9]|2[13-9])(\d{2})?9?\d+",
            r"[13-57-9]\d{1,3}|[2-9]",
        ];
        let inputs: Vec<String> = (0..4000u64)
            .map(|i| {
                let n = i.wrapping_mul(2_654_435_761) % 10_000_000_000_000;
                format!("{n:0width$}", width = (i % 14 + 1) as usize)
            })
            .chain(["", "1", "3123456", "9001234567", "8332345678", "015", "11", "2"].map(String::from))
            .collect();
        for pattern in patterns {
            let dfa = LazyDfa::new();
            for s in &inputs {
                assert_eq!(dfa.is_match(pattern, s), Some(regex_says(pattern, s)), "{pattern} on {s}");
            }
        }
    }

    #[test]
    fn every_metadata_patterns_whole_dfa_stays_well_under_the_cap() {
        // Every state reachable with any digits, built eagerly: the most a
        // warm function can ever hold for each pattern.
        let (mut largest, mut total, mut set_words) = (0, 0, 0);
        for source in super::super::PATTERN_SOURCES {
            let Some(mut dfa) = Dfa::new(source) else { continue };
            let mut at = 0;
            while at < dfa.sets.len() {
                for digit in 0..10 {
                    assert!(dfa.step(at as u32, digit).is_some(), "{source} needs more than {MAX_STATES} states");
                }
                at += 1;
            }
            largest = largest.max(dfa.sets.len());
            total += dfa.sets.len();
            set_words += dfa.sets.iter().map(|s| s.len()).sum::<usize>();
        }
        eprintln!("DFA states: largest {largest}, all patterns {total}, NFA ids kept {set_words}");
        assert!(largest < MAX_STATES / 2, "largest DFA has {largest} states");
    }

    #[test]
    fn other_syntax_and_non_digits_are_left_to_regex_lite() {
        assert_eq!(LazyDfa::new().is_match(r"\d+$", "123"), None);
        assert_eq!(LazyDfa::new().is_match(r"(?i)1", "1"), None);
        assert_eq!(LazyDfa::new().is_match(r"\d{3}", "12a"), None);
        assert_eq!(LazyDfa::new().is_match(r"\d{2}", "1a2"), None);
        assert_eq!(LazyDfa::new().is_match(r"\d+a", "12a"), None);
    }

    #[test]
    fn text_with_other_characters_is_answered_as_regex_lite_does_or_left_to_it() {
        let patterns = [r"\d", r"\d{2}", r"2", r"1[2-4]", r"[13]\d{2,3}|2"];
        let inputs = ["12a", "1a", "a1", "2 ", "13-4", "1345+", "", "+12", "22\u{a0}", "1\u{e9}"];
        for pattern in patterns {
            for s in inputs {
                if let Some(dfa) = LazyDfa::new().is_match(pattern, s) {
                    assert_eq!(dfa, regex_says(pattern, s), "{pattern} on {s:?}");
                }
            }
        }
        assert_eq!(LazyDfa::new().is_match(r"\d", "12a"), Some(true));
        assert_eq!(LazyDfa::new().is_match(r"2", "1a"), Some(false));
    }
}
