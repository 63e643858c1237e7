//! Structured JSON logs. Raw bodies, tokens and full phone numbers are never
//! logged: only event keys, types, outcomes and masked numbers.

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber (`RUST_LOG` filters, default `info`).
/// Safe to call more than once: later calls are ignored.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}
