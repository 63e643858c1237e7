//! Wavix call webhook receiver: on-call and post-call events.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pipeline::bootstrap::run(payloads::providers::Wavix).await
}
