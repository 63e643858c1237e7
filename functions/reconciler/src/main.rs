//! Scheduled reconciler: sends callback tasks left `task_pending`, within
//! SQS FIFO's deduplication window, so no callback depends on a provider
//! redelivering.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pipeline::bootstrap::run_reconciler().await
}
