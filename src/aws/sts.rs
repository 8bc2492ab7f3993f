//! STS: the `StsApi` trait and its SDK implementation (who am I, in which account).

use std::future::Future;

use serde::Serialize;

use super::AwsError;

/// The caller identity behind the current credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// The STS calls breakglass makes.
pub trait StsApi: Send + Sync {
    fn get_caller_identity(&self) -> impl Future<Output = Result<CallerIdentity, AwsError>> + Send;
}

/// The SDK-backed STS client.
#[derive(Debug, Clone)]
pub struct Sts {
    client: aws_sdk_sts::Client,
    region: String,
}

impl Sts {
    pub fn new(client: aws_sdk_sts::Client, region: &str) -> Self {
        Sts {
            client,
            region: region.to_owned(),
        }
    }
}

impl StsApi for Sts {
    async fn get_caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("sts", "GetCallerIdentity", &self.region, &e))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }
}
