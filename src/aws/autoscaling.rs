//! Auto Scaling: the `AutoScalingApi` trait and its SDK implementation.

use futures::{StreamExt, TryStreamExt};
use std::future::Future;

use aws_types::request_id::RequestId;

use super::{Answer, Applied, AwsError};

/// An instance's membership in an Auto Scaling group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgMembership {
    pub instance_id: String,
    pub group_name: String,
    /// `InService`, `Standby`, `Pending`, …
    pub lifecycle_state: String,
    pub protected_from_scale_in: bool,
}

/// A group's identity and sizes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgGroup {
    pub arn: Option<String>,
    pub min_size: i32,
    pub max_size: i32,
    pub desired_capacity: i32,
    /// The group's instances with their lifecycle states.
    pub instances: Vec<(String, String)>,
}

impl AsgGroup {
    /// Instances the group counts toward its desired capacity: neither on standby nor
    /// on their way out.
    pub fn counted(&self) -> usize {
        self.instances
            .iter()
            .filter(|(_, state)| {
                !(state.starts_with("Standby")
                    || state.starts_with("EnteringStandby")
                    || state.starts_with("Terminat")
                    || state.starts_with("Detach"))
            })
            .count()
    }
}

/// The Auto Scaling calls breakglass makes.
pub trait AutoScalingApi: Send + Sync {
    /// Group membership of the given instances (instances in no group are absent).
    fn describe_auto_scaling_instances(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<Vec<AsgMembership>, AwsError>> + Send;

    /// One instance's membership (`None` when it is in no group), with the request id.
    fn describe_membership(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Option<AsgMembership>>, AwsError>> + Send;

    /// A group's ARN and sizes (`None` when it does not exist).
    fn describe_group(
        &self,
        group_name: &str,
    ) -> impl Future<Output = Result<Answer<Option<AsgGroup>>, AwsError>> + Send;

    /// `UpdateAutoScalingGroup` with a new maximum size and, when given, desired capacity.
    fn resize_group(
        &self,
        group_name: &str,
        max_size: i32,
        desired_capacity: Option<i32>,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `EnterStandby` without lowering the desired capacity (the group launches a
    /// replacement).
    fn enter_standby(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn exit_standby(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// `DetachInstances` without lowering the desired capacity.
    fn detach_instance(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    fn attach_instance(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;

    /// Sets or clears scale-in protection of one instance in `group_name`.
    fn set_instance_protection(
        &self,
        group_name: &str,
        instance_id: &str,
        protected: bool,
    ) -> impl Future<Output = Result<Applied, AwsError>> + Send;
}

/// The SDK-backed Auto Scaling client for one region.
#[derive(Debug, Clone)]
pub struct AutoScaling {
    client: aws_sdk_autoscaling::Client,
    region: String,
}

impl AutoScaling {
    pub fn new(client: aws_sdk_autoscaling::Client, region: &str) -> Self {
        AutoScaling {
            client,
            region: region.to_owned(),
        }
    }

    /// The underlying SDK client, for tests and seeding.
    pub fn client(&self) -> &aws_sdk_autoscaling::Client {
        &self.client
    }
}

/// The API accepts at most 50 instance ids per call.
const IDS_PER_CALL: usize = 50;

/// Chunks of instance ids asked for at the same time.
const CHUNKS_AT_ONCE: usize = 4;

impl AutoScaling {
    /// DescribeAutoScalingInstances for at most [`IDS_PER_CALL`] instances.
    async fn memberships_chunk(&self, chunk: Vec<String>) -> Result<Vec<AsgMembership>, AwsError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .describe_auto_scaling_instances()
            .set_instance_ids(Some(chunk))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsError::from_sdk(
                    "autoscaling",
                    "DescribeAutoScalingInstances",
                    &self.region,
                    &e,
                )
            })?;
            found.extend(
                page.auto_scaling_instances()
                    .iter()
                    .filter_map(to_membership),
            );
        }
        Ok(found)
    }
}

impl AutoScalingApi for AutoScaling {
    async fn describe_auto_scaling_instances(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AsgMembership>, AwsError> {
        // Chunks are asked for side by side: thousands of instances are tens of calls.
        let chunks: Vec<Vec<AsgMembership>> =
            futures::stream::iter(instance_ids.chunks(IDS_PER_CALL).map(<[String]>::to_vec))
                .map(|chunk| async move { self.memberships_chunk(chunk).await })
                .buffer_unordered(CHUNKS_AT_ONCE)
                .try_collect()
                .await?;
        Ok(chunks.into_iter().flatten().collect())
    }

    async fn describe_membership(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Option<AsgMembership>>, AwsError> {
        let out = self
            .client
            .describe_auto_scaling_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    "autoscaling",
                    "DescribeAutoScalingInstances",
                    &self.region,
                    &e,
                )
            })?;
        Ok(Answer {
            value: out
                .auto_scaling_instances()
                .iter()
                .filter_map(to_membership)
                .find(|m| m.instance_id == instance_id),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn describe_group(&self, group_name: &str) -> Result<Answer<Option<AsgGroup>>, AwsError> {
        let out = self
            .client
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(group_name)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("autoscaling", "DescribeAutoScalingGroups", &self.region, &e)
            })?;
        Ok(Answer {
            value: out
                .auto_scaling_groups()
                .iter()
                .find(|g| g.auto_scaling_group_name() == Some(group_name))
                .map(|g| AsgGroup {
                    arn: g.auto_scaling_group_arn().map(str::to_owned),
                    min_size: g.min_size().unwrap_or_default(),
                    max_size: g.max_size().unwrap_or_default(),
                    desired_capacity: g.desired_capacity().unwrap_or_default(),
                    instances: g
                        .instances()
                        .iter()
                        .filter_map(|i| {
                            Some((
                                i.instance_id()?.to_owned(),
                                i.lifecycle_state()?.as_str().to_owned(),
                            ))
                        })
                        .collect(),
                }),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn resize_group(
        &self,
        group_name: &str,
        max_size: i32,
        desired_capacity: Option<i32>,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .update_auto_scaling_group()
            .auto_scaling_group_name(group_name)
            .max_size(max_size)
            .set_desired_capacity(desired_capacity)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("autoscaling", "UpdateAutoScalingGroup", &self.region, &e)
            })?;
        Ok(Applied::done(out.request_id()))
    }

    async fn set_instance_protection(
        &self,
        group_name: &str,
        instance_id: &str,
        protected: bool,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .set_instance_protection()
            .auto_scaling_group_name(group_name)
            .instance_ids(instance_id)
            .protected_from_scale_in(protected)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("autoscaling", "SetInstanceProtection", &self.region, &e)
            })?;
        Ok(Applied::done(out.request_id()))
    }

    async fn enter_standby(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .enter_standby()
            .auto_scaling_group_name(group_name)
            .instance_ids(instance_id)
            .should_decrement_desired_capacity(false)
            .customize()
            .config_override(super::retry::autoscaling_once())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("autoscaling", "EnterStandby", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn exit_standby(&self, group_name: &str, instance_id: &str) -> Result<Applied, AwsError> {
        let out = self
            .client
            .exit_standby()
            .auto_scaling_group_name(group_name)
            .instance_ids(instance_id)
            .customize()
            .config_override(super::retry::autoscaling_once())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("autoscaling", "ExitStandby", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn detach_instance(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .detach_instances()
            .auto_scaling_group_name(group_name)
            .instance_ids(instance_id)
            .should_decrement_desired_capacity(false)
            .customize()
            .config_override(super::retry::autoscaling_once())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("autoscaling", "DetachInstances", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }

    async fn attach_instance(
        &self,
        group_name: &str,
        instance_id: &str,
    ) -> Result<Applied, AwsError> {
        let out = self
            .client
            .attach_instances()
            .auto_scaling_group_name(group_name)
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("autoscaling", "AttachInstances", &self.region, &e))?;
        Ok(Applied::done(out.request_id()))
    }
}

fn to_membership(
    d: &aws_sdk_autoscaling::types::AutoScalingInstanceDetails,
) -> Option<AsgMembership> {
    Some(AsgMembership {
        instance_id: d.instance_id()?.to_owned(),
        group_name: d.auto_scaling_group_name()?.to_owned(),
        lifecycle_state: d.lifecycle_state().unwrap_or("unknown").to_owned(),
        protected_from_scale_in: d.protected_from_scale_in().unwrap_or(false),
    })
}
