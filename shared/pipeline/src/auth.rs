//! Webhook authentication: a shared secret per provider, in the query
//! parameter `key` or the header `X-Webhook-Token`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The currently valid tokens (several, so one can be rotated without
/// downtime). Only SHA-256 digests are kept: comparing fixed-length digests
/// in constant time hides both content and length of the valid tokens.
#[derive(Clone)]
pub struct Tokens(Vec<[u8; 32]>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the token list is empty")]
pub struct NoTokens;

impl Tokens {
    /// Comma- or newline-separated tokens; blanks ignored.
    pub fn parse(list: &str) -> Result<Self, NoTokens> {
        let digests: Vec<[u8; 32]> = list
            .split([',', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Sha256::digest(t.as_bytes()).into())
            .collect();
        if digests.is_empty() { Err(NoTokens) } else { Ok(Self(digests)) }
    }

    /// Constant time in the candidate's content and in which token matches:
    /// every valid token is compared, with no early exit.
    pub fn verify(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        let mut matched = subtle::Choice::from(0);
        for valid in &self.0 {
            matched |= valid.ct_eq(&digest);
        }
        bool::from(matched)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} valid)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_token_is_valid_during_a_rotation() {
        let tokens = Tokens::parse("old-token, new-token").unwrap();
        assert!(tokens.verify("old-token"));
        assert!(tokens.verify("new-token"));
        assert!(!tokens.verify("other"));
        assert!(!tokens.verify(""));
        assert!(!tokens.verify("old-token "));
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert_eq!(Tokens::parse(" , \n").unwrap_err(), NoTokens);
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let tokens = Tokens::parse("s3cret").unwrap();
        assert_eq!(format!("{tokens:?}"), "Tokens(1 valid)");
    }
}
