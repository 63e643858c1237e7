//! The `callback-request/v1` task the dialer consumes (queue contract).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{CallbackReason, CallbackWindow, NormalisedEvent, PhoneNumber, Provider};

pub const SCHEMA: &str = "callback-request/v1";

/// Fixed namespace for task IDs, so the same event always yields the same ID.
const TASK_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a57_3b0e_4c59_9d4e_8a7b_c0d1_e2f3);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallbackTask {
    pub schema: &'static str,
    pub task_id: String,
    pub provider: Provider,
    pub event_key: String,
    pub reason: CallbackReason,
    pub phone: PhoneNumber,
    pub alternate_phone: Option<PhoneNumber>,
    pub business_phone: Option<PhoneNumber>,
    pub window: Option<CallbackWindow>,
    #[serde(serialize_with = "secs")]
    pub requested_at: DateTime<Utc>,
    pub context: Map<String, Value>,
}

fn secs<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::event::rfc3339(*at))
}

impl CallbackTask {
    /// The task for an event whose callback is due; `None` otherwise.
    pub fn for_event(event: &NormalisedEvent) -> Option<Self> {
        let request = event.callback.request()?;
        Some(Self {
            schema: SCHEMA,
            task_id: task_id(event.provider, event.event_key.as_str()),
            provider: event.provider,
            event_key: event.event_key.as_str().to_owned(),
            reason: request.reason,
            phone: request.phone.clone(),
            alternate_phone: request.alternate_phone.clone(),
            business_phone: request.business_phone.clone(),
            window: request.window,
            requested_at: request.requested_at,
            context: request.context.to_map(),
        })
    }

    /// FIFO group: callbacks to one customer are serialised.
    pub fn message_group_id(&self) -> &str {
        self.phone.as_str()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a task always serialises")
    }
}

/// Stable task ID: UUID v5 of `{provider}#{event_key}`.
pub fn task_id(provider: Provider, event_key: &str) -> String {
    // Written without `format!` and `Display`: this is on every task's path
    // and the formatting machinery cost as much as the hashing (issue 6).
    let name = [TASK_NAMESPACE.as_bytes().as_slice(), provider.name().as_bytes(), b"#", event_key.as_bytes()];
    uuid_text(uuid::Builder::from_sha1_bytes(sha1_16(&name)).into_uuid())
}

