//! Truecaller Verified Campaign pusher, fed by the events table's DynamoDB
//! stream: one validated campaign per callback task that became enqueued.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    campaign::bootstrap::run().await
}
