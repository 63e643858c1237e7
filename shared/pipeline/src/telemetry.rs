//! Structured JSON logs. Raw bodies, tokens and full phone numbers are never
//! logged: only event keys, types, outcomes and masked numbers.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;

/// The production log format, writing to `writer`. Tests pass a buffer to
/// audit exactly what production would print.
pub fn subscriber<W>(writer: W, filter: Targets) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::layer::SubscriberExt as _;

    let format = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_max_level(LevelFilter::TRACE)
        .with_writer(writer)
        .finish();
    format.with(filter)
}

/// The filter `RUST_LOG` gives (`info`, `debug`, `pipeline=debug,info`,
/// ...), `info` when unset or unreadable. A static per-target filter rather
/// than `EnvFilter`: no regex engine in the binary and no per-span matching
/// on the hot path; span-field directives are not needed here.
pub fn filter_from(spec: Option<&str>) -> Targets {
    spec.map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// Installs the JSON log subscriber on stdout (`RUST_LOG` filters, default
/// `info`). Safe to call more than once: later calls are ignored.
pub fn init() {
    let filter = filter_from(std::env::var("RUST_LOG").ok().as_deref());
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, filter));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_levels_and_targets_are_read_and_nonsense_falls_back_to_info() {
        assert_eq!(filter_from(None).default_level(), Some(LevelFilter::INFO));
        assert_eq!(filter_from(Some("debug")).default_level(), Some(LevelFilter::DEBUG));
        let targeted = filter_from(Some("warn,pipeline=debug"));
        assert!(targeted.would_enable("pipeline::handler", &tracing::Level::DEBUG));
        assert!(!targeted.would_enable("aws_smithy_runtime", &tracing::Level::INFO));
        assert_eq!(filter_from(Some("")).default_level(), Some(LevelFilter::INFO));
    }
}
