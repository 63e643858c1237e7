//! Truecaller for Business webhook receiver (`cmb`, `user_feedback`).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    pipeline::bootstrap::run(payloads::providers::Truecaller).await
}
