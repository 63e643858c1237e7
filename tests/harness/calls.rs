//! Counts the AWS requests a client sends, by operation, with an SDK
//! interceptor: the tests' measure of "AWS calls per delivery". Retries
//! count too: each is a request AWS bills and a round trip we wait for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, u32>>>);

impl CallCounter {
    /// Requests so far, by operation name (`PutItem`, `SendMessage`, ...).
    pub fn calls(&self) -> BTreeMap<String, u32> {
        self.0.lock().expect("counter lock").clone()
    }

    pub fn total(&self) -> u32 {
        self.calls().values().sum()
    }

    pub fn reset(&self) {
        self.0.lock().expect("counter lock").clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // DynamoDB and SQS speak the JSON protocol: `X-Amz-Target:
        // DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`.
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        *self.0.lock().expect("counter lock").entry(operation).or_default() += 1;
        Ok(())
    }
}
