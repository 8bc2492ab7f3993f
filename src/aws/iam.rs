//! IAM: the `IamApi` trait and its SDK implementation — only what a dry run needs to ask
//! the IAM policy simulator whether the caller may make a change.

use std::future::Future;

use aws_types::request_id::RequestId;

use super::{Answer, AwsError};

/// The simulator's verdict for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: String,
    /// `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
}

/// The IAM calls breakglass makes.
pub trait IamApi: Send + Sync {
    /// The full ARN (with its path) of a role.
    fn get_role_arn(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Answer<String>, AwsError>> + Send;

    /// Asks the policy simulator about `actions` on `resource_arns` for `principal_arn`.
    fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource_arns: &[String],
    ) -> impl Future<Output = Result<Answer<Vec<Decision>>, AwsError>> + Send;
}

/// The SDK-backed IAM client (a global service; `region` only labels errors).
#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
    region: String,
}

impl Iam {
    pub fn new(client: aws_sdk_iam::Client, region: &str) -> Self {
        Iam {
            client,
            region: region.to_owned(),
        }
    }
}

impl IamApi for Iam {
    async fn get_role_arn(&self, role_name: &str) -> Result<Answer<String>, AwsError> {
        let out = self
            .client
            .get_role()
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam", "GetRole", &self.region, &e))?;
        Ok(Answer {
            value: out.role().map(|r| r.arn().to_owned()).unwrap_or_default(),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource_arns: &[String],
    ) -> Result<Answer<Vec<Decision>>, AwsError> {
        let out = self
            .client
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .set_action_names(Some(actions.to_vec()))
            .set_resource_arns(Some(resource_arns.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam", "SimulatePrincipalPolicy", &self.region, &e))?;
        Ok(Answer {
            value: out
                .evaluation_results()
                .iter()
                .map(|r| Decision {
                    action: r.eval_action_name().to_owned(),
                    decision: r.eval_decision().as_str().to_owned(),
                })
                .collect(),
            request_id: out.request_id().map(str::to_owned),
        })
    }
}
