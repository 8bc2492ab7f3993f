//! Which calls the SDK may send again. A call whose answer was lost — the connection cut
//! after the request left, or no answer within the attempt timeout — may have been made.
//! Sending an idempotent call again is harmless (the same tags, the same groups); sending
//! one that is not would take a second set of snapshots, run a second command, or fail
//! because the first already moved AWS on. Those are sent once: their call sites override
//! the client's retry with [`SentOnce`], the error says the answer was lost
//! ([`super::AwsError::answer_lost`]), and the executor runs the step again, whose checks
//! read AWS before they change anything.
//!
//! A refusal AWS answered (throttling, HTTP 5xx) says the call was not made, and is
//! retried as usual.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};

/// Forbids the SDK's retry of a call whose answer was lost.
#[derive(Debug, Clone, Copy)]
pub struct SentOnce;

impl ClassifyRetry for SentOnce {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        match ctx.output_or_error() {
            Some(Err(err))
                if err.is_timeout_error()
                    || err.is_connector_error()
                    || err.is_response_error() =>
            {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "breakglass: sent once"
    }
}

/// Per-call overrides that send a call once (`.customize().config_override(…)`).
pub fn ec2_once() -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::default().retry_classifier(SentOnce)
}

pub fn autoscaling_once() -> aws_sdk_autoscaling::config::Builder {
    aws_sdk_autoscaling::config::Builder::default().retry_classifier(SentOnce)
}

pub fn elbv2_once() -> aws_sdk_elasticloadbalancingv2::config::Builder {
    aws_sdk_elasticloadbalancingv2::config::Builder::default().retry_classifier(SentOnce)
}

pub fn ssm_once() -> aws_sdk_ssm::config::Builder {
    aws_sdk_ssm::config::Builder::default().retry_classifier(SentOnce)
}
