//! One module per provider: its payload types, parsing and task rule.

pub mod truecaller;
pub mod wavix;

pub use truecaller::Truecaller;
pub use wavix::Wavix;

use serde_json::error::Category;

use crate::DecodeError;

/// Classifies a serde_json failure on a body: syntax errors mean the body is
/// not decodable (400); data errors on an object mean it is decodable but
/// invalid (422, handled by the caller).
pub(crate) fn is_syntax_error(err: &serde_json::Error) -> bool {
    matches!(err.classify(), Category::Syntax | Category::Eof | Category::Io)
}

/// The body as UTF-8 JSON text, or why not.
pub(crate) fn json_text(body: &[u8]) -> Result<&str, DecodeError> {
    let text = std::str::from_utf8(body).map_err(|_| DecodeError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(DecodeError::NotJson("empty body".into()));
    }
    Ok(text)
}
