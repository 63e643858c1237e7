//! `webhook-ops`: the on-call CLI. Everything is in the library (`ops`), so
//! the end-to-end tests run the very same code in-process.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    std::process::exit(ops::main_from_env().await);
}
