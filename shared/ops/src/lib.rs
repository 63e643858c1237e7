//! `webhook-ops`, the on-call CLI: trace one event, replay stored
//! deliveries through the current parser, redrive dead-lettered tasks,
//! resolve stuck tasks, and count what the table holds.
//!
//! Every command reuses the functions' own code (`pipeline`: the store, the
//! queue, the whole delivery pipeline for a replay), is safe to run twice,
//! and records what it changed on the record it touched. Phone numbers are
//! only ever printed masked; raw bodies and tokens never.

pub mod context;
pub mod error;
pub mod output;
pub mod queues;
pub mod records;
pub mod redrive;
pub mod replay;
pub mod resolve;
pub mod stats;
pub mod time;
pub mod trace;

use std::ffi::OsString;
use std::io::Write;

use aws_config::SdkConfig;
use clap::{Parser, Subcommand};

pub use context::{Ops, Resources};
pub use error::OpsError;
use output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "webhook-ops",
    version,
    about = "On-call operations for the webhook receivers: trace, replay, redrive, resolve, stats."
)]
pub struct Cli {
    /// DynamoDB events table.
    #[arg(long, env = "EVENTS_TABLE", global = true)]
    pub table: Option<String>,
    /// Callback queue (SQS FIFO) URL.
    #[arg(long = "queue-url", env = "CALLBACK_QUEUE_URL", global = true)]
    pub queue_url: Option<String>,
    /// Callback dead-letter queue URL.
    #[arg(long = "dlq-url", env = "CALLBACK_DLQ_URL", global = true)]
    pub dlq_url: Option<String>,
    /// Campaign dead-letter queue URL (truecaller-campaign).
    #[arg(long = "campaign-dlq-url", env = "CAMPAIGN_DLQ_URL", global = true)]
    pub campaign_dlq_url: Option<String>,
    /// Who is acting, recorded on what a command changes (default: the AWS
    /// caller identity and the local user).
    #[arg(long, env = "WEBHOOK_OPS_BY", global = true)]
    pub by: Option<String>,
    /// table (default) or json.
    #[arg(long, value_enum, default_value = "table", global = true)]
    pub output: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything about one event: record, task, queues, campaign, log query.
    Trace(trace::TraceArgs),
    /// Re-run stored deliveries through the current parser and the pipeline.
    Replay(replay::ReplayArgs),
    /// Move dead-lettered callback tasks back to the callback queue.
    Redrive(redrive::RedriveArgs),
    /// Settle a task stuck past the FIFO window: send it once, or cancel it.
    Resolve(resolve::ResolveArgs),
    /// Counts per provider and state, for the handover.
    Stats(stats::StatsArgs),
}

/// Runs one command line against `sdk`; returns the exit status. Errors are
/// one line on `err`, prefixed `webhook-ops: error:`.
pub async fn main_with<I, T>(args: I, sdk: SdkConfig, out: &mut dyn Write, err: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = if e.use_stderr() { write!(err, "{e}") } else { write!(out, "{e}") };
            return code;
        }
    };
    match run(cli, sdk, out, err).await {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "webhook-ops: error: {e}");
            e.exit_code()
        }
    }
}

/// The binary's entry point: the real process arguments and environment.
pub async fn main_from_env() -> i32 {
    let sdk = context::sdk_from_env().await;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr());
    main_with(std::env::args_os(), sdk, &mut out, &mut err).await
}

pub async fn run(cli: Cli, sdk: SdkConfig, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), OpsError> {
    let resources = Resources {
        table: cli.table.filter(|s| !s.trim().is_empty()),
        queue_url: cli.queue_url.filter(|s| !s.trim().is_empty()),
        dlq_url: cli.dlq_url.filter(|s| !s.trim().is_empty()),
        campaign_dlq_url: cli.campaign_dlq_url.filter(|s| !s.trim().is_empty()),
    };
    let ops = Ops::new(sdk, resources, cli.by);
    let format = cli.output;
    match cli.command {
        Command::Trace(args) => trace::run(&ops, args, format, out, err).await,
        Command::Replay(args) => replay::run(&ops, args, format, out, err).await,
        Command::Redrive(args) => redrive::run(&ops, args, format, out, err).await,
        Command::Resolve(args) => resolve::run(&ops, args, format, out, err).await,
        Command::Stats(args) => stats::run(&ops, args, format, out, err).await,
    }
}