/// The first 16 bytes of the SHA-1 of `parts` one after the other. A
/// message of at most 119 bytes (any task name but a long event key) is
/// padded in place on the stack and hashed in one or two blocks.
fn sha1_16(parts: &[&[u8]]) -> [u8; 16] {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total > 119 {
        let mut sha1 = Sha1::new();
        parts.iter().for_each(|p| sha1.update(p));
        return sha1.digest16();
    }
    let mut message = [0u8; 128];
    let mut at = 0;
    for part in parts {
        message[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    message[at] = 0x80;
    let end = if total < 56 { 64 } else { 128 };
    message[end - 8..end].copy_from_slice(&(total as u64 * 8).to_be_bytes());
    let mut state = INITIAL;
    for block in message[..end].chunks_exact(64) {
        compress(&mut state, block.try_into().expect("64 bytes"));
    }
    first16(state)
}

const INITIAL: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];

fn first16(state: [u32; 5]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// SHA-1 (FIPS 180-4) for the UUID v5 of a task ID: the name streamed in
/// (no joined copy), the 80 rounds written out so no round shuffles its
/// five words or picks its function at run time. `uuid`'s `sha1_smol`
/// spends ~2 K instructions a block at `opt-level = "s"` (a rolled loop
/// over the rounds, tried before, spent more); this ~1 K (issue 6).
/// Unit-tested against `Uuid::new_v5` on names of every length across the
/// block boundaries.
struct Sha1 {
    state: [u32; 5],
    block: [u8; 64],
    /// Bytes waiting in `block`.
    used: usize,
    /// Bytes hashed in all.
    total: u64,
}

impl Sha1 {
    fn new() -> Self {
        Self { state: INITIAL, block: [0; 64], used: 0, total: 0 }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let take = (64 - self.used).min(data.len());
            self.block[self.used..self.used + take].copy_from_slice(&data[..take]);
            self.used += take;
            data = &data[take..];
            if self.used == 64 {
                compress(&mut self.state, &self.block);
                self.used = 0;
            }
        }
    }

    /// The digest's first 16 bytes (what a UUID v5 keeps).
    fn digest16(mut self) -> [u8; 16] {
        let bits = self.total.wrapping_mul(8);
        self.block[self.used] = 0x80;
        self.block[self.used + 1..].fill(0);
        if self.used >= 56 {
            compress(&mut self.state, &self.block);
            self.block = [0; 64];
        }
        self.block[56..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &self.block);
        first16(self.state)
    }
}

/// One SHA-1 round: `e` takes the new word, `b` is rotated; the caller
/// renames the five words instead of moving them.
macro_rules! round {
    ($w:ident, $i:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident) => {{
        let i: usize = $i;
        let x = if i < 16 {
            $w[i & 15]
        } else {
            let t = ($w[(i + 13) & 15] ^ $w[(i + 8) & 15] ^ $w[(i + 2) & 15] ^ $w[i & 15]).rotate_left(1);
            $w[i & 15] = t;
            t
        };
        let (f, k) = if i < 20 {
            ($d ^ ($b & ($c ^ $d)), 0x5A82_7999u32)
        } else if i < 40 {
            ($b ^ $c ^ $d, 0x6ED9_EBA1)
        } else if i < 60 {
            (($b & $c) | ($d & ($b | $c)), 0x8F1B_BCDC)
        } else {
            ($b ^ $c ^ $d, 0xCA62_C1D6)
        };
        $e = $e.wrapping_add($a.rotate_left(5)).wrapping_add(f).wrapping_add(k).wrapping_add(x);
        $b = $b.rotate_left(30);
    }};
}

/// Five rounds from `i`, the words renamed as they rotate.
macro_rules! five {
    ($w:ident, $i:expr, $a:ident, $b:ident, $c:ident, $d:ident, $e:ident) => {
        round!($w, $i, $a, $b, $c, $d, $e);
        round!($w, $i + 1, $e, $a, $b, $c, $d);
        round!($w, $i + 2, $d, $e, $a, $b, $c);
        round!($w, $i + 3, $c, $d, $e, $a, $b);
        round!($w, $i + 4, $b, $c, $d, $e, $a);
    };
}

// The last rounds' schedule words are written and not read again.
#[allow(unused_assignments)]
fn compress(state: &mut [u32; 5], block: &[u8; 64]) {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    five!(w, 0, a, b, c, d, e);
    five!(w, 5, a, b, c, d, e);
    five!(w, 10, a, b, c, d, e);
    five!(w, 15, a, b, c, d, e);
    five!(w, 20, a, b, c, d, e);
    five!(w, 25, a, b, c, d, e);
    five!(w, 30, a, b, c, d, e);
    five!(w, 35, a, b, c, d, e);
    five!(w, 40, a, b, c, d, e);
    five!(w, 45, a, b, c, d, e);
    five!(w, 50, a, b, c, d, e);
    five!(w, 55, a, b, c, d, e);
    five!(w, 60, a, b, c, d, e);
    five!(w, 65, a, b, c, d, e);
    five!(w, 70, a, b, c, d, e);
    five!(w, 75, a, b, c, d, e);
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

/// A UUID's lower-case hyphenated text, without the `Display` machinery.
pub(crate) fn uuid_text(uuid: Uuid) -> String {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid.hyphenated().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_are_stable_and_distinct_per_provider_and_key() {
        let a = task_id(Provider::Truecaller, "k1");
        assert_eq!(a, task_id(Provider::Truecaller, "k1"));
        assert_ne!(a, task_id(Provider::Truecaller, "k2"));
        assert_ne!(a, task_id(Provider::Wavix, "k1"));
        assert_eq!(a.len(), 36);
    }

    /// The written-out SHA-1 against `uuid`'s (`sha1_smol`): names of every
    /// length from 0 to 300 bytes (all padding cases: 55, 56, 63, 64, 119,
    /// 120 bytes with the namespace), fed in one piece and in several.
    #[test]
    fn the_sha1_gives_uuid_v5_exactly() {
        let text: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in 0..=text.len() {
            let name = &text[..len];
            let expected = Uuid::new_v5(&TASK_NAMESPACE, name);
            let mut one = Sha1::new();
            one.update(TASK_NAMESPACE.as_bytes());
            one.update(name);
            assert_eq!(uuid::Builder::from_sha1_bytes(one.digest16()).into_uuid(), expected, "{len}");
            let mut pieces = Sha1::new();
            pieces.update(TASK_NAMESPACE.as_bytes());
            for piece in name.chunks(7) {
                pieces.update(piece);
            }
            assert_eq!(uuid::Builder::from_sha1_bytes(pieces.digest16()).into_uuid(), expected, "{len} in pieces");
            let short = sha1_16(&[TASK_NAMESPACE.as_bytes(), name]);
            assert_eq!(uuid::Builder::from_sha1_bytes(short).into_uuid(), expected, "{len} sha1_16");
            let split = sha1_16(&[TASK_NAMESPACE.as_bytes(), &name[..len / 2], b"", &name[len / 2..]]);
            assert_eq!(uuid::Builder::from_sha1_bytes(split).into_uuid(), expected, "{len} sha1_16 split");
            let other = Uuid::new_v5(&Uuid::NAMESPACE_DNS, name);
            let mut dns = Sha1::new();
            dns.update(Uuid::NAMESPACE_DNS.as_bytes());
            dns.update(name);
            assert_eq!(uuid::Builder::from_sha1_bytes(dns.digest16()).into_uuid(), other, "{len} dns");
        }
        // RFC 9562's own example of a v5 UUID.
        assert_eq!(
            Uuid::new_v5(&Uuid::NAMESPACE_DNS, b"www.example.com").to_string(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
        for key in ["k1", "3f0c2b1e-8d7a-4c55-9e21-0b6f5a4d3c2b#post_call", &"x".repeat(1024)] {
            for provider in Provider::ALL {
                let name = format!("{}#{}", provider.name(), key);
                assert_eq!(task_id(provider, key), Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes()).to_string());
            }
        }
    }

    #[test]
    fn task_ids_are_the_hyphenated_uuid_v5_of_provider_hash_key() {
        let name = format!("{}#{}", Provider::Wavix.name(), "k1");
        assert_eq!(task_id(Provider::Wavix, "k1"), Uuid::new_v5(&TASK_NAMESPACE, name.as_bytes()).to_string());
    }
}
