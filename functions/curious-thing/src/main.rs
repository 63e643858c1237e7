//! Curious Thing (AI voice agent) webhook receiver: call outcomes, attempts and SMS, in batches.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pipeline::bootstrap::run(payloads::providers::CuriousThing).await
}
