//! The CLI's one error type: every variant prints as one line naming what
//! is wrong, and every one exits non-zero (`main_with` maps them).

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("{flag} is required: pass {flag} or set {env}")]
    MissingSetting { flag: &'static str, env: &'static str },
    #[error("no AWS region: set AWS_REGION (or a profile's region)")]
    NoRegion,
    #[error("no AWS credentials: {0}")]
    NoCredentials(String),
    #[error("table {0} does not exist (check --table / EVENTS_TABLE and the region)")]
    NoSuchTable(String),
    #[error("queue {0} does not exist (check the queue URL flag/variable and the region)")]
    NoSuchQueue(String),
    #[error("{0}: no record has this key or task id")]
    UnknownKey(String),
    #[error("{0}: no record carries this task id")]
    UnknownTask(String),
    #[error(
        "{flag}: {value:?} is not a time (RFC 3339 like 2026-12-07T01:00:00Z, a date like 2026-12-07, or an age like 30m, 2h, 1d)"
    )]
    BadTime { flag: &'static str, value: String },
    #[error("{0}")]
    BadInput(String),
    #[error("refused: {0}")]
    Refused(String),
    #[error(
        "{count} message(s) were left in the DLQ because a redrive could call the customer a second time; check the dialer for their task ids, then rerun with --force"
    )]
    NeedsForce { count: usize },
    #[error("{operation} failed: {cause}")]
    Aws { operation: String, cause: String },
    #[error("writing the output failed: {0}")]
    Output(#[from] std::io::Error),
}

impl OpsError {
    pub fn aws<E: std::error::Error + 'static>(operation: impl Into<String>, err: E) -> Self {
        let cause = aws_smithy_types::error::display::DisplayErrorContext(err).to_string();
        // One line: the SDK's context chain can span several.
        let cause = cause.split_whitespace().collect::<Vec<_>>().join(" ");
        OpsError::Aws { operation: operation.into(), cause }
    }

    /// Exit status: 2 for usage, input and setup errors (nothing was done), 3 for
    /// a refusal that --force may override, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            OpsError::MissingSetting { .. }
            | OpsError::BadTime { .. }
            | OpsError::BadInput(_)
            | OpsError::UnknownKey(_)
            | OpsError::UnknownTask(_)
            | OpsError::NoRegion
            | OpsError::NoCredentials(_)
            | OpsError::NoSuchTable(_)
            | OpsError::NoSuchQueue(_) => 2,
            OpsError::Refused(_) | OpsError::NeedsForce { .. } => 3,
            _ => 1,
        }
    }
}
