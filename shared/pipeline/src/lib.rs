//! The request pipeline every webhook function shares: authentication, body
//! decoding, the idempotent store (DynamoDB), the task queue (SQS), HTTP
//! responses, structured logs and metrics.
//!
//! A function's `main.rs` is one line: [`bootstrap::run`] with its provider's
//! parser. Everything provider-specific lives in the `payloads` crate.

pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod dynamo;
pub mod handler;
pub mod metrics;
pub mod queue;
pub mod reconcile;
pub mod request;
pub mod response;
pub mod store;
pub mod telemetry;

pub use auth::Tokens;
pub use config::Config;
pub use handler::Pipeline;
pub use queue::{SqsTaskQueue, TaskQueue};
pub use request::ApiGatewayRequest;
pub use response::ApiGatewayResponse;
pub use store::{DynamoEventStore, EventStore};
