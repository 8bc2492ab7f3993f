//! SSM: the `SsmApi` trait and its SDK implementation (managed-instance inventory and the
//! parameters where isolation records are kept).

use std::future::Future;

use aws_sdk_ssm::types::InstanceInformationStringFilter;
use futures::{StreamExt, TryStreamExt};

use aws_types::request_id::RequestId;

use super::{Answer, Applied, AwsError};

/// The SSM agent's view of one managed instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedInstance {
    pub instance_id: String,
    /// `Online`, `ConnectionLost` or `Inactive`.
    pub ping_status: String,
    pub agent_version: Option<String>,
    pub platform_name: Option<String>,
    /// `Linux`, `Windows` or `MacOS`.
    pub platform_type: Option<String>,
}

/// The SSM calls breakglass makes.
pub trait SsmApi: Send + Sync {
    /// Agent status of the given instances (those SSM does not manage are absent).
    fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<Vec<ManagedInstance>, AwsError>> + Send;

    /// `GetParameter`: the value, or `None` when there is no such parameter.
    fn get_parameter(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Answer<Option<String>>, AwsError>> + Send;

    /// `DescribeSessions`: the active Session Manager sessions to `target`
    /// (`(session id, owner)`).
    fn describe_active_sessions(
        &self,
        target: &str,
    ) -> impl Future<Output = Result<Answer<Vec<(String, String)>>, AwsError>> + Send;

    fn terminate_session(
        &self,
        session_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `ListCommands`: ids of the commands still pending or running on the instance.
    fn list_running_commands(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Vec<String>>, AwsError>> + Send;

    fn cancel_command(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `PutParameter` (String, overwriting; Advanced tier above 4 KB).
    fn put_parameter(
        &self,
        name: &str,
        value: &str,
        description: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

/// Largest value of a Standard-tier parameter.
const STANDARD_TIER_MAX: usize = 4096;

/// The SDK-backed SSM client for one region.
#[derive(Debug, Clone)]
pub struct Ssm {
    client: aws_sdk_ssm::Client,
    region: String,
}

impl Ssm {
    pub fn new(client: aws_sdk_ssm::Client, region: &str) -> Self {
        Ssm {
            client,
            region: region.to_owned(),
        }
    }

    pub(super) fn client(&self) -> &aws_sdk_ssm::Client {
        &self.client
    }

    pub(super) fn region(&self) -> &str {
        &self.region
    }
}

/// The API accepts at most 50 instance ids per filter.
const IDS_PER_CALL: usize = 50;
/// Chunks of instance ids asked for at the same time.
const CHUNKS_AT_ONCE: usize = 4;

impl Ssm {
    /// DescribeInstanceInformation for at most [`IDS_PER_CALL`] instances.
    async fn information_chunk(&self, chunk: &[String]) -> Result<Vec<ManagedInstance>, AwsError> {
        let mut found = Vec::new();
        let filter = InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .set_values(Some(chunk.to_vec()))
            .build()
            .map_err(|e| {
                AwsError::from_sdk::<aws_sdk_ssm::Error>(
                    "ssm",
                    "DescribeInstanceInformation",
                    &self.region,
                    &aws_smithy_runtime_api::client::result::SdkError::construction_failure(e),
                )
            })?;
        let mut pages = self
            .client
            .describe_instance_information()
            .filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk("ssm", "DescribeInstanceInformation", &self.region, &e)
            })?;
            found.extend(page.instance_information_list().iter().filter_map(|info| {
                Some(ManagedInstance {
                    instance_id: info.instance_id()?.to_owned(),
                    ping_status: info
                        .ping_status()
                        .map_or_else(|| "unknown".to_owned(), |p| p.as_str().to_owned()),
                    agent_version: info.agent_version().map(str::to_owned),
                    platform_name: info.platform_name().map(str::to_owned),
                    platform_type: info.platform_type().map(|p| p.as_str().to_owned()),
                })
            }));
        }
        Ok(found)
    }
}

impl SsmApi for Ssm {
    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<ManagedInstance>, AwsError> {
        // Chunks are asked for side by side: thousands of instances are tens of calls.
        let chunks: Vec<Vec<ManagedInstance>> =
            futures::stream::iter(instance_ids.chunks(IDS_PER_CALL).map(<[String]>::to_vec))
                .map(|chunk| async move { self.information_chunk(&chunk).await })
                .buffer_unordered(CHUNKS_AT_ONCE)
                .try_collect()
                .await?;
        Ok(chunks.into_iter().flatten().collect())
    }

    async fn get_parameter(&self, name: &str) -> Result<Answer<Option<String>>, AwsError> {
        match self.client.get_parameter().name(name).send().await {
            Ok(out) => Ok(Answer {
                value: out.parameter().and_then(|p| p.value()).map(str::to_owned),
                request_id: out.request_id().map(str::to_owned),
            }),
            Err(err) => {
                let error = AwsError::from_sdk("ssm", "GetParameter", &self.region, &err);
                if error.code.as_deref() == Some("ParameterNotFound") {
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

    async fn put_parameter(
        &self,
        name: &str,
        value: &str,
        description: &str,
    ) -> Result<Applied, AwsError> {
        let tier = if value.len() > STANDARD_TIER_MAX {
            aws_sdk_ssm::types::ParameterTier::Advanced
        } else {
            aws_sdk_ssm::types::ParameterTier::Standard
        };
        let out = self
            .client
            .put_parameter()
            .name(name)
            .value(value)
            .description(description)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .tier(tier)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "PutParameter", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn describe_active_sessions(
        &self,
        target: &str,
    ) -> Result<Answer<Vec<(String, String)>>, AwsError> {
        use aws_sdk_ssm::types::{SessionFilter, SessionFilterKey, SessionState};
        let mut sessions = Vec::new();
        let mut request_id = None;
        let mut pages = self
            .client
            .describe_sessions()
            .state(SessionState::Active)
            .filters(
                SessionFilter::builder()
                    .key(SessionFilterKey::TargetId)
                    .value(target)
                    .build()
                    .map_err(|e| {
                        AwsError::local(
                            "ssm",
                            "DescribeSessions",
                            super::AwsErrorKind::Other,
                            e.to_string(),
                        )
                    })?,
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ssm", "DescribeSessions", &self.region, &e))?;
            request_id = request_id.or_else(|| page.request_id().map(str::to_owned));
            sessions.extend(page.sessions().iter().filter_map(|s| {
                Some((
                    s.session_id()?.to_owned(),
                    s.owner().unwrap_or("unknown").to_owned(),
                ))
            }));
        }
        Ok(Answer {
            value: sessions,
            request_id,
        })
    }

    async fn terminate_session(&self, session_id: &str) -> Result<Applied, AwsError> {
        let out = self
            .client
            .terminate_session()
            .session_id(session_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "TerminateSession", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn list_running_commands(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Vec<String>>, AwsError> {
        let out = self
            .client
            .list_commands()
            .instance_id(instance_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "ListCommands", &self.region, &e))?;
        Ok(Answer {
            value: out
                .commands()
                .iter()
                .filter(|c| {
                    matches!(
                        c.status().map(|s| s.as_str()),
                        Some("Pending" | "InProgress")
                    )
                })
                .filter_map(|c| c.command_id().map(str::to_owned))
                .collect(),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn cancel_command(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .cancel_command()
            .command_id(command_id)
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "CancelCommand", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }
}
