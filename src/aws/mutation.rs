//! What AWS calls made by playbooks return: a mutation made for real or checked with
//! `DryRun=true`, or a read's answer — both with the request id for the audit trail.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

use super::AwsError;

/// What a mutating call achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The change was made.
    Done { request_id: Option<String> },
    /// Sent with `DryRun=true`; AWS answered `DryRunOperation`: it would have succeeded.
    WouldSucceed { request_id: Option<String> },
}

impl Applied {
    /// A change made, answered with `request_id`.
    pub fn done(request_id: Option<&str>) -> Applied {
        Applied::Done {
            request_id: request_id.map(str::to_owned),
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            Applied::Done { request_id } | Applied::WouldSucceed { request_id } => {
                request_id.as_deref()
            }
        }
    }
}

/// What a mutating call returns: at least whether (and how) it was applied.
pub trait Change {
    fn applied(&self) -> &Applied;
}

impl Change for Applied {
    fn applied(&self) -> &Applied {
        self
    }
}

/// A read's answer and the request id AWS gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    pub value: T,
    pub request_id: Option<String>,
}

/// The error code EC2 answers a permitted `DryRun=true` request with.
pub const DRY_RUN_OPERATION: &str = "DryRunOperation";

/// Maps an EC2 mutation's result: success is `Done`; the `DryRunOperation` error of a dry
/// run is `WouldSucceed`; anything else (including `UnauthorizedOperation`) stays an error.
pub fn ec2_mutation<T, E>(
    operation: &'static str,
    region: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Applied, AwsError>
where
    T: RequestId,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(output) => Ok(Applied::Done {
            request_id: output.request_id().map(str::to_owned),
        }),
        Err(err) => {
            let error = AwsError::from_sdk("ec2", operation, region, &err);
            if error.code.as_deref() == Some(DRY_RUN_OPERATION) {
                Ok(Applied::WouldSucceed {
                    request_id: error.request_id,
                })
            } else {
                Err(error)
            }
        }
    }
}
