//! IAM: the `IamApi` trait and its SDK implementation — the IAM policy simulator for dry
//! runs, and the instance role's inline policies that revoke its credentials.

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

/// A condition key's value for the policy simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextValue {
    pub key: String,
    /// The simulator's type name: `string`, `date`, …
    pub kind: &'static str,
    pub value: String,
}

/// The IAM calls breakglass makes.
pub trait IamApi: Send + Sync {
    /// AWS's time, from the `Date` of IAM's latest answer; `None` before any answer said.
    fn aws_time(&self) -> Option<chrono::DateTime<chrono::Utc>>;

    /// The full ARN (with its path) of a role.
    fn get_role_arn(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Answer<String>, AwsError>> + Send;

    /// The role of an instance profile: `(role name, role id)`, `None` when it has none.
    fn instance_profile_role(
        &self,
        profile_name: &str,
    ) -> impl Future<Output = Result<Answer<Option<(String, String)>>, AwsError>> + Send;

    /// An inline policy of a role (URL-decoded JSON), `None` when there is none.
    fn get_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> impl Future<Output = Result<Answer<Option<String>>, AwsError>> + Send;

    /// The names of a role's inline policies (every page).
    fn list_role_policies(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Answer<Vec<String>>, AwsError>> + Send;

    fn put_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> impl Future<Output = Result<super::Applied, AwsError>> + Send;

    fn delete_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> impl Future<Output = Result<super::Applied, AwsError>> + Send;

    /// Asks the policy simulator about `actions` on `resource_arns` for `principal_arn`,
    /// with the request's condition keys set as `context` gives them.
    fn simulate_principal_policy(
        &self,
        principal_arn: &str,
        actions: &[String],
        resource_arns: &[String],
        context: &[ContextValue],
    ) -> impl Future<Output = Result<Answer<Vec<Decision>>, AwsError>> + Send;
}

/// The SDK-backed IAM client (a global service; `region` only labels errors).
#[derive(Debug, Clone)]
pub struct Iam {
    client: aws_sdk_iam::Client,
    region: String,
    clock: super::clock::AwsClock,
}

impl Iam {
    pub fn new(client: aws_sdk_iam::Client, region: &str, clock: super::clock::AwsClock) -> Self {
        Iam {
            client,
            region: region.to_owned(),
            clock,
        }
    }

    /// The account's alias, if it has one and the caller may read it.
    pub async fn account_alias(&self) -> Option<String> {
        let out = self.client.list_account_aliases().send().await.ok()?;
        out.account_aliases().first().cloned()
    }
}

impl IamApi for Iam {
    fn aws_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.clock.now()
    }

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
        context: &[ContextValue],
    ) -> Result<Answer<Vec<Decision>>, AwsError> {
        let entries = context
            .iter()
            .map(|c| {
                aws_sdk_iam::types::ContextEntry::builder()
                    .context_key_name(&c.key)
                    .context_key_type(aws_sdk_iam::types::ContextKeyTypeEnum::from(c.kind))
                    .context_key_values(&c.value)
                    .build()
            })
            .collect();
        let out = self
            .client
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .set_action_names(Some(actions.to_vec()))
            .set_resource_arns(Some(resource_arns.to_vec()))
            .set_context_entries(Some(entries))
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

    async fn instance_profile_role(
        &self,
        profile_name: &str,
    ) -> Result<Answer<Option<(String, String)>>, AwsError> {
        let out = self
            .client
            .get_instance_profile()
            .instance_profile_name(profile_name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam", "GetInstanceProfile", &self.region, &e))?;
        Ok(Answer {
            value: out
                .instance_profile()
                .and_then(|p| p.roles().first())
                .map(|r| (r.role_name().to_owned(), r.role_id().to_owned())),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn get_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> Result<Answer<Option<String>>, AwsError> {
        let result = self
            .client
            .get_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Answer {
                value: Some(decode_policy(out.policy_document())),
                request_id: out.request_id().map(str::to_owned),
            }),
            Err(err) => {
                let error = AwsError::from_sdk("iam", "GetRolePolicy", &self.region, &err);
                if error.code.as_deref() == Some("NoSuchEntity") {
                    Ok(Answer {
                        value: None,
                        request_id: error.request_id,
                    })
                } else {
                    Err(error)
                }
            }
        }
    }

    async fn list_role_policies(&self, role_name: &str) -> Result<Answer<Vec<String>>, AwsError> {
        let mut pages = self
            .client
            .list_role_policies()
            .role_name(role_name)
            .into_paginator()
            .send();
        let mut names = Vec::new();
        let mut request_id = None;
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("iam", "ListRolePolicies", &self.region, &e))?;
            request_id = page.request_id().map(str::to_owned);
            names.extend(page.policy_names().iter().cloned());
        }
        Ok(Answer {
            value: names,
            request_id,
        })
    }

    async fn put_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<super::Applied, AwsError> {
        let out = self
            .client
            .put_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam", "PutRolePolicy", &self.region, &e))?;
        Ok(super::Applied::done(out.request_id()))
    }

    async fn delete_role_policy(
        &self,
        role_name: &str,
        policy_name: &str,
    ) -> Result<super::Applied, AwsError> {
        let out = self
            .client
            .delete_role_policy()
            .role_name(role_name)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("iam", "DeleteRolePolicy", &self.region, &e))?;
        Ok(super::Applied::done(out.request_id()))
    }
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn policy_documents_are_url_decoded() {
        assert_eq!(
            super::decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(super::decode_policy(r#"{"a":1}"#), r#"{"a":1}"#);
    }
}
