//! Auto Scaling: the `AutoScalingApi` trait and its SDK implementation.

use std::future::Future;

use super::AwsError;

/// An instance's membership in an Auto Scaling group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgMembership {
    pub instance_id: String,
    pub group_name: String,
    /// `InService`, `Standby`, `Pending`, …
    pub lifecycle_state: String,
    pub protected_from_scale_in: bool,
}

/// The Auto Scaling calls breakglass makes.
pub trait AutoScalingApi: Send + Sync {
    /// Group membership of the given instances (instances in no group are absent).
    fn describe_auto_scaling_instances(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<Vec<AsgMembership>, AwsError>> + Send;
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

impl AutoScalingApi for AutoScaling {
    async fn describe_auto_scaling_instances(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AsgMembership>, AwsError> {
        let mut found = Vec::new();
        for chunk in instance_ids.chunks(IDS_PER_CALL) {
            let mut pages = self
                .client
                .describe_auto_scaling_instances()
                .set_instance_ids(Some(chunk.to_vec()))
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
                found.extend(page.auto_scaling_instances().iter().filter_map(|d| {
                    Some(AsgMembership {
                        instance_id: d.instance_id()?.to_owned(),
                        group_name: d.auto_scaling_group_name()?.to_owned(),
                        lifecycle_state: d.lifecycle_state().unwrap_or("unknown").to_owned(),
                        protected_from_scale_in: d.protected_from_scale_in().unwrap_or(false),
                    })
                }));
            }
        }
        Ok(found)
    }
}
