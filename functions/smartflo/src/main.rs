//! Tata Smartflo webhook receiver: the 16 call triggers, GET or POST, JSON or form.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pipeline::bootstrap::run(payloads::providers::Smartflo).await
}
